"""The status board's rows: one indexed query, the pandas table the page shows, counts and a reel's history.

Everything here reads the database only (never HeyGen). Times are aware UTC datetimes,
durations seconds, money USD.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

import numpy as np
import pandas as pd
from sqlalchemy import Select, String, func, or_, select, type_coerce
from sqlalchemy.orm import Session

from core import models
from core.board import timing
from core.board.text import QUEUED_TEXT, eta_text, human_duration, status_label
from core.board.timing import RenderTimeModel, is_stuck, render_time_model
from core.models import REEL_STATUSES, Reel, ReelArchive, ReelAttempt, ReelEvent, utcnow
from core.reels.drafts import UNTITLED

#: Most rows the board shows at once (newest activity first).
BOARD_LIMIT = 20_000


@dataclass(frozen=True)
class BoardRow:
    """One line of the status board. Times aware UTC; seconds; USD; ``progress`` 0..1."""

    id: int
    title: str
    owner: str
    status: str
    attempt: int
    video_id: str | None
    created_at: datetime | None
    updated_at: datetime | None
    queued_at: datetime | None
    submitted_at: datetime | None
    processing_at: datetime | None
    completed_at: datetime | None
    estimated_duration_s: float | None
    estimated_cost_usd: float | None
    duration_s: float | None
    video_url: str | None
    thumbnail_url: str | None
    links_expire_at: datetime | None
    failure_code: str | None
    failure_message: str | None
    progress: float = 0.0
    stuck: bool = False


_BOARD_COLUMNS = [c for c in BoardRow.__dataclass_fields__ if c not in ("progress", "stuck")]


def board_filters(
    stmt: Select,
    *,
    statuses: Sequence[str] = (),
    owner: str | None = None,
    since: datetime | None = None,
    until: datetime | None = None,
    query: str = "",
    batch_id: int | None = None,
) -> Select:
    """The board's filters and order on a ``SELECT … FROM reels``: newest activity first.

    ``statuses`` any of; ``owner`` exact; ``since``/``until`` bound ``updated_at`` (until
    exclusive); ``query`` a case-insensitive substring of title, owner or video_id; ``batch_id``
    the reels of one batch. Templates are never on the board.
    """
    stmt = stmt.where(Reel.is_template.is_(False))
    if batch_id is not None:
        stmt = stmt.where(Reel.batch_id == batch_id)
    if statuses:
        stmt = stmt.where(Reel.status.in_(list(statuses)))
    if owner:
        stmt = stmt.where(Reel.owner == owner)
    if since is not None:
        stmt = stmt.where(Reel.updated_at >= since)
    if until is not None:
        stmt = stmt.where(Reel.updated_at < until)
    if query.strip():
        pattern = f"%{query.strip()}%"
        stmt = stmt.where(or_(Reel.title.ilike(pattern), Reel.owner.ilike(pattern), Reel.video_id.ilike(pattern)))
    return stmt.order_by(Reel.updated_at.desc(), Reel.id.desc())


def board(
    session: Session,
    *,
    statuses: Sequence[str] = (),
    owner: str | None = None,
    since: datetime | None = None,
    query: str = "",
    limit: int | None = None,
    model: RenderTimeModel | None = None,
    now: datetime | None = None,
    stuck_after_minutes: float = 30.0,
) -> list[BoardRow]:
    """Reels for the status board, newest activity first, in one indexed query (no HeyGen calls).

    Filters: ``statuses`` (any of), ``owner`` (exact), ``since`` (updated at or after),
    ``query`` (case-insensitive substring of title, owner or video_id), ``limit`` rows.
    ``progress`` and ``stuck`` come from ``model`` (default: :func:`render_time_model`,
    one more small query).
    """
    model = model or render_time_model(session)
    now = now or utcnow()
    stmt = board_filters(select(*(getattr(Reel, c) for c in _BOARD_COLUMNS)),
                         statuses=statuses, owner=owner, since=since, query=query)
    if limit:
        stmt = stmt.limit(limit)
    rows = []
    for row in session.execute(stmt).mappings():
        base = BoardRow(**row)
        rows.append(BoardRow(**{**row, "progress": model.progress(base, now),
                                "stuck": is_stuck(base, model, now, stuck_after_minutes)}))
    return rows


def status_counts(session: Session) -> dict[str, int]:
    """Number of reels per status, every status present (0 when none): one GROUP BY query."""
    counts = dict.fromkeys(REEL_STATUSES, 0)
    for status, count in session.execute(select(Reel.status, func.count()).where(Reel.is_template.is_(False))
                                         .group_by(Reel.status)):
        counts[status] = count
    return counts


def history(session: Session, reel_id: int) -> list[ReelEvent]:
    """The reel's events in the order they happened (oldest first)."""
    return list(session.scalars(select(ReelEvent).where(ReelEvent.reel_id == reel_id).order_by(ReelEvent.id)))


def attempts(session: Session, reel_id: int) -> list[ReelAttempt]:
    """The reel's attempts, first to last."""
    return list(session.scalars(
        select(ReelAttempt).where(ReelAttempt.reel_id == reel_id).order_by(ReelAttempt.number)
    ))


@dataclass(frozen=True)
class BoardFilter:
    """What the board shows.

    ``statuses``: any of these (empty = all); ``owner``: exact owner (empty = everyone);
    ``start``/``end``: last activity (``updated_at``) on or after ``start`` and on or before
    ``end`` (whole days in ``tz``); ``query``: case-insensitive text in title, owner or video_id;
    ``batch_id``: the reels of one batch (``None`` = any).
    """

    statuses: tuple[str, ...] = ()
    owner: str = ""
    start: date | None = None
    end: date | None = None
    query: str = ""
    tz: str = "UTC"
    batch_id: int | None = None


def day_bounds(start: date | None, end: date | None, tz: str = "UTC") -> tuple[datetime | None, datetime | None]:
    """``(since, until)`` aware UTC datetimes covering whole days ``start``..``end`` in ``tz`` (until exclusive)."""
    zone = ZoneInfo(tz)
    since = datetime.combine(start, time.min, zone).astimezone(UTC) if start else None
    until = datetime.combine(end + timedelta(days=1), time.min, zone).astimezone(UTC) if end else None
    return since, until


#: Columns of :func:`load_board`'s table, in display order.
FRAME_COLUMNS = [
    "id", "title", "owner", "status_label", "status_tags", "stage", "progress", "submitted", "updated", "duration_s",
    "thumbnail", "video", "failure", "archive", "stuck", "status", "attempt", "video_id", "completed_at",
    "estimated_cost_usd",
]
_FETCH = [
    "id", "title", "owner", "status", "attempt", "video_id", "updated_at", "queued_at", "submitted_at",
    "processing_at", "completed_at", "estimated_duration_s", "estimated_cost_usd", "duration_s", "video_url",
    "thumbnail_url", "failure_code", "failure_message",
]
_TIMES = ("updated_at", "queued_at", "submitted_at", "processing_at", "completed_at")
#: The archive's state and reason (``reel_archives``, outer-joined), fetched after :data:`_FETCH`.
_ARCHIVE_FETCH = {"archive_state": ReelArchive.state, "archive_reason": ReelArchive.reason}
_FETCH_ALL = [*_FETCH, *_ARCHIVE_FETCH]
#: What the ``archive`` column says per archive state of a completed reel (no row yet: pending).
ARCHIVE_TEXT = {"archived": "Archived", "pending": "Archiving…", "failed": "Archive failed",
                "deleted": "Removed (retention)"}


def board_statement(f: BoardFilter, *, limit: int = BOARD_LIMIT, ids: Sequence[int] | None = None) -> Select:
    """The board's one SELECT: :func:`core.board.rows.board`'s filters and order, plus the end of the date range.

    Time columns come back as the driver delivers them (ISO text on SQLite, datetimes on
    PostgreSQL) so that thousands of rows are parsed at once by pandas, not one by one.
    ``ids``: only these reels (those that changed since the last read, for :class:`BoardStore`).
    """
    since, until = day_bounds(f.start, f.end, f.tz)
    columns = [type_coerce(getattr(Reel, c), String).label(c) if c in _TIMES else getattr(Reel, c) for c in _FETCH]
    columns += [column.label(name) for name, column in _ARCHIVE_FETCH.items()]
    stmt = select(*columns).select_from(Reel).outerjoin(ReelArchive, ReelArchive.reel_id == Reel.id)
    if ids is not None:
        stmt = stmt.where(Reel.id.in_(list(ids)))
    stmt = board_filters(stmt, statuses=f.statuses, owner=f.owner, since=since, until=until, query=f.query,
                         batch_id=f.batch_id)
    return stmt.limit(limit)


def _minutes_text(seconds: pd.Series) -> pd.Series:
    """:func:`human_duration` of many values of at least a minute (others give ``""``), all at once."""
    minutes = np.round(seconds.where(seconds >= 60) / 60)
    texts = {m: human_duration(m * 60) for m in minutes.dropna().unique()}
    return minutes.map(texts).astype(object).fillna("")


def _stages(raw: pd.DataFrame, stuck: pd.Series, model: RenderTimeModel, now: datetime) -> pd.Series:
    """:func:`stage_text` for every row; only rendering reels need per-row arithmetic."""
    status, attempt = raw["status"], raw["attempt"].fillna(0).astype(int)
    stage = status.map({"draft": "Not launched yet", "queued": QUEUED_TEXT,
                        "submitting": "Sending to HeyGen", "failed": "Failed",
                        "cancelled": "Cancelled before submission"})
    again = attempt > 1
    stage = stage.mask(status.eq("queued") & again, "Queued again (attempt " + attempt.astype(str) + ")")
    stage = stage.mask(status.eq("failed") & again, "Failed (attempt " + attempt.astype(str) + ")")
    done = status.eq("completed")
    if done.any():
        length = raw["duration_s"].where(done & (raw["duration_s"] > 0))
        texts = {d: f"Ready — {human_duration(d)} video" for d in length.dropna().unique()}
        stage = stage.mask(done, length.map(texts).astype(object).fillna("Ready"))
    rendering = status.isin(models.RENDERING_STATUSES)
    if rendering.any():
        verb = status.map({"pending": "Waiting at HeyGen", "processing": "Rendering"})
        length = raw["estimated_duration_s"].where(raw["estimated_duration_s"] > 0, 30.0)
        elapsed = (pd.Timestamp(now) - raw["submitted_at"]).dt.total_seconds()
        soonest = (model.overhead_s + model.low_ratio * length - elapsed).where(rendering)
        latest = (model.overhead_s + model.p90_ratio * length - elapsed).where(rendering)
        text = pd.Series([eta_text(v, lo, hi, model.samples) if r else None for v, lo, hi, r in zip(
            verb.tolist(), soonest.tolist(), latest.tolist(), rendering.tolist(), strict=True)],
            index=raw.index, dtype=object)
        text = text.mask(raw["submitted_at"].isna(), verb)
        stage = stage.mask(rendering, text)
    if stuck.any():
        started = raw["processing_at"].fillna(raw["submitted_at"])
        waited = (pd.Timestamp(now) - started).dt.total_seconds().where(stuck)
        stage = stage.mask(stuck, "⚠️ Stuck — no result after " + _minutes_text(waited))
    return stage.fillna(status)


def raw_frame(rows: Sequence) -> pd.DataFrame:
    """The fetched rows (:data:`_FETCH` columns, then the archive's) as a typed frame: aware UTC times, float
    seconds/USD."""
    columns = list(zip(*rows, strict=True)) if rows else [()] * len(_FETCH_ALL)
    raw = pd.DataFrame({name: pd.Series(values, dtype=object)
                        for name, values in zip(_FETCH_ALL, columns, strict=True)})
    return _typed(raw)


def _typed(raw: pd.DataFrame) -> pd.DataFrame:
    """``raw`` with typed columns (in place): aware UTC times, float seconds/USD, text as objects."""
    for column in _TIMES:
        # One unit for every time column (an all-empty column would otherwise come back in seconds).
        raw[column] = pd.to_datetime(raw[column], utc=True, format="ISO8601").astype("datetime64[us, UTC]")
    for column in ("estimated_duration_s", "estimated_cost_usd", "duration_s"):
        raw[column] = raw[column].astype(float)
    for column in ("title", "failure_message", "failure_code"):  # text even when every value is empty
        raw[column] = raw[column].astype(object)
    return raw


def board_table(raw: pd.DataFrame, model: RenderTimeModel, now: datetime, stuck_after_minutes: float) -> pd.DataFrame:
    """Vectorised :meth:`RenderTimeModel.progress`, :func:`core.board.timing.is_stuck`, labels and texts.

    ``raw``: a :func:`raw_frame` (or rows with :data:`_FETCH` columns as the driver returns them).
    """
    if any(str(raw[column].dtype) != "datetime64[us, UTC]" for column in _TIMES):
        raw = _typed(raw)
    status = raw["status"]
    now_ts = pd.Timestamp(now)
    rendering = status.isin(models.RENDERING_STATUSES)
    length = raw["estimated_duration_s"].where(raw["estimated_duration_s"] > 0, 30.0)
    expected = (model.overhead_s + model.median_ratio * length).clip(lower=1.0)
    ratio = ((now_ts - raw["submitted_at"]).dt.total_seconds() / expected).clip(0.02, 0.95)
    progress = np.select([status.eq("completed"), status.eq("submitting"), rendering & raw["submitted_at"].notna()],
                         [1.0, 0.02, ratio], 0.0)
    started = raw["processing_at"].fillna(raw["submitted_at"])
    limit = (3 * (model.overhead_s + model.stuck_ratio * length)).clip(lower=timing.STUCK_FLOOR_S)
    limit = limit.clip(upper=stuck_after_minutes * 60.0)
    stuck = rendering & started.notna() & ((now_ts - started).dt.total_seconds() > limit)
    has_failure = status.eq("failed") | raw["failure_message"].notna()
    message = raw["failure_message"].fillna("HeyGen gave no reason.").str.strip()
    failure = message.where(raw["failure_code"].isna(), message + " (" + raw["failure_code"].fillna("") + ")")
    labels = {s: status_label(s) for s in status.unique()}
    title = raw["title"].fillna("").str.strip()
    return pd.DataFrame({
        "id": raw["id"],
        "title": title.where(title != "", UNTITLED + raw["id"].astype(str)),  # as drafts.display_title
        "owner": raw["owner"],
        "status_label": status.map(labels),
        "status_tags": status_tags(status, stuck.to_numpy(dtype=bool)),
        "stage": _stages(raw, stuck, model, now),
        "progress": progress.astype(float),
        "submitted": raw["submitted_at"].fillna(raw["queued_at"]),
        "updated": raw["updated_at"],
        "duration_s": raw["duration_s"].where(raw["duration_s"] > 0, raw["estimated_duration_s"]),
        "thumbnail": raw["thumbnail_url"],
        "video": raw["video_url"].where(status.eq("completed"), None),
        "failure": failure.where(has_failure, None),
        "archive": _archive_text(raw, status),
        "stuck": stuck.astype(bool),
        "status": status,
        "attempt": raw["attempt"],
        "video_id": raw["video_id"],
        "completed_at": raw["completed_at"],
        "estimated_cost_usd": raw["estimated_cost_usd"],
    }, columns=FRAME_COLUMNS)


def _archive_text(raw: pd.DataFrame, status: pd.Series) -> pd.Series:
    """:data:`ARCHIVE_TEXT` of completed reels, with the reason of a failed archive; ``None`` for the others."""
    state = raw["archive_state"] if "archive_state" in raw else pd.Series(None, index=raw.index, dtype=object)
    reason = raw["archive_reason"] if "archive_reason" in raw else pd.Series(None, index=raw.index, dtype=object)
    text = state.fillna("pending").map(ARCHIVE_TEXT).astype(object)
    failed = state.eq("failed") & reason.notna()
    text = text.mask(failed, "Archive failed: " + reason.fillna(""))
    return text.where(status.eq("completed"), None)


def load_board(
    session: Session, f: BoardFilter, *, stuck_after_minutes: float = 30.0, now: datetime | None = None,
    limit: int = BOARD_LIMIT,
) -> tuple[pd.DataFrame, RenderTimeModel]:
    """The filtered board as a table with :data:`FRAME_COLUMNS`, and the render-time model used for it.

    Two queries: :func:`core.board.timing.render_time_model`, then :func:`board_statement` (one
    indexed SELECT, no per-row queries). The values equal what :func:`core.board.rows.board`
    gives row by row (``progress``, ``stuck``; checked by the tests), computed for all rows at
    once. ``status_label`` the label, ``status_tags`` ``[status]`` or ``[status, "stuck"]`` (coloured tags); ``stage`` from :func:`stage_text`; ``submitted`` the
    submission, else launch time, and ``updated`` aware UTC; ``duration_s`` the real length when
    finished, else the estimate; ``video`` the MP4 link of completed reels; ``failure`` from
    :func:`failure_reason`; ``archive`` the archive's state of completed reels (:data:`ARCHIVE_TEXT`, with the
    reason when it failed); ``status`` the raw status.
    """
    now = now or utcnow()
    model = timing.render_time_model(session)
    raw = raw_frame(session.execute(board_statement(f, limit=limit)).all())
    return board_table(raw, model, now, stuck_after_minutes), model


_TAG_LISTS: dict[tuple[str, bool], list[str]] = {}


def _tags(status: str, stuck: bool) -> list[str]:
    tags = _TAG_LISTS.get((status, stuck))
    if tags is None:
        tags = _TAG_LISTS.setdefault((status, stuck), [status, "stuck"] if stuck else [status])
    return tags


def status_tags(status: pd.Series, stuck: np.ndarray) -> pd.Series:
    """``[status]`` or ``[status, "stuck"]`` per row (shared lists from :data:`_TAG_LISTS`)."""
    values = np.empty(len(status), dtype=object)
    for n, (name, flag) in enumerate(zip(status.tolist(), stuck.tolist(), strict=True)):
        values[n] = _tags(name, flag)
    return pd.Series(values, index=status.index, name="status_tags", dtype=object)
