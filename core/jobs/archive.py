"""The archive of finished videos: every completed reel's files copied out of HeyGen before its links expire.

HeyGen's presigned links (video, captioned video, thumbnail, subtitles, GIF) expire after 7 days and
HeyGen may delete videos, so the worker copies each completed reel's files into an
:class:`~core.jobs.archive_store.ArchiveStore` (a folder under ``DATA_DIR``, or S3 through s3fs).

Per reel, one :class:`~core.models.ReelArchive` row holds the state — ``pending`` (waiting or being
copied), ``archived``, ``failed`` (``reason`` in one sentence; retried after an exponential backoff
of :data:`BACKOFF_BASE_S` doubling up to :data:`BACKOFF_MAX_S`), ``deleted`` (retention) — and one
:class:`~core.models.ArchivedFile` row per file its key, size in bytes and SHA-256.

Rules:

- A worker claims a reel with a conditional UPDATE (``claimed_until`` lapses after
  :data:`CLAIM_S` seconds if it dies), so two workers never copy the same reel.
- Idempotent: a file whose row exists and whose object has the recorded size is not fetched again;
  a re-download with the same SHA-256 as the recorded one commits nothing.
- A link that answers 403/404/410 is refreshed once per try with ``GET /v3/videos/{id}``.
- Frame size and duration come from the archived MP4 itself (:func:`core.jobs.archive_download.probe`).
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any
from urllib.parse import urljoin

import requests
from sqlalchemy import and_, delete, func, or_, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session, sessionmaker

from core.access.actor import Actor
from core.access.permissions import Action, require, require_reel
from core.heygen.errors import HeyGenError, NotFoundError
from core.jobs import lifecycle
from core.jobs.archive_download import DownloadError, LinkExpiredError, Opener, download, open_append, probe
from core.jobs.archive_store import ArchiveStore, ArchiveStoreError
from core.models import ArchivedFile, Reel, ReelArchive, ReelEvent, utcnow
from core.reels import drafts, validation

log = logging.getLogger(__name__)

#: ``(kind, reel column, file name)`` of every file archived when HeyGen provides it.
FILES = (
    ("video", "video_url", "video.mp4"),
    ("captioned", "captioned_video_url", "captioned.mp4"),
    ("thumbnail", "thumbnail_url", "thumbnail.jpg"),
    ("subtitles", "subtitle_url", "subtitles.srt"),
    ("gif", "gif_url", "preview.gif"),
)
#: First retry delay after a failed try, in seconds; doubles per try up to :data:`BACKOFF_MAX_S`.
BACKOFF_BASE_S = 30.0
BACKOFF_MAX_S = 3600.0
#: How long a worker's claim on a reel lasts without renewal, in seconds (renewed after each file).
CLAIM_S = 900.0


def backoff_s(tries: int) -> float:
    """Seconds to wait after the ``tries``-th failed try in a row (1 → 30 s, 2 → 60 s, … ≤ 1 h)."""
    return min(BACKOFF_MAX_S, BACKOFF_BASE_S * 2 ** max(0, tries - 1))


@dataclass(frozen=True)
class ArchiveOutcome:
    """What :func:`archive_reel` did: ``state`` afterwards (``skipped`` when another worker holds the reel
    or it is not due), ``reason`` one sentence when failed, ``copied`` files fetched this time,
    ``bytes_copied`` their bytes."""

    reel_id: int
    state: str
    reason: str | None = None
    copied: int = 0
    bytes_copied: int = 0


# --------------------------------------------------------------------------- scheduling


def _due_clause(now: datetime) -> Any:
    unclaimed = or_(ReelArchive.claimed_until.is_(None), ReelArchive.claimed_until < now)
    retry_due = and_(ReelArchive.state == "failed", ReelArchive.next_try_at.is_not(None),
                     ReelArchive.next_try_at <= now)
    return or_(ReelArchive.reel_id.is_(None), and_(unclaimed, or_(ReelArchive.state == "pending", retry_due)))


def due(session: Session, *, now: datetime | None = None, limit: int = 20) -> list[int]:
    """Completed reels to archive now, oldest completion first: no archive row yet, ``pending`` and not
    claimed, or ``failed`` whose backoff has passed."""
    now = now or utcnow()
    rows = session.execute(
        select(Reel.id).outerjoin(ReelArchive, ReelArchive.reel_id == Reel.id)
        .where(Reel.status == "completed", Reel.video_id.is_not(None), _due_clause(now))
        .order_by(Reel.completed_at, Reel.id).limit(limit)
    ).scalars()
    return list(rows)


def missing(session: Session) -> list[int]:
    """Completed reels with no archive yet, or one that is pending or failed (the backfill's list)."""
    rows = session.execute(
        select(Reel.id).outerjoin(ReelArchive, ReelArchive.reel_id == Reel.id)
        .where(Reel.status == "completed", Reel.video_id.is_not(None),
               or_(ReelArchive.reel_id.is_(None), ReelArchive.state.in_(("pending", "failed"))))
        .order_by(Reel.completed_at, Reel.id)
    ).scalars()
    return list(rows)


def claim(session: Session, reel_id: int, *, holder: str, now: datetime, force: bool = False) -> bool:
    """Claim reel ``reel_id`` for copying (creates its ``pending`` row when missing). Commits.

    ``force`` (the backfill and the "Archive now" button) also takes a ``failed`` reel before its backoff
    has passed. Returns False when another worker holds it or it is not due.
    """
    if session.get(ReelArchive, reel_id) is None:
        try:
            with session.begin_nested():
                session.add(ReelArchive(reel_id=reel_id, state="pending", updated_at=now))
        except IntegrityError:
            pass  # another worker created it first
    unclaimed = or_(ReelArchive.claimed_until.is_(None), ReelArchive.claimed_until < now)
    if force:
        condition = and_(unclaimed, ReelArchive.state.in_(("pending", "failed", "archived")))
    else:
        condition = _due_clause(now)
    result = session.execute(
        update(ReelArchive).where(ReelArchive.reel_id == reel_id, condition)
        .values(claimed_by=holder[:100], claimed_until=now + timedelta(seconds=CLAIM_S))
        .execution_options(synchronize_session=False)
    )
    session.commit()
    return result.rowcount == 1


# --------------------------------------------------------------------------- copying


@dataclass
class _Copy:
    """Mutable state of one try: what was copied and what the video probe said."""

    copied: int = 0
    bytes_copied: int = 0
    probe: Any = None
    refreshed: bool = False
    rows: dict[str, ArchivedFile] = field(default_factory=dict)


def archive_reel(
    session_factory: sessionmaker, store: ArchiveStore, client: Any, reel_id: int, *, actor: Actor,
    http: requests.Session | None = None, timeout_s: float = 30.0, force: bool = False,
    clock: Callable[[], datetime] = utcnow, opener: Opener = open_append,
) -> ArchiveOutcome:
    """Copy every file of completed reel ``reel_id`` into ``store`` and record the result.

    Claims the reel first (see :func:`claim`); each file streams to a spool file, is verified (length,
    SHA-256) and committed atomically, and its :class:`ArchivedFile` row is written. An expired link is
    refreshed once with ``GET /v3/videos/{video_id}`` (``client.get_video``). Any failure ends the try
    with state ``failed``, a one-sentence ``reason`` and ``next_try_at`` after :func:`backoff_s`; files
    already committed stay. Never raises for download, store or HeyGen errors. ``actor`` is recorded in the
    claim and the audit trail.

    Raises:
        PermissionDenied: ``actor`` may not archive (only the worker, Reel Studio itself and admins may).

    Returns:
        :class:`ArchiveOutcome`.
    """
    require(actor, Action.ARCHIVE_VIDEOS)
    with session_factory() as session:
        if not claim(session, reel_id, holder=actor.name, now=clock(), force=force):
            return ArchiveOutcome(reel_id, "skipped")
        reel = session.get(Reel, reel_id)
        if reel is None or reel.status != "completed" or not reel.video_id:
            session.execute(delete(ReelArchive).where(ReelArchive.reel_id == reel_id))
            session.commit()
            return ArchiveOutcome(reel_id, "skipped")
        work = _Copy(rows={f.kind: f for f in session.execute(
            select(ArchivedFile).where(ArchivedFile.reel_id == reel_id)).scalars()})
        try:
            _copy_files(session, store, client, reel, work, actor=actor, http=http, timeout_s=timeout_s,
                        clock=clock, opener=opener)
        except (DownloadError, ArchiveStoreError, HeyGenError, OSError) as exc:
            session.rollback()
            reason, retry = _failure_reason(exc)
            _record_failure(session, reel_id, reason, retry=retry, now=clock())
            log.warning("archive of reel %s failed: %s", reel_id, reason)
            return ArchiveOutcome(reel_id, "failed", reason, work.copied, work.bytes_copied)
        _record_success(session, reel, work, actor=actor, now=clock())
        return ArchiveOutcome(reel_id, "archived", None, work.copied, work.bytes_copied)


def _copy_files(session: Session, store: ArchiveStore, client: Any, reel: Reel, work: _Copy, *, actor: Actor,
                http: requests.Session | None, timeout_s: float, clock: Callable[[], datetime],
                opener: Opener) -> None:
    base = getattr(client, "base_url", "") + "/"
    for kind, column, name in FILES:
        url = getattr(reel, column)
        if not url:
            continue
        url = urljoin(base, url)  # a sandbox may give paths relative to its own address
        key = store.key_for(reel.video_id, name)
        row = work.rows.get(kind)
        if row is not None and row.key == key and store.size(key) == row.size_bytes:
            continue  # already archived: nothing to fetch
        spool = store.spool_path(key)
        try:
            got = download(url, spool, http=http, timeout_s=timeout_s, opener=opener)
        except LinkExpiredError:
            if work.refreshed:
                raise
            reel = _refresh(session, client, reel, actor)
            work.refreshed = True
            url = getattr(reel, column)
            if not url:
                continue
            got = download(urljoin(base, url), spool, http=http, timeout_s=timeout_s, opener=opener)
        if kind == "video":
            work.probe = _probe_quietly(spool)
        if row is not None and row.sha256 == got.sha256 and store.size(key) == got.size_bytes:
            spool.unlink(missing_ok=True)  # same bytes already stored: nothing to commit
            continue
        store.commit(spool, key)
        _save_file(session, reel.id, kind, key, got, row, now=clock())
        work.copied += 1
        work.bytes_copied += got.size_bytes
        session.execute(update(ReelArchive).where(ReelArchive.reel_id == reel.id)
                        .values(claimed_until=clock() + timedelta(seconds=CLAIM_S))
                        .execution_options(synchronize_session=False))
        session.commit()


def _refresh(session: Session, client: Any, reel: Reel, actor: Actor) -> Reel:
    """Fresh presigned links for ``reel`` (``GET /v3/videos/{id}``); the reel row is updated."""
    try:
        return lifecycle.refresh_links(session, client, reel.id, actor=actor)
    except NotFoundError:
        raise DownloadError("HeyGen no longer has this video, so it cannot be archived.", retry=False) from None


def _probe_quietly(path: Any) -> Any:
    try:
        return probe(path)
    except DownloadError as exc:
        log.warning("could not probe %s: %s", path, exc)
        return None


def _save_file(session: Session, reel_id: int, kind: str, key: str, got: Any, row: ArchivedFile | None,
               *, now: datetime) -> None:
    values = {"key": key, "size_bytes": got.size_bytes, "sha256": got.sha256,
              "content_type": (got.content_type or "")[:100] or None, "archived_at": now}
    if row is None:
        session.add(ArchivedFile(reel_id=reel_id, kind=kind, **values))
    else:
        session.execute(update(ArchivedFile).where(ArchivedFile.id == row.id).values(**values)
                        .execution_options(synchronize_session=False))


def _failure_reason(exc: BaseException) -> tuple[str, bool]:
    if isinstance(exc, DownloadError):
        return str(exc), exc.retry
    if isinstance(exc, ArchiveStoreError):
        return str(exc), True
    if isinstance(exc, HeyGenError):
        return f"HeyGen could not give fresh links ({exc.code}); the copy will be tried again later.", True
    return f"The archive file could not be written ({type(exc).__name__}).", True


def _record_failure(session: Session, reel_id: int, reason: str, *, retry: bool, now: datetime) -> None:
    tries = (session.execute(select(ReelArchive.tries).where(ReelArchive.reel_id == reel_id)).scalar() or 0) + 1
    next_try = now + timedelta(seconds=backoff_s(tries)) if retry else None
    session.execute(update(ReelArchive).where(ReelArchive.reel_id == reel_id).values(
        state="failed", reason=reason[:500], tries=tries, next_try_at=next_try, claimed_by=None,
        claimed_until=None, updated_at=now).execution_options(synchronize_session=False))
    _touch(session, reel_id, now)
    session.commit()


def _record_success(session: Session, reel: Reel, work: _Copy, *, actor: Actor, now: datetime) -> None:
    total = session.execute(select(func.coalesce(func.sum(ArchivedFile.size_bytes), 0))
                            .where(ArchivedFile.reel_id == reel.id)).scalar_one()
    values: dict[str, Any] = {"state": "archived", "reason": None, "tries": 0, "next_try_at": None,
                              "claimed_by": None, "claimed_until": None, "video_id": reel.video_id,
                              "total_bytes": int(total), "updated_at": now}
    if work.copied:
        values["archived_at"] = now
    if work.probe is not None:
        values.update(width=work.probe.width, height=work.probe.height, duration_s=work.probe.duration_s)
    previous = session.get(ReelArchive, reel.id)
    first_time = previous is not None and previous.state != "archived"
    session.execute(update(ReelArchive).where(ReelArchive.reel_id == reel.id).values(**values)
                    .execution_options(synchronize_session=False))
    if first_time or work.copied:
        _note(session, reel, actor,
                        detail=f"archived {work.copied} file(s), {int(total):,} bytes in the archive", now=now)
        _touch(session, reel.id, now)
    session.commit()


def _note(session: Session, reel: Reel, actor: Actor, *, detail: str, now: datetime) -> None:
    """An audit-trail event for an archive fact (same status before and after), by ``actor``. Does not commit."""
    session.add(ReelEvent(reel_id=reel.id, at=now, actor=actor.name, actor_id=actor.user_id, from_status=reel.status,
                          to_status=reel.status, detail=detail))


def _touch(session: Session, reel_id: int, now: datetime) -> None:
    """Bump ``reels.updated_at`` so the incremental board re-reads this reel's archive state."""
    session.execute(update(Reel).where(Reel.id == reel_id).values(updated_at=now)
                    .execution_options(synchronize_session=False))


# --------------------------------------------------------------------------- deleting and retention


def delete_archive(session: Session, store: ArchiveStore, reel_id: int) -> int:
    """Remove reel ``reel_id``'s files from ``store`` and its archive rows. Commits. Returns files removed.

    Call it before deleting the reel itself: when the store cannot be reached this raises and nothing
    is deleted, so no file is left behind without its reel.

    Raises:
        ArchiveStoreError: the store could not delete the files.
    """
    keys = list(session.execute(select(ArchivedFile.key).where(ArchivedFile.reel_id == reel_id)).scalars())
    store.delete(keys)
    session.execute(delete(ArchivedFile).where(ArchivedFile.reel_id == reel_id))
    session.execute(delete(ReelArchive).where(ReelArchive.reel_id == reel_id))
    session.commit()
    return len(keys)


def delete_reel(session: Session, store: ArchiveStore, reel_id: int, *, actor: Actor) -> int:
    """Delete reel ``reel_id`` (see :func:`core.reels.drafts.delete_reel`) and its archived files. Commits.

    The files go first: when the store cannot delete them the reel stays, so nothing is left in the
    store without its reel. Returns the number of archived files removed.

    Raises:
        PermissionDenied: ``actor`` may not delete this reel (nothing deleted).
        core.reels.validation.ReelNotFoundError / ReelStateError: as ``drafts.delete_reel`` (nothing deleted).
        ArchiveStoreError: the store could not delete the files (the reel stays).
    """
    reel = drafts.get_reel(session, reel_id)  # raises for an unknown reel before anything is removed
    require_reel(actor, Action.DELETE_REEL, reel)  # before any file goes
    if reel.status not in validation.DELETABLE_STATUSES:
        drafts.delete_reel(session, reel_id, actor=actor)  # raises the one-sentence ReelStateError
    removed = delete_archive(session, store, reel_id)
    drafts.delete_reel(session, reel_id, actor=actor)
    session.commit()
    return removed


def request_archive(session: Session, reel_id: int, *, actor: Actor, now: datetime | None = None) -> bool:
    """Ask the worker to (re)try archiving completed reel ``reel_id`` in its next cycle. Commits.

    A ``failed`` or ``deleted`` archive becomes ``pending`` with no backoff; an ``archived`` one is left
    alone. Returns True when something changed.
    """
    require(actor, Action.REFRESH_LINKS)  # like refreshing a link: anyone with a role may ask
    now = now or utcnow()
    reel = session.get(Reel, reel_id)
    if reel is None or reel.status != "completed":
        return False
    row = session.get(ReelArchive, reel_id)
    if row is not None and row.state in ("archived", "pending"):
        return False
    if row is None:
        session.add(ReelArchive(reel_id=reel_id, state="pending", updated_at=now))
    else:
        session.execute(update(ReelArchive).where(ReelArchive.reel_id == reel_id).values(
            state="pending", reason=None, next_try_at=None, updated_at=now)
            .execution_options(synchronize_session=False))
    _note(session, reel, actor, detail="archive requested", now=now)
    _touch(session, reel_id, now)
    session.commit()
    return True


def apply_retention(session: Session, store: ArchiveStore, *, days: int, actor: Actor,
                    now: datetime | None = None) -> int:
    """Delete the files of reels completed more than ``days`` days ago (0 = keep forever). Commits.

    Their archive state becomes ``deleted`` with a reason, so they are not archived again.
    Returns the number of reels whose files were removed.

    Raises:
        PermissionDenied: ``actor`` may not archive (only the worker, Reel Studio itself and admins may).
        ArchiveStoreError: the store could not delete the files (the reels stay archived).
    """
    require(actor, Action.ARCHIVE_VIDEOS)
    if days <= 0:
        return 0
    now = now or utcnow()
    cutoff = now - timedelta(days=days)
    ids = list(session.execute(
        select(ReelArchive.reel_id).join(Reel, Reel.id == ReelArchive.reel_id)
        .where(ReelArchive.state == "archived", Reel.completed_at < cutoff)
    ).scalars())
    for reel_id in ids:
        keys = list(session.execute(select(ArchivedFile.key).where(ArchivedFile.reel_id == reel_id)).scalars())
        store.delete(keys)
        session.execute(delete(ArchivedFile).where(ArchivedFile.reel_id == reel_id))
        session.execute(update(ReelArchive).where(ReelArchive.reel_id == reel_id).values(
            state="deleted", reason=f"Removed after the {days}-day retention period.", total_bytes=0,
            updated_at=now).execution_options(synchronize_session=False))
        _touch(session, reel_id, now)
        session.commit()
    return len(ids)


# --------------------------------------------------------------------------- reading


@dataclass(frozen=True)
class FileView:
    """One archived file as pages show it: ``key``, ``size_bytes``, ``sha256``, ``content_type``."""

    kind: str
    key: str
    size_bytes: int
    sha256: str
    content_type: str | None


@dataclass(frozen=True)
class ArchiveView:
    """A reel's archive for pages: ``state`` (``pending`` also when there is no row yet), ``reason``,
    times aware UTC, ``width``/``height`` pixels and ``duration_s`` seconds probed from the file,
    ``total_bytes`` bytes, ``files`` by kind."""

    reel_id: int
    state: str
    reason: str | None
    archived_at: datetime | None
    next_try_at: datetime | None
    tries: int
    width: int | None
    height: int | None
    duration_s: float | None
    total_bytes: int | None
    files: dict[str, FileView]


def archive_of(session: Session, reel_id: int) -> ArchiveView:
    """The archive of reel ``reel_id`` (state ``pending`` with no files when nothing was recorded yet)."""
    row = session.get(ReelArchive, reel_id)
    files = {f.kind: FileView(f.kind, f.key, f.size_bytes, f.sha256, f.content_type)
             for f in session.execute(select(ArchivedFile).where(ArchivedFile.reel_id == reel_id)).scalars()}
    if row is None:
        return ArchiveView(reel_id, "pending", None, None, None, 0, None, None, None, None, files)
    return ArchiveView(reel_id, row.state, row.reason, row.archived_at, row.next_try_at, row.tries, row.width,
                       row.height, row.duration_s, row.total_bytes, files)


def states(session: Session, reel_ids: Iterable[int]) -> dict[int, tuple[str, str | None]]:
    """``{reel_id: (state, reason)}`` for the given reels (reels without a row are left out)."""
    ids = list(reel_ids)
    if not ids:
        return {}
    rows = session.execute(select(ReelArchive.reel_id, ReelArchive.state, ReelArchive.reason)
                           .where(ReelArchive.reel_id.in_(ids))).all()
    return {reel_id: (state, reason) for reel_id, state, reason in rows}


@dataclass(frozen=True)
class ArchiveSummary:
    """Totals for Settings: ``archived`` reels, ``files`` and ``bytes`` in the store, ``pending`` and
    ``failed`` reels (completed reels without an archive count as pending)."""

    archived: int
    files: int
    bytes: int
    pending: int
    failed: int


def summary(session: Session) -> ArchiveSummary:
    """Archive totals in three queries."""
    files, size = session.execute(select(func.count(ArchivedFile.id),
                                         func.coalesce(func.sum(ArchivedFile.size_bytes), 0))).one()
    counts = dict(session.execute(select(ReelArchive.state, func.count()).group_by(ReelArchive.state)).all())
    unrecorded = session.execute(
        select(func.count(Reel.id)).outerjoin(ReelArchive, ReelArchive.reel_id == Reel.id)
        .where(Reel.status == "completed", Reel.video_id.is_not(None), ReelArchive.reel_id.is_(None))
    ).scalar_one()
    return ArchiveSummary(counts.get("archived", 0), int(files), int(size),
                          counts.get("pending", 0) + int(unrecorded), counts.get("failed", 0))
