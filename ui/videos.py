"""The Videos page: watch finished reels, download the MP4 and subtitles, refresh expired links.

The selected video is in the URL (``?vid_reel=<reel id>``), so a link opens the same video.
Media is fetched with the HeyGen client's ``download()``: a plain GET without the API key.
In sandbox mode the MP4 is copied to ``DATA_DIR/videos`` once and served by Streamlit
(the sandbox listens on the server's loopback only); in live mode the browser plays
HeyGen's presigned URL directly.
"""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import streamlit as st

from core.access.actor import Actor
from core.access.permissions import PermissionDenied
from core.board import videos as core_videos
from core.board.rows import BoardRow
from core.board.text import human_ago, human_duration
from core.board.videos import VideoDetails, browser_can_fetch, file_name, human_size, links_expired
from core.heygen.errors import HeyGenError
from core.jobs import lifecycle
from core.reels.drafts import display_title
from core.reels.validation import ENGINE_LABELS
from core.runtime import Runtime
from ui.frame import FrameContext
from ui.links import browser_timezone, page_link
from ui.text import plain

SELECT_KEY = "vid_reel"
_URL_SEEN = "_vid_reel_url"
_NOTICE = "_vid_notice"


@st.cache_data(ttl=2, max_entries=64, show_spinner=False)
def video_rows(_runtime: Runtime, db_url: str, owner: str, query: str) -> list[BoardRow]:
    """Completed reels (newest first) for the filters, shared by tabs for 2 s."""
    with _runtime.session_factory() as session:
        return core_videos.finished_videos(session, owner=owner or None, query=query)


@st.cache_data(ttl=2, max_entries=64, show_spinner=False)
def details(_runtime: Runtime, db_url: str, reel_id: int) -> VideoDetails | None:
    """One reel's details (see :class:`core.board.videos.VideoDetails`)."""
    with _runtime.session_factory() as session:
        return core_videos.video_details(session, reel_id)


@st.cache_data(ttl=600, max_entries=128, show_spinner=False)
def subtitles(_runtime: Runtime, video_id: str, url: str) -> bytes | None:
    """The SRT file of a video, or ``None`` when it cannot be fetched (the player then has no captions)."""
    try:
        return core_videos.fetch_bytes(_runtime.client, url)
    except HeyGenError:
        return None


@st.cache_data(ttl=3600, max_entries=256, show_spinner=False)
def remote_size(video_id: str, url: str) -> int | None:
    """Size in bytes of a remote MP4 (one ranged GET), remembered per video for an hour."""
    return core_videos.remote_size(url)


def _media_folder(runtime: Runtime) -> Path:
    return runtime.settings.data_dir / "videos"


def _local_mp4(runtime: Runtime, d: VideoDetails) -> Path:
    """The sandbox MP4 on this server's disk (downloaded once)."""
    return core_videos.local_copy(runtime.client, d.video_url, _media_folder(runtime), f"{d.video_id}.mp4")


# --------------------------------------------------------------------------- selection


def _choose(rows: list[BoardRow]) -> int:
    """The selected reel id: from the URL when it was changed from outside, else the selectbox."""
    ids = [r.id for r in rows]
    state = st.session_state
    raw = st.query_params.get(SELECT_KEY)
    if raw and raw != state.get(_URL_SEEN) and raw.isdigit() and int(raw) in ids:
        state[SELECT_KEY] = int(raw)
    if state.get(SELECT_KEY) not in ids:
        state[SELECT_KEY] = ids[0]
    titles = {r.id: f"{display_title(r.title, r.id)} · {human_duration(r.duration_s)} · {r.owner or 'no owner'}"
              for r in rows}
    choice = st.selectbox("Video", ids, format_func=titles.get, key=SELECT_KEY)
    if raw != str(choice):
        st.query_params[SELECT_KEY] = str(choice)
    state[_URL_SEEN] = str(choice)
    return choice


# --------------------------------------------------------------------------- actions


def _refresh(runtime: Runtime, reel_id: int, actor: Actor) -> None:
    """on_click: fresh presigned links from HeyGen (GET /v3/videos/{id}); the outcome is shown once."""
    try:
        with runtime.session_factory() as session:
            lifecycle.refresh_links(session, runtime.client, reel_id, actor=actor)
        st.session_state[_NOTICE] = ("success", "Fresh download links are ready.")
    except (HeyGenError, LookupError, PermissionDenied) as exc:
        st.session_state[_NOTICE] = ("error", f"The links could not be refreshed. {exc}")
    details.clear()
    video_rows.clear()


def _mp4_maker(runtime: Runtime, d: VideoDetails, url: str):
    def make() -> bytes:
        local = _media_folder(runtime) / f"{d.video_id}.mp4"
        if url == d.video_url and local.is_file():
            return local.read_bytes()
        return core_videos.fetch_bytes(runtime.client, url)

    return make


def _srt_maker(runtime: Runtime, url: str):
    return lambda: core_videos.fetch_bytes(runtime.client, url)


# --------------------------------------------------------------------------- drawing


def _player(runtime: Runtime, d: VideoDetails, actor: Actor) -> int | None:
    """Draw the player; returns the MP4 size in bytes when known."""
    srt = subtitles(runtime, d.video_id, d.subtitle_url) if d.subtitle_url else None
    if browser_can_fetch(d.video_url):
        st.video(d.video_url, subtitles=srt)
        return remote_size(d.video_id, d.video_url)
    try:
        path = _local_mp4(runtime, d)
    except HeyGenError as exc:
        st.warning(f"The video could not be fetched for playing. {exc} Press **Refresh link** below.",
                   icon=":material/link_off:")
        return None
    st.video(str(path), subtitles=srt)
    return path.stat().st_size


def _downloads(runtime: Runtime, d: VideoDetails, actor: Actor) -> None:
    buttons = 2 + bool(d.captioned_video_url) + bool(d.subtitle_url)
    cells = iter([cell for _ in range((buttons + 1) // 2) for cell in st.columns(2)])  # filled in order, no gaps
    next(cells).download_button("MP4", data=_mp4_maker(runtime, d, d.video_url),
                                file_name=file_name(d.title, d.video_id, ".mp4"), mime="video/mp4",
                                icon=":material/download:", on_click="ignore", key="vid_dl_mp4", width="stretch",
                                help="Download the video file (fetched without your API key)")
    if d.captioned_video_url:
        next(cells).download_button("MP4 with captions", data=_mp4_maker(runtime, d, d.captioned_video_url),
                                    file_name=file_name(d.title, d.video_id, "-captioned.mp4"), mime="video/mp4",
                                    icon=":material/closed_caption:", on_click="ignore", key="vid_dl_captioned",
                                    width="stretch")
    if d.subtitle_url:
        next(cells).download_button("Subtitles (SRT)", data=_srt_maker(runtime, d.subtitle_url),
                                    file_name=file_name(d.title, d.video_id, ".srt"), mime="application/x-subrip",
                                    icon=":material/subtitles:", on_click="ignore", key="vid_dl_srt", width="stretch")
    next(cells).button("Refresh link", key="vid_refresh", icon=":material/sync:", on_click=_refresh,
                       args=(runtime, d.reel_id, actor), width="stretch",
                       help="Ask HeyGen for new download links (they expire after a few days)")


def _details(d: VideoDetails, size: int | None) -> None:
    c1, c2 = st.columns(2)
    c3, c4 = st.columns(2)
    c1.metric("Length", human_duration(d.duration_s) if d.duration_s else "—",
              help=f"{d.duration_s:.1f} seconds" if d.duration_s else None)
    c2.metric("Dimensions", f"{d.width}×{d.height}" if d.width else "source ratio",
              help=f"{d.aspect_ratio} at {d.resolution} as requested")
    c3.metric("File size", human_size(size))
    c4.metric("Cost", f"${d.cost_usd:,.2f}" if d.cost_usd is not None else "—",
              help="Estimated at launch from HeyGen's price list; HeyGen bills when the render completes")
    created = d.created_at.strftime("%Y-%m-%d %H:%M UTC") if d.created_at else "—"
    completed = d.completed_at.strftime("%Y-%m-%d %H:%M UTC") if d.completed_at else "—"
    expires = (f"links valid until {d.links_expire_at:%Y-%m-%d %H:%M} UTC" if d.links_expire_at else "")
    st.caption(f"Created {created} · completed {completed} ({human_ago(d.completed_at)}) · owner {d.owner or '—'} · "
               f"engine {ENGINE_LABELS.get(d.engine, d.engine)} · attempt {d.attempt} · video_id `{d.video_id}`" + (f" · {expires}" if expires else ""))


def _said(d: VideoDetails) -> None:
    """Exactly what each scene said in this render: the script versions its attempt sent."""
    if not d.said:
        return
    with st.expander(f"What was said ({len(d.said)} scene{'s' * (len(d.said) != 1)})", icon=":material/subject:"):
        for scene in d.said:
            st.caption(f"Scene {scene.number} · version saved by {plain(scene.actor or 'someone')} "
                       f"{human_ago(scene.at)} ({scene.at:%Y-%m-%d %H:%M} UTC)")
            st.text(scene.text)


def _gallery(rows: list[BoardRow], tz: str) -> None:
    st.subheader("All finished videos", anchor=False)
    frame = pd.DataFrame({
        "thumbnail": [r.thumbnail_url for r in rows],
        "title": [display_title(r.title, r.id) for r in rows],
        "owner": [r.owner for r in rows],
        "duration_s": [r.duration_s for r in rows],
        "completed": pd.to_datetime([r.completed_at for r in rows], utc=True),
        "id": [r.id for r in rows],
    })
    cc = st.column_config
    st.dataframe(frame, hide_index=True, column_config={
        "thumbnail": cc.ImageColumn("Preview", width="small"),
        "title": cc.TextColumn("Title", width="medium"),
        "owner": cc.TextColumn("Owner", width="small"),
        "duration_s": cc.NumberColumn("Length", format="%.0f s", width="small"),
        "completed": cc.DatetimeColumn("Finished", format="distance", timezone=tz, width="small"),
        "id": cc.NumberColumn("Reel", format="#%d", width="small", help="Reel number in Reel Studio"),
    })


def render(ctx: FrameContext) -> None:
    """The whole Videos page."""
    runtime = ctx.runtime
    st.title("Videos", anchor=False)
    st.caption("Finished reels: watch them, download the MP4 and subtitles, and get fresh links when HeyGen's "
               "expire." + (" Sandbox videos are local placeholders, not real HeyGen renders." if ctx.settings.sandbox
                            else ""))
    c1, c2 = st.columns([3, 1], vertical_alignment="bottom")
    query = c1.text_input("Search", key="vid_q", bind="query-params", placeholder="Title, owner or video_id")
    mine = c2.toggle("Only my videos", key="vid_mine", bind="query-params")
    rows = video_rows(runtime, runtime.settings.db_url, ctx.user if mine and ctx.user else "", (query or "").strip())
    if not rows:
        if query or mine:
            st.info("No finished video matches. Clear the search to see all videos.", icon=":material/search_off:")
        else:
            st.info("No finished videos yet. Launch a reel on Compose; it appears here when HeyGen has rendered it.",
                    icon=":material/video_library:")
            page_link("pages/4_Status.py", "See what is rendering", icon=":material/monitoring:")
        return
    reel_id = _choose(rows)
    d = details(runtime, runtime.settings.db_url, reel_id)
    if d is None:
        st.warning("This reel no longer exists.", icon=":material/help:")
        return
    notice = st.session_state.pop(_NOTICE, None)
    if notice:
        (st.success if notice[0] == "success" else st.error)(notice[1])
    st.subheader(d.title, anchor=False)
    left, right = st.columns([3, 2], gap="large")
    with left:
        if links_expired(d):
            st.warning("HeyGen's download links for this video have expired. Press **Refresh link** to get new "
                       "ones (one request to HeyGen).", icon=":material/link_off:")
            size = None
        else:
            size = _player(runtime, d, ctx.actor)
    with right:
        _details(d, size)
        _downloads(runtime, d, ctx.actor)
        if d.video_page_url and not ctx.settings.sandbox:
            st.link_button("Open on HeyGen", d.video_page_url, icon=":material/open_in_new:")
        _said(d)
    _gallery(rows, browser_timezone())
