"""Finished videos: listing, details and media files (HeyGen's presigned links expire).

A finished video plays and downloads from the archive (:mod:`core.jobs.archive`) once it is
there — a file on this machine, or a short-lived presigned link of the object store — and from
HeyGen's link only before that (:func:`media`). Length, frame size and file size are those
measured on the archived file. HeyGen's media is fetched with
:meth:`core.heygen.HeyGenClient.download`, a plain GET that never sends the API key. Sizes in
bytes, durations seconds, money USD, pixels.
"""

from __future__ import annotations

import re
import tempfile
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import requests
from sqlalchemy import select
from sqlalchemy.orm import Session

from core.board import rows as board_rows
from core.board.rows import BoardRow
from core.jobs import archive as jobs_archive
from core.jobs.archive import ArchiveView
from core.jobs.archive_store import ArchiveStore
from core.models import Reel, ReelAttempt, utcnow
from core.reels.drafts import display_title
from core.reels.versions import attempt_scripts

#: Short side in pixels per HeyGen ``resolution``.
SHORT_SIDE = {"720p": 720, "1080p": 1080, "4k": 2160}
#: Links expiring within this margin are treated as expired (a download takes time).
EXPIRY_MARGIN = timedelta(minutes=2)
_SAFE = re.compile(r"[^A-Za-z0-9_.-]+")


def finished_videos(session: Session, *, owner: str | None = None, query: str = "", limit: int = 500) -> list[BoardRow]:
    """Completed reels, newest activity first (one query)."""
    return board_rows.board(session, statuses=("completed",), owner=owner or None, query=query, limit=limit)


def dimensions(aspect_ratio: str, resolution: str) -> tuple[int, int] | None:
    """Requested frame size ``(width, height)`` in pixels, e.g. ``("16:9", "1080p")`` → ``(1920, 1080)``.

    ``None`` for ``aspect_ratio="auto"`` (HeyGen keeps the source ratio) or unknown values.
    """
    short = SHORT_SIDE.get(resolution)
    match = re.fullmatch(r"(\d+):(\d+)", aspect_ratio or "")
    if short is None or match is None:
        return None
    w, h = int(match.group(1)), int(match.group(2))
    if w >= h:
        return round(short * w / h), short
    return short, round(short * h / w)


def browser_can_fetch(url: str | None) -> bool:
    """True for an absolute http(s) URL on another machine (a browser anywhere can load it);
    False for relative paths and loopback hosts such as the sandbox's ``127.0.0.1``."""
    if not url:
        return False
    parts = urlsplit(url)
    return parts.scheme in ("http", "https") and (parts.hostname or "") not in ("127.0.0.1", "localhost", "::1")


def links_expired(reel: Any, now: datetime | None = None) -> bool:
    """True when the reel has no video link or its links expire within :data:`EXPIRY_MARGIN`."""
    if not getattr(reel, "video_url", None):
        return True
    expires = getattr(reel, "links_expire_at", None)
    return expires is not None and expires - EXPIRY_MARGIN <= (now or utcnow())


@dataclass(frozen=True)
class SaidScene:
    """What one scene of a launched attempt said: its 1-based ``number``, the script ``text`` and who saved
    that version (``actor``) when (``at``, aware UTC), and how (``source``: edit, draft, restore, …)."""

    number: int
    text: str
    actor: str
    at: datetime
    source: str
    label: str = ""


@dataclass(frozen=True)
class VideoDetails:
    """What the Videos page shows about one finished reel.

    ``duration_s`` seconds and ``width``/``height`` pixels: measured on the archived MP4 when
    ``measured``, else HeyGen's duration and the requested frame size (``None`` for ``auto``);
    ``size_bytes`` the archived MP4's size; ``cost_usd`` the estimate at launch (HeyGen bills at
    completion); times aware UTC; ``archive`` the reel's :class:`~core.jobs.archive.ArchiveView`.
    ``said``: each scene's script as the current attempt sent it (empty for reels launched before
    script history).
    """

    reel_id: int
    title: str
    owner: str
    video_id: str | None
    duration_s: float | None
    width: int | None
    height: int | None
    aspect_ratio: str
    resolution: str
    engine: str
    captions: bool
    created_at: datetime | None
    completed_at: datetime | None
    cost_usd: float | None
    attempt: int
    links_expire_at: datetime | None
    video_url: str | None
    captioned_video_url: str | None
    subtitle_url: str | None
    thumbnail_url: str | None
    video_page_url: str | None
    said: tuple[SaidScene, ...] = ()
    archive: ArchiveView | None = None
    measured: bool = False
    size_bytes: int | None = None
    owner_id: int | None = None


def video_details(session: Session, reel_id: int) -> VideoDetails | None:
    """Details of reel ``reel_id`` (``None`` when it does not exist)."""
    reel = session.get(Reel, reel_id)
    if reel is None:
        return None
    size = dimensions(reel.aspect_ratio, reel.resolution)
    kept = jobs_archive.archive_of(session, reel_id)
    video = kept.files.get("video")
    measured = video is not None and kept.width is not None
    if measured:
        size = (kept.width, kept.height)
    return VideoDetails(
        reel_id=reel.id, title=display_title(reel.title, reel.id), owner=reel.owner, video_id=reel.video_id,
        duration_s=kept.duration_s if measured and kept.duration_s else reel.duration_s,
        width=size[0] if size else None, height=size[1] if size else None,
        aspect_ratio=reel.aspect_ratio, resolution=reel.resolution, engine=reel.engine, captions=reel.captions,
        created_at=reel.created_at, completed_at=reel.completed_at, cost_usd=reel.estimated_cost_usd,
        attempt=reel.attempt, links_expire_at=reel.links_expire_at, video_url=reel.video_url,
        captioned_video_url=reel.captioned_video_url, subtitle_url=reel.subtitle_url,
        thumbnail_url=reel.thumbnail_url, video_page_url=reel.video_page_url, said=_said(session, reel),
        archive=kept, measured=measured, size_bytes=video.size_bytes if video else None, owner_id=reel.owner_id,
    )


def _said(session: Session, reel: Reel) -> tuple[SaidScene, ...]:
    attempt = session.scalars(select(ReelAttempt).where(ReelAttempt.reel_id == reel.id,
                                                        ReelAttempt.number == reel.attempt)).first()
    if attempt is None:
        return ()
    return tuple(SaidScene(n, v.text, v.actor, v.at, v.source, v.label)
                 for n, v in enumerate(attempt_scripts(session, attempt), start=1))


#: HeyGen's link of each archived kind of file (the fallback before archiving).
_HEYGEN_LINK = {"video": "video_url", "captioned": "captioned_video_url", "subtitles": "subtitle_url",
                "thumbnail": "thumbnail_url"}


@dataclass(frozen=True)
class Media:
    """Where one file of a finished video is read from.

    ``source``: ``"archive"`` or ``"heygen"``; ``path`` a file on this machine (local archive) or
    ``None``; ``url`` a presigned archive link valid for a short while, or HeyGen's link, or ``None``;
    ``size_bytes``, ``sha256`` and the store ``key`` as recorded when archived (``None`` for HeyGen's link).
    """

    kind: str
    source: str
    path: Path | None
    url: str | None
    size_bytes: int | None = None
    sha256: str | None = None
    key: str | None = None


def media(store: ArchiveStore | None, d: VideoDetails, kind: str, *, expires_s: int = 300,
          download_name: str | None = None) -> Media | None:
    """The archived ``kind`` of file (``video``, ``captioned``, ``subtitles``, ``thumbnail``) of ``d``, else
    HeyGen's link for it, else ``None``.

    A remote archive gives a presigned link valid ``expires_s`` seconds. An archived file missing from
    the store falls back to HeyGen's link. ``download_name``: the presigned link makes the browser save the
    file under that name instead of playing it.

    Raises:
        core.jobs.archive_store.ArchiveStoreError: the remote store could not sign a link.
    """
    kept = d.archive.files.get(kind) if d.archive else None
    if kept is not None and store is not None:
        path = store.local_path(kept.key)
        if path is not None:
            return Media(kind, "archive", path, None, kept.size_bytes, kept.sha256, kept.key)
        url = None if store.local else store.browser_url(kept.key, expires_s=expires_s, download_name=download_name)
        if url:
            return Media(kind, "archive", None, url, kept.size_bytes, kept.sha256, kept.key)
    link = getattr(d, _HEYGEN_LINK[kind]) if kind in _HEYGEN_LINK else None
    return Media(kind, "heygen", None, link) if link else None


def media_bytes(client: Any, item: Media) -> bytes:
    """The content of ``item``: read from the local archive, or fetched from its link (no API key sent).

    Raises:
        OSError: the local file could not be read; core.heygen.HeyGenError: the link could not be fetched.
    """
    if item.path is not None:
        return item.path.read_bytes()
    return fetch_bytes(client, item.url or "")


def file_name(title: str, video_id: str | None, suffix: str) -> str:
    """A safe download name such as ``Spring_launch-3f9a2c1d.mp4``."""
    stem = _SAFE.sub("_", title).strip("_")[:60] or "reel"
    tail = f"-{video_id[:8]}" if video_id else ""
    return f"{stem}{tail}{suffix}"


def local_copy(client: Any, url: str, folder: Path, name: str) -> Path:
    """The media at ``url`` saved as ``folder/name``, downloaded only when not there yet.

    Raises:
        core.heygen.HeyGenError: the download failed (``NotFoundError``/``PermissionDeniedError``
            when the presigned link expired).
    """
    path = folder / _SAFE.sub("_", name)
    if path.is_file() and path.stat().st_size > 0:
        return path
    return client.download(url, path)


def fetch_bytes(client: Any, url: str) -> bytes:
    """The media at ``url`` as bytes, through a temporary file (never cached, no API key sent).

    Raises:
        core.heygen.HeyGenError: as :meth:`~core.heygen.HeyGenClient.download`.
    """
    with tempfile.TemporaryDirectory(prefix="reel-media-") as folder:
        return client.download(url, Path(folder) / "media").read_bytes()


def remote_size(url: str, *, timeout_s: float = 5.0) -> int | None:
    """Size in bytes of the media at ``url`` without downloading it, or ``None`` when unknown.

    Sends ``GET`` with ``Range: bytes=0-0`` (presigned links allow GET only) and reads the total
    from ``Content-Range``, else ``Content-Length`` of a full answer. No API key is sent.
    """
    try:
        with requests.get(url, headers={"Range": "bytes=0-0"}, stream=True, timeout=timeout_s) as response:
            if response.status_code == 206:
                total = response.headers.get("Content-Range", "").rpartition("/")[2]
                return int(total) if total.isdigit() else None
            if response.ok and response.headers.get("Content-Length", "").isdigit():
                return int(response.headers["Content-Length"])
    except requests.RequestException:
        return None
    return None


def human_size(size: int | None) -> str:
    """``"4.2 MB"`` style (powers of 1,000); ``"—"`` for ``None``."""
    if size is None:
        return "—"
    value = float(size)
    for unit in ("bytes", "kB", "MB", "GB"):
        if value < 1000 or unit == "GB":
            return f"{value:,.0f} {unit}" if unit == "bytes" else f"{value:,.1f} {unit}"
        value /= 1000
    return f"{value:,.1f} GB"
