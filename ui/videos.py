"""The Videos page: watch finished reels, download the MP4 and subtitles, share, delete.

The selected video is in the URL (``?vid_reel=<reel id>``), so a link opens the same video.
Finished videos play and download from the archive (see :mod:`ui.media`); HeyGen's links,
and "Refresh link", matter only until a video is archived. Length, dimensions and size are
measured on the archived file.
"""

from __future__ import annotations

import pandas as pd
import streamlit as st

from core.access.actor import Actor
from core.access.permissions import Action, PermissionDenied, reel_denial
from core.board import videos as core_videos
from core.board.rows import ARCHIVE_TEXT, BoardRow
from core.board.text import human_ago, human_duration
from core.board.videos import VideoDetails, human_size
from core.heygen.errors import HeyGenError
from core.jobs import archive as jobs_archive
from core.jobs import lifecycle
from core.jobs.archive_store import ArchiveStoreError
from core.reels.drafts import display_title
from core.reels.validation import ENGINE_LABELS, ReelError
from core.runtime import Runtime
from ui import media
from ui.frame import FrameContext
from ui.links import browser_timezone, page_link, share_base
from ui.text import plain

#: The Share page's URL path and query parameter (``pages/8_Share.py``).
SHARE_PATH, SHARE_KEY = "/Share", "reel"

SELECT_KEY = "vid_reel"
_URL_SEEN = "_vid_reel_url"
_NOTICE = "_vid_notice"
_CONFIRM = "_vid_confirm_delete"


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


def _archive_now(runtime: Runtime, reel_id: int, actor: Actor) -> None:
    """on_click: ask the worker to archive this reel in its next cycle (no backoff)."""
    try:
        with runtime.session_factory() as session:
            asked = jobs_archive.request_archive(session, reel_id, actor=actor)
    except PermissionDenied as exc:
        st.session_state[_NOTICE] = ("error", str(exc))
        return
    st.session_state[_NOTICE] = (("success", "The worker will archive this video in its next cycle.") if asked
                                 else ("info", "This video is already archived or being archived."))
    details.clear()


def _delete(runtime: Runtime, reel_id: int, actor: Actor) -> None:
    """on_click of "Delete for good": the reel and its archived files."""
    st.session_state.pop(_CONFIRM, None)
    try:
        with runtime.session_factory() as session:
            removed = jobs_archive.delete_reel(session, runtime.archive, reel_id, actor=actor)
    except (ReelError, ArchiveStoreError, PermissionDenied) as exc:
        st.session_state[_NOTICE] = ("error", f"The reel was not deleted. {exc}")
        return
    st.session_state[_NOTICE] = ("success", f"Deleted the reel and {removed} archived file(s).")
    st.session_state.pop(SELECT_KEY, None)
    st.query_params.pop(SELECT_KEY, None)
    details.clear()
    video_rows.clear()


# --------------------------------------------------------------------------- drawing


def _downloads(ctx: FrameContext, d: VideoDetails) -> None:
    runtime = ctx.runtime
    cells = iter([cell for _ in range(3) for cell in st.columns(2)])  # filled in order, no gaps
    media.download_buttons(runtime, d, cells, key="vid_dl")
    if not d.archive or d.archive.state != "archived":
        next(cells).button("Refresh link", key="vid_refresh", icon=":material/sync:", on_click=_refresh,
                           args=(runtime, d.reel_id, ctx.actor), width="stretch",
                           help="Ask HeyGen for new download links (they expire after 7 days)")
    with next(cells).popover("Share", icon=":material/share:", width="stretch"):
        link = f"{share_base()}{SHARE_PATH}?{SHARE_KEY}={d.reel_id}"
        st.caption("Anyone on the team who may see this reel can watch it at this link (played from the archive):")
        st.code(link, language=None)
    why_not = reel_denial(ctx.actor, Action.DELETE_REEL, d)
    next(cells).button("Delete…", key="vid_delete", icon=":material/delete:", width="stretch",
                       disabled=why_not is not None, help=plain(why_not) if why_not else None,
                       on_click=lambda: st.session_state.update({_CONFIRM: d.reel_id}))
    if st.session_state.get(_CONFIRM) == d.reel_id:
        _confirm_delete(ctx, d)


def _confirm_delete(ctx: FrameContext, d: VideoDetails) -> None:
    files = d.archive.files if d.archive else {}
    size = sum(f.size_bytes for f in files.values())
    kept = f" and its {len(files)} archived file(s) ({human_size(size)})" if files else ""
    with st.container(border=True):
        st.warning(f"Delete “{plain(d.title)}”{kept}? This cannot be undone; the video at HeyGen is not touched.",
                   icon=":material/warning:")
        yes, no = st.columns(2)
        yes.button("Delete for good", type="primary", key="vid_delete_yes", on_click=_delete,
                   args=(ctx.runtime, d.reel_id, ctx.actor), width="stretch")
        no.button("Keep it", key="vid_delete_no", on_click=lambda: st.session_state.pop(_CONFIRM, None),
                  width="stretch")


def archive_caption(ctx: FrameContext, d: VideoDetails) -> None:
    """The archive's state in one line, with "Archive now" when the worker should try again."""
    kept = d.archive
    if kept is None:
        return
    if kept.state == "archived":
        when = f"{kept.archived_at:%Y-%m-%d %H:%M} UTC" if kept.archived_at else "earlier"
        st.caption(f":material/inventory_2: Archived {when} · {len(kept.files)} files, {human_size(kept.total_bytes)}"
                   " · plays from the archive after HeyGen's links expire")
        return
    if kept.state == "failed":
        retry = (f" The worker tries again {human_ago(kept.next_try_at)}." if kept.next_try_at else "")
        st.error(f"Not archived yet: {kept.reason}{retry}", icon=":material/cloud_off:")
    elif kept.state == "deleted":
        st.info(kept.reason or "The archived files were removed.", icon=":material/auto_delete:")
    else:
        st.info("Archiving: the worker is copying this video out of HeyGen.", icon=":material/cloud_upload:")
    if kept.state in ("failed", "deleted"):
        st.button("Archive now", key="vid_archive_now", icon=":material/cloud_upload:", on_click=_archive_now,
                  args=(ctx.runtime, d.reel_id, ctx.actor))


def _details(d: VideoDetails, size: int | None) -> None:
    c1, c2 = st.columns(2)
    c3, c4 = st.columns(2)
    source = "measured on the archived file" if d.measured else "as HeyGen reported; measured once archived"
    c1.metric("Length", human_duration(d.duration_s) if d.duration_s else "—",
              help=f"{d.duration_s:.1f} seconds, {source}" if d.duration_s else None)
    c2.metric("Dimensions", f"{d.width}×{d.height}" if d.width else "source ratio",
              help=(f"Measured on the archived file ({d.aspect_ratio} at {d.resolution} requested)" if d.measured
                    else f"{d.aspect_ratio} at {d.resolution} as requested; measured once archived"))
    c3.metric("File size", human_size(size), help="Of the archived MP4" if d.measured else None)
    c4.metric("Cost", f"${d.cost_usd:,.2f}" if d.cost_usd is not None else "—",
              help="Estimated at launch from HeyGen's price list; HeyGen bills when the render completes")
    created = d.created_at.strftime("%Y-%m-%d %H:%M UTC") if d.created_at else "—"
    completed = d.completed_at.strftime("%Y-%m-%d %H:%M UTC") if d.completed_at else "—"
    expires = (f"links valid until {d.links_expire_at:%Y-%m-%d %H:%M} UTC" if d.links_expire_at else "")
    st.caption(f"Created {created} · completed {completed} ({human_ago(d.completed_at)}) · owner {plain(d.owner) or '—'} · "
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


@st.cache_data(ttl=2, max_entries=64, show_spinner=False)
def archive_states(_runtime: Runtime, db_url: str, reel_ids: tuple[int, ...]) -> dict[int, tuple[str, str | None]]:
    """``{reel_id: (archive state, reason)}`` of the listed reels, shared by tabs for 2 s."""
    with _runtime.session_factory() as session:
        return jobs_archive.states(session, reel_ids)


def _gallery(runtime: Runtime, rows: list[BoardRow], tz: str) -> None:
    st.subheader("All finished videos", anchor=False)
    kept = archive_states(runtime, runtime.settings.db_url, tuple(r.id for r in rows))
    frame = pd.DataFrame({
        "thumbnail": [r.thumbnail_url for r in rows],
        "title": [display_title(r.title, r.id) for r in rows],
        "owner": [r.owner for r in rows],
        "duration_s": [r.duration_s for r in rows],
        "archive": [ARCHIVE_TEXT.get(kept.get(r.id, ("pending", None))[0]) for r in rows],
        "completed": pd.to_datetime([r.completed_at for r in rows], utc=True),
        "id": [r.id for r in rows],
    })
    cc = st.column_config
    st.dataframe(frame, hide_index=True, column_config={
        "thumbnail": cc.ImageColumn("Preview", width="small"),
        "title": cc.TextColumn("Title", width="medium"),
        "owner": cc.TextColumn("Owner", width="small"),
        "duration_s": cc.NumberColumn("Length", format="%.0f s", width="small"),
        "archive": cc.TextColumn("Archive", width="small", help="Copied out of HeyGen, so it plays after 7 days"),
        "completed": cc.DatetimeColumn("Finished", format="distance", timezone=tz, width="small"),
        "id": cc.NumberColumn("Reel", format="#%d", width="small", help="Reel number in Reel Studio"),
    })


def render(ctx: FrameContext) -> None:
    """The whole Videos page."""
    runtime = ctx.runtime
    st.title("Videos", anchor=False)
    st.caption("Finished reels: watch them, download the MP4 and subtitles, and share them. Each is archived "
               "when it finishes, so it keeps playing after HeyGen's links expire." + (" Sandbox videos are local placeholders, not real HeyGen renders." if ctx.settings.sandbox
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
        {"success": st.success, "info": st.info}.get(notice[0], st.error)(notice[1])
    st.subheader(plain(d.title), anchor=False)
    left, right = st.columns([3, 2], gap="large")
    with left:
        size = media.player(runtime, d)
    with right:
        _details(d, d.size_bytes or size)
        archive_caption(ctx, d)
        _downloads(ctx, d)
        if d.video_page_url and not ctx.settings.sandbox:
            st.link_button("Open on HeyGen", d.video_page_url, icon=":material/open_in_new:")
        _said(d)
    _gallery(runtime, rows, browser_timezone())
