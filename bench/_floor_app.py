"""The floor app of ``bench/browser.py``: bare Streamlit pages that draw the same tables from the same frames.

No frame, no sidebar, no filter bar, no selection: each page has only the one input its interaction
needs and the element the benchmark waits for, with the same widget keys as the real pages so the
same selectors find them. Served by ``bench/_browser_app.py`` in a process whose runtime holds the
same catalog and database as the app's.

- Voices: Language (``v_lang``), Gender (``v_gender``) and Search (``v_q``) widgets, the "N of M voices"
  caption and ``st.dataframe`` of the product's display frame. The filtered frame of each widget
  state is computed once (with the product's ``voice_mask``) and then only looked up.
- Compose: one script box (``f_script``) and the "Estimated length" metric (inside ``c_estimate``).
- Status: a ``run_every`` fragment drawing ``st.dataframe`` of the product's incremental board
  (``runtime.boards``), with the page's columns and column config.
"""

from __future__ import annotations

import threading

import streamlit as st

from core.board.rows import BoardFilter
from core.board.text import format_seconds
from core.catalog.tables import VoiceFilter, voice_mask
from core.reels.estimate import estimate_script_seconds
from core.runtime import get_runtime
from ui.columns import voice_column_config
from ui.data import loaded_catalog, voices_table
from ui.status import DISPLAY_COLUMNS, REFRESH_SECONDS, column_config

runtime = get_runtime()
_shown: dict[tuple, object] = {}
_shown_lock = threading.Lock()


def _filtered(display, frame, key: tuple):
    with _shown_lock:
        hit = _shown.get(key)
    if hit is None:
        languages, genders, query = key
        mask = voice_mask(frame, VoiceFilter(languages=languages, genders=genders, query=query))
        hit = display if mask is None else display[mask]
        with _shown_lock:
            _shown[key] = hit
    return hit


def voices() -> None:
    table = voices_table(runtime, loaded_catalog(runtime))
    languages = st.multiselect("Language", list(table.counts["language"]), key="v_lang")
    genders = st.pills("Gender", ["female", "male", "unknown"], selection_mode="multi", key="v_gender",
                       format_func=str.capitalize)
    query = st.text_input("Search", key="v_q")
    shown = _filtered(table.display, table.frame, (tuple(languages), tuple(genders or ()), query or ""))
    st.caption(f"**{len(shown):,}** of {len(table.frame):,} voices")
    st.dataframe(shown, column_config=voice_column_config(), hide_index=True, height=430)
    _links()


def compose() -> None:
    script = st.text_area("Script", key="f_script", height=170)
    with st.container(key="c_estimate"):
        st.metric("Estimated length", format_seconds(estimate_script_seconds(script or "")))
    _links()


@st.fragment(run_every=REFRESH_SECONDS)
def _board() -> None:
    frame, _ = runtime.boards.get(BoardFilter(tz="UTC"), stuck_after_minutes=runtime.settings.stuck_after_minutes)
    st.dataframe(frame, column_config=column_config("UTC"), column_order=DISPLAY_COLUMNS, hide_index=True,
                 height=min(38 + 35 * len(frame), 560))


def status() -> None:
    _board()
    _links()


def _links() -> None:
    for page in (voices_page, compose_page, status_page):
        st.page_link(page)


def home() -> None:
    _links()


voices_page = st.Page(voices, title="Voices", url_path="Voices")
compose_page = st.Page(compose, title="Compose", url_path="Compose")
status_page = st.Page(status, title="Status", url_path="Status")
home_page = st.Page(home, title="Floor", default=True)
st.navigation([home_page, voices_page, compose_page, status_page], position="hidden").run()
