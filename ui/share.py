"""The Share page: one finished video, played from the archive, at a link people can pass around.

The link is ``/Share?reel=<reel id>``. The page is gated by the frame like every other page: it
shows the video to whoever may use the app, and nothing about other reels.
"""

from __future__ import annotations

import streamlit as st

from core.board.text import human_duration
from ui import media
from ui.frame import FrameContext
from ui.links import page_link
from ui.text import plain
from ui.videos import SHARE_KEY, archive_caption, details


def render(ctx: FrameContext) -> None:
    """The whole Share page."""
    runtime = ctx.runtime
    raw = st.query_params.get(SHARE_KEY, "")
    d = details(runtime, runtime.settings.db_url, int(raw)) if raw.isdigit() else None
    if d is None or d.completed_at is None:
        st.title("Shared video", anchor=False)
        st.info("This link does not point to a finished video. It may have been deleted, or the link is "
                "incomplete.", icon=":material/link_off:")
        page_link("pages/5_Videos.py", "See all finished videos", icon=":material/video_library:")
        return
    st.title(plain(d.title), anchor=False)
    size = f" · {d.width}×{d.height}" if d.measured and d.width else ""
    st.caption(f"{human_duration(d.duration_s) if d.duration_s else '—'}{size} · by {plain(d.owner) or '—'} · finished "
               f"{d.completed_at:%Y-%m-%d %H:%M} UTC")
    left, _ = st.columns([2, 1])
    with left:
        media.player(runtime, d)
        archive_caption(ctx, d)
        cells = iter([cell for _ in range(2) for cell in st.columns(2)])
        media.download_buttons(runtime, d, cells, key="share_dl")
    page_link("pages/5_Videos.py", "Open in Videos", icon=":material/video_library:",
              query_params={"vid_reel": str(d.reel_id)})
