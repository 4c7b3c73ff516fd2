"""The Avatars page: a gallery of HeyGen avatar looks with URL-bound filters and a detail view.

Filters use ``a_`` keys bound to the URL; the open look is the ``a_look`` query parameter. The
looks table and its facet counts are built once per catalog load; a rerun only filters
(:func:`core.catalog.tables.filter_looks`) and draws one page of cards.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import pandas as pd
import streamlit as st

from core.catalog.tables import LookFilter, facet_counts, filter_looks
from ui.data import CatalogView, catalog_view
from ui.facets import counted, seed_from_url
from ui.frame import FrameContext
from ui.own_media import photo_avatars
from ui.text import plain
from ui.voices import go_to_compose

PAGE_SIZE = 24
GRID_COLUMNS = 6
SELECTED_PARAM = "a_look"
FILTER_DEFAULTS: dict[str, object] = {
    "a_q": "", "a_gender": [], "a_type": [], "a_orient": [], "a_engine": [], "a_own": [], "a_ready": False,
}
LOOK_FACETS = ("gender", "avatar_type", "orientation", "engines", "ownership")
TYPE_LABELS = {"studio_avatar": "Studio avatar", "digital_twin": "Digital twin", "photo_avatar": "Photo avatar"}
ENGINE_LABELS = {"avatar_v": "Avatar V", "avatar_iv": "Avatar IV", "avatar_iii": "Avatar III"}
_ENGINE_ORDER = ("avatar_v", "avatar_iv", "avatar_iii")


@dataclass(frozen=True)
class LooksTable:
    """All looks (:func:`core.catalog.tables.looks_frame`, read-only) and facet counts over them."""

    frame: pd.DataFrame
    counts: dict[str, dict[str, int]]
    ready: int


@st.cache_resource(max_entries=4, show_spinner=False)
def _looks_table(_view: CatalogView, view_key: tuple) -> LooksTable:
    frame = _view.looks
    counts = {facet: facet_counts(frame, facet) for facet in LOOK_FACETS}
    return LooksTable(frame, counts, int(frame["ready"].sum()))


def looks_table(ctx: FrameContext) -> LooksTable:
    """The shared looks table for the current catalog load."""
    view = catalog_view(ctx.runtime)
    return _looks_table(view, (ctx.runtime.base_url, view.loaded_at))


def _reset_page() -> None:
    st.session_state["a_page"] = 1


def _clear_filters() -> None:
    for key, default in FILTER_DEFAULTS.items():
        st.session_state[key] = list(default) if isinstance(default, list) else default
    _reset_page()


def _filters_active() -> bool:
    return any(st.session_state.get(k, d) not in (d, None, "", []) for k, d in FILTER_DEFAULTS.items())


def filter_bar(table: LooksTable) -> LookFilter:
    """Draw the look filters (bound to the URL); changing one goes back to the first page."""
    c = table.counts

    def facet(col, kind: str, label: str, key: str, options: list[str], fmt, **kwargs):
        """A bound option widget (``kind``: multiselect or pills) seeded from plain links."""
        seed_from_url(key, options, fmt)
        return getattr(col, kind)(label, options, key=key, bind="query-params", format_func=fmt,
                                  on_change=_reset_page, **kwargs)

    def labels(facet_name: str, names: dict[str, str] | None = None) -> dict[str, str]:
        return {v: (names or {}).get(v, v.capitalize()) for v in c[facet_name]}

    row = st.columns([3, 2, 2, 1.3], vertical_alignment="bottom")
    query = row[0].text_input("Search", key="a_q", bind="query-params", on_change=_reset_page,
                              placeholder="Look name, avatar or avatar_id…", icon=":material/search:")
    types = facet(row[1], "multiselect", "Type", "a_type", list(c["avatar_type"]),
                  counted(c["avatar_type"], labels("avatar_type", TYPE_LABELS)), placeholder="Any type")
    engine_options = [e for e in _ENGINE_ORDER if e in c["engines"]] + sorted(set(c["engines"]) - set(_ENGINE_ORDER))
    engines = facet(row[2], "multiselect", "Engine", "a_engine", engine_options,
                    counted(c["engines"], ENGINE_LABELS), placeholder="Any engine",
                    help="Looks that support any selected engine (supported_api_engines)")
    clear = row[3].empty()  # drawn last: whether a filter is set is known once every filter widget ran
    row2 = st.columns([3.4, 1.8, 2.4, 2.6], vertical_alignment="bottom")
    genders = facet(row2[0], "pills", "Gender", "a_gender", list(c["gender"]),
                    counted(c["gender"], labels("gender")), selection_mode="multi")
    orientations = facet(row2[1], "pills", "Orientation", "a_orient", list(c["orientation"]),
                         counted(c["orientation"], labels("orientation")), selection_mode="multi")
    ownership = facet(row2[2], "pills", "Access", "a_own", list(c["ownership"]),
                      counted(c["ownership"], labels("ownership")), selection_mode="multi",
                      help="public: HeyGen's library; private: your own avatars")
    ready = row2[3].toggle(f"Ready to use only ({table.ready:,})", key="a_ready", bind="query-params",
                           on_change=_reset_page, help="Hide private looks that are still training or failed")
    clear.button("Clear filters", on_click=_clear_filters, icon=":material/filter_alt_off:", type="tertiary",
                 disabled=not _filters_active(), key="a_clear")
    return LookFilter(genders=tuple(genders or ()), avatar_types=tuple(types), orientations=tuple(orientations or ()),
                      engines=tuple(engines), ownership=tuple(ownership or ()), ready_only=ready, query=query or "")


def _open(look_id: str) -> None:
    st.query_params[SELECTED_PARAM] = look_id


def _close() -> None:
    st.query_params.pop(SELECTED_PARAM, None)


def _engines_text(engines) -> str:
    return ", ".join(ENGINE_LABELS.get(e, e) for e in engines) or "none listed"


def look_card(look: pd.Series) -> None:
    """One gallery card: preview image, name, avatar and engines, and a Details button."""
    with st.container(border=True, key=f"a_card_{look['id']}", height="stretch"):
        if look["preview_image_url"]:
            st.image(look["preview_image_url"], width="stretch")
        else:
            st.markdown(":material/image_not_supported: *No preview image*")
        st.markdown(f"**{plain(look['name'])}**")
        st.caption(f"{TYPE_LABELS.get(look['avatar_type'], look['avatar_type'])} · {look['gender']} · "
                   f"{_engines_text(look['engines'])}")
        st.button("Details", key=f"a_open_{look['id']}", on_click=_open, args=(look["id"],), type="tertiary",
                  icon=":material/open_in_full:")


def current_page(rows: int) -> tuple[int, int]:
    """``(page, pages)`` for ``rows`` looks: the ``a_page`` state (seeded from the URL), kept in range."""
    pages = max(1, math.ceil(rows / PAGE_SIZE))
    if "a_page" not in st.session_state and st.query_params.get("a_page", "").isdigit():
        st.session_state["a_page"] = int(st.query_params["a_page"])
    page = min(max(int(st.session_state.get("a_page") or 1), 1), pages)
    if "a_page" in st.session_state and st.session_state["a_page"] != page:
        st.session_state["a_page"] = page
    return page, pages


def gallery(shown: pd.DataFrame) -> None:
    """A page of cards (:data:`PAGE_SIZE`) and the page selector, bound to the URL as ``a_page``."""
    current, pages = current_page(len(shown))
    start = (current - 1) * PAGE_SIZE
    chunk = shown.iloc[start:start + PAGE_SIZE]
    for first in range(0, len(chunk), GRID_COLUMNS):
        cols = st.columns(GRID_COLUMNS)
        for col, (_, look) in zip(cols, chunk.iloc[first:first + GRID_COLUMNS].iterrows(), strict=False):
            with col:
                look_card(look)
    if pages > 1:
        st.pagination(pages, key="a_page", bind="query-params", max_visible_pages=9)


def detail_view(shown: pd.DataFrame, table: LooksTable, look_id: str, voice_label=None) -> None:
    """The open look: large preview, its facts, and "Use in a reel".

    ``voice_label(voice_id) -> str`` names the look's default voice (else its id is shown)."""
    frame = table.frame
    hits = frame.index[frame["id"].to_numpy() == look_id]
    if not len(hits):
        st.info("The avatar look in the link is not in HeyGen's catalog any more.", icon=":material/help:")
        return
    look = frame.loc[hits[0]]
    with st.container(border=True, key="a_detail"):
        head = st.columns([6, 2, 1], vertical_alignment="center")
        head[0].subheader(look["name"], anchor=False)
        if head[1].button("Use in a reel", type="primary", icon=":material/movie_edit:", key="a_use",
                          width="stretch"):
            go_to_compose(avatar_id=look_id)
        head[2].button("Close", on_click=_close, key="a_close", icon=":material/close:", width="stretch")
        left, right = st.columns([1, 1], gap="large")
        with left:
            if look["preview_image_url"]:
                st.image(look["preview_image_url"], width="stretch")
            if look["preview_video_url"]:
                with st.expander("Preview video", icon=":material/play_circle:"):
                    st.video(look["preview_video_url"])
        with right:
            size = (f"{int(look['width']):,} × {int(look['height']):,} px"
                    if not (pd.isna(look["width"]) or pd.isna(look["height"])) else "unknown")
            facts = {
                "Avatar (group)": look["group_id"] or "—",
                "Type": TYPE_LABELS.get(look["avatar_type"], look["avatar_type"]),
                "Gender": str(look["gender"]).capitalize(),
                "Orientation": str(look["orientation"]).capitalize(),
                "Size": size,
                "Engines": _engines_text(look["engines"]),
                "Access": str(look["ownership"]).capitalize(),
                "Ready": "Yes" if look["ready"] else "No: still training or failed",
            }
            st.markdown("\n".join(f"- **{k}:** {v}" for k, v in facts.items()))
            if look["default_voice_id"]:
                voice = look["default_voice_id"]
                st.caption(f"Default voice: {voice_label(voice)}" if voice_label else f"Default voice: `{voice}`")
            st.code(look_id, language=None, wrap_lines=True)
            if not (shown["id"].to_numpy() == look_id).any():
                st.caption("Not in the current filter results.")


def avatars_page(ctx: FrameContext) -> None:
    """The whole Avatars page below the frame."""
    st.title("Avatars", anchor=False)
    photo_avatars(ctx)
    table = looks_table(ctx)
    f = filter_bar(table)
    shown = filter_looks(table.frame, f)
    page, pages = current_page(len(shown))
    st.caption(f"**{len(shown):,}** of {len(table.frame):,} avatar looks"
               + (f" · page {page} of {pages}" if pages > 1 else ""))
    selected = st.query_params.get(SELECTED_PARAM)
    if selected:
        detail_view(shown, table, selected, catalog_view(ctx.runtime).catalog.index.voice_label)
    if shown.empty:
        st.info("No avatar look matches all these filters. Remove one, or clear them all.",
                icon=":material/search_off:")
        return
    gallery(shown)
