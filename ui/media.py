"""Playing and downloading a finished video, archive first (shared by Videos and Share).

Once archived, a video plays and downloads from the archive: a file on this server (served by
Streamlit) or a short-lived presigned link of the object store that the browser fetches itself.
Before that, HeyGen's link is used: directly when the browser can reach it, else through a local
copy (the sandbox listens on the server's loopback only).
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import streamlit as st

from core.board import videos as core_videos
from core.board.videos import Media, VideoDetails, browser_can_fetch, file_name, links_expired
from core.heygen.errors import HeyGenError
from core.jobs.archive_store import ArchiveStoreError
from core.runtime import Runtime


@st.cache_data(ttl=600, max_entries=128, show_spinner=False)
def _heygen_subtitles(_runtime: Runtime, video_id: str, url: str) -> bytes | None:
    """HeyGen's SRT of a video, or ``None`` when it cannot be fetched (the player then has no captions)."""
    try:
        return core_videos.fetch_bytes(_runtime.client, url)
    except HeyGenError:
        return None


@st.cache_data(ttl=3600, max_entries=128, show_spinner=False)
def _archived_bytes(_runtime: Runtime, _item: Media, sha256: str) -> bytes | None:
    """An archived small file (subtitles) by its checksum, or ``None`` when it cannot be read."""
    try:
        return core_videos.media_bytes(_runtime.client, _item)
    except (OSError, HeyGenError):
        return None


@st.cache_data(ttl=3600, max_entries=256, show_spinner=False)
def _remote_size(video_id: str, url: str) -> int | None:
    """Size in bytes of a remote MP4 (one ranged GET), remembered per video for an hour."""
    return core_videos.remote_size(url)


def find(runtime: Runtime, d: VideoDetails, kind: str, *, download_name: str | None = None) -> Media | None:
    """:func:`core.board.videos.media` with the runtime's store; a store error is shown and gives ``None``."""
    try:
        return core_videos.media(runtime.archive, d, kind, expires_s=runtime.settings.archive_link_seconds,
                                 download_name=download_name)
    except ArchiveStoreError as exc:
        st.warning(f"{exc} Playing HeyGen's copy instead.", icon=":material/cloud_off:")
        return None


def _subtitles(runtime: Runtime, d: VideoDetails) -> bytes | None:
    item = find(runtime, d, "subtitles")
    if item is None:
        return None
    if item.source == "archive":
        return _archived_bytes(runtime, item, item.sha256 or "")
    return _heygen_subtitles(runtime, d.video_id, item.url)


def _local_copy(runtime: Runtime, d: VideoDetails) -> Path:
    """HeyGen's (sandbox) MP4 on this server's disk, downloaded once."""
    return core_videos.local_copy(runtime.client, d.video_url, runtime.settings.data_dir / "videos",
                                  f"{d.video_id}.mp4")


def player(runtime: Runtime, d: VideoDetails) -> int | None:
    """Draw the player, archive first; returns the MP4's size in bytes when known."""
    video = find(runtime, d, "video")
    srt = _subtitles(runtime, d)
    if video is not None and video.source == "archive":
        st.video(str(video.path) if video.path else video.url, subtitles=srt)
        return video.size_bytes
    if links_expired(d):
        st.warning("HeyGen's download links for this video have expired and it is not archived yet. Press "
                   "**Refresh link** to get new ones (one request to HeyGen).", icon=":material/link_off:")
        return None
    if browser_can_fetch(d.video_url):
        st.video(d.video_url, subtitles=srt)
        return _remote_size(d.video_id, d.video_url)
    try:
        path = _local_copy(runtime, d)
    except HeyGenError as exc:
        st.warning(f"The video could not be fetched for playing. {exc} Press **Refresh link** below.",
                   icon=":material/link_off:")
        return None
    st.video(str(path), subtitles=srt)
    return path.stat().st_size


def _reader(runtime: Runtime, item: Media) -> Callable[[], bytes]:
    return lambda: core_videos.media_bytes(runtime.client, item)


#: ``(kind, label, file suffix, mime type, icon)`` of each download button.
_DOWNLOADS = (
    ("video", "MP4", ".mp4", "video/mp4", ":material/download:"),
    ("captioned", "MP4 with captions", "-captioned.mp4", "video/mp4", ":material/closed_caption:"),
    ("subtitles", "Subtitles (SRT)", ".srt", "application/x-subrip", ":material/subtitles:"),
)


def download_buttons(runtime: Runtime, d: VideoDetails, cells, *, key: str) -> None:
    """One download per available file in the next of ``cells``: from the archive when it is there (a
    presigned link opens directly), else from HeyGen's link (fetched without the API key)."""
    for kind, label, suffix, mime, icon in _DOWNLOADS:
        name = file_name(d.title, d.video_id, suffix)
        item = find(runtime, d, kind, download_name=name)
        if item is None:
            continue
        where = "the archive" if item.source == "archive" else "HeyGen (fetched without your API key)"
        cell = next(cells)
        if item.source == "archive" and item.url:  # a presigned link: the browser downloads it itself
            cell.link_button(label, item.url, icon=icon, width="stretch", help=f"Download from {where}")
            continue
        cell.download_button(label, data=_reader(runtime, item), file_name=name,
                             mime=mime, icon=icon, on_click="ignore", key=f"{key}_{kind}", width="stretch",
                             help=f"Download from {where}")
