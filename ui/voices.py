"""The Voices page: the whole HeyGen voice catalog in one filterable table, with a detail pane.

Every filter lives in the URL (``v_`` keys) as raw values (``?v_lang=Spanish&v_accent=es-MX``), so a
link reproduces the view (:mod:`ui.facets`). Facet options and counts follow the other filters. The
selected voice is the ``v_voice`` query parameter (set when a row is selected); ▶ Play in a row plays
the preview in the strip above the table. The table is built once per catalog load and annotations
version (:func:`ui.data.voices_table`); a rerun only filters it (vectorised) and draws it: no HeyGen
call, no per-rerun rebuild.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable
from pathlib import Path

import pandas as pd
import streamlit as st
from streamlit.delta_generator import DeltaGenerator

from core.access.conflicts import EditConflict
from core.access.permissions import Action, PermissionDenied, denial
from core.catalog.annotations import AGE_GROUPS, AnnotationError, save_annotation
from core.catalog.facets import accent_cells, cross_counts, options_with
from core.catalog.normalise import locale_label
from core.catalog.tables import AGE_UNSPECIFIED, VoiceFilter, voice_mask
from core.db import session_scope
from core.heygen.errors import HeyGenError
from core.models import VoiceAnnotation
from core.reels.pricing import SPEECH_USD_PER_SECOND
from core.reels.speech import (
    NOT_STARFISH_REASON,
    SpeechUnavailable,
    audio_data_url,
    can_sample,
    find_speech_sample,
    speech_sample,
)
from ui.browser import collapse_when_narrow, scroll_into_view
from ui.columns import VOICE_TABLE_COLUMNS, voice_column_config
from ui.data import VoicesTable, annotations_version_cached, catalog_view, voices_table
from ui.facets import counted, repin, seed_from_url, sync_url
from ui.frame import FrameContext, forget_account_summary
from ui.links import browser_tzinfo
from ui.own_media import voice_clones
from ui.text import plain

ROOT = Path(__file__).resolve().parents[1]
COMPOSE_PAGE = "pages/3_Compose.py"

#: Filter widget keys (also the URL parameters) and their defaults.
FILTER_DEFAULTS: dict[str, object] = {
    "v_q": "", "v_lang": [], "v_gender": [], "v_accent": [], "v_style": [], "v_preview": None, "v_tags": [],
    "v_age": [], "v_approved": False,
}
SELECTED_PARAM = "v_voice"
#: Session key of the table's ▶ Play button column (its click: ``{"row", "label"}``).
PLAY_KEY = "v_play"
_FLASH = "v_flash"
_PLAYING = "v_playing"  # voice_id in the player strip
_SCROLL = "v_scroll"  # scroll the detail pane into view on this run
_ROWS_SEEN = "v_rows_seen"  # (table key, selected rows) of the previous run
_GENDER_ORDER = ["female", "male", "unknown"]
_GENDER_LABELS = {"female": "Female", "male": "Male", "unknown": "Unknown"}
_PREVIEW_LABELS = {"with": "Has one", "without": "None"}
_AGE_LABELS = {AGE_UNSPECIFIED: "Not set", **{a: a.capitalize() for a in AGE_GROUPS}}


def go_to_compose(*, voice_id: str | None = None, avatar_id: str | None = None,
                  voice_filters: dict[str, str] | None = None) -> None:
    """Open the Compose page with a voice and/or avatar look preselected.

    Sets ``st.session_state["compose_voice_id"]`` / ``["compose_avatar_id"]``, which the Compose page takes
    into a scene, and ``["compose_voice_filters"]`` (``language``, ``accent`` locale tag, ``gender``: what
    the user filtered for), which that scene's voice filters and accent start from.
    """
    state = st.session_state
    if voice_id:
        state["compose_voice_id"] = voice_id
        state["compose_voice_filters"] = dict(voice_filters or {})
    if avatar_id:
        state["compose_avatar_id"] = avatar_id
    if not (ROOT / COMPOSE_PAGE).is_file():
        st.warning("The Compose page is not available in this installation.", icon=":material/block:")
        return
    # An explicit (empty) mapping: the default clears the URL, which Streamlit refuses while a widget
    # (the sidebar's name) is bound to it. Compose's own bound widgets refill the URL.
    st.switch_page(COMPOSE_PAGE, query_params={})


def _clear_filters() -> None:
    for key, default in FILTER_DEFAULTS.items():
        st.session_state[key] = list(default) if isinstance(default, list) else default


def _filters_active() -> bool:
    return any(st.session_state.get(k, d) not in (d, None, "", []) for k, d in FILTER_DEFAULTS.items())


def _accent_label(tag: str) -> str:
    """``"Spanish (Mexico) · es-MX"``: the label Compose uses, so typing either part finds it."""
    return f"{locale_label(tag)} · {tag}"


def _with_count(counts: dict[str, int], label) -> Callable[[str], str]:
    return lambda value: f"{label(value)} ({counts.get(value, 0):,})"


#: Option widgets (not bound: :mod:`ui.facets` keeps raw values in the URL), single-choice ones marked.
_SINGLE = {"v_preview"}


def _universe(table: VoicesTable) -> dict[str, list[str]]:
    """Every option each facet can ever offer for this table (the URL and widget states are checked against it)."""
    counts = table.counts
    return {
        "v_lang": list(counts["language"]), "v_accent": table.accents[0],
        "v_style": list(counts["styles"]), "v_gender": sorted(counts["gender"], key=_GENDER_ORDER.index),
        "v_preview": ["with", "without"], "v_age": [*AGE_GROUPS, AGE_UNSPECIFIED], "v_tags": list(counts["tags"]),
    }


def _seed_labels(table: VoicesTable) -> dict[str, Callable[[str], str]]:
    """Labels older links may hold ("Spanish (106)", "Spanish (Mexico) (72)", "Has one (2,320)")."""
    counts = table.counts
    return {"v_lang": counted(counts["language"]), "v_accent": counted(counts["accents"], table.accents[1]),
            "v_style": counted(counts["styles"]), "v_gender": counted(counts["gender"], _GENDER_LABELS),
            "v_preview": counted({}, _PREVIEW_LABELS), "v_age": counted({}, _AGE_LABELS),
            "v_tags": counted(counts["tags"])}


def _state_filter(table: VoicesTable) -> VoiceFilter:
    """The filter the widgets hold before they are drawn (URL seeded, states re-pinned to raw values)."""
    state, labels = st.session_state, _seed_labels(table)
    for key, options in _universe(table).items():
        multi = key not in _SINGLE
        seed_from_url(key, options, labels[key], multi=multi)
        repin(key, options, multi=multi)
    query = state["v_q"] if "v_q" in state else st.query_params.get("v_q", "")
    approved = state["v_approved"] if "v_approved" in state else st.query_params.get("v_approved") == "true"
    return _voice_filter(state.get("v_lang"), state.get("v_gender"), state.get("v_accent"), state.get("v_style"),
                         state.get("v_preview"), state.get("v_tags"), state.get("v_age"), approved, query)


def _voice_filter(languages, genders, accents, styles, preview, tags, ages, approved, query) -> VoiceFilter:
    return VoiceFilter(
        languages=tuple(languages or ()), genders=tuple(genders or ()), accents=tuple(accents or ()),
        styles=tuple(styles or ()), has_preview={"with": True, "without": False}.get(preview),
        tags=tuple(tags or ()), approved_only=bool(approved), age_groups=tuple(ages or ()), query=query or "")


def filter_bar(table: VoicesTable) -> tuple[VoiceFilter, DeltaGenerator]:
    """Draw the search box and the filter widgets; return the filter they describe and a slot for the count.

    Options and counts are cross-filtered (:func:`core.catalog.facets.cross_counts`); the filters sit in
    an expander that starts closed on narrow screens, so the table is on the first screen there.
    """
    before = _state_filter(table)
    counts = table.unfiltered if before == VoiceFilter() and table.unfiltered else cross_counts(table.frame, before)
    query = st.text_input(
        "Search", key="v_q", bind="query-params", live="400ms", icon=":material/search:",
        placeholder="Name, language, accent (es-MX), style, voice_id, notes…",
        help="Matches as you type, ignoring case and accents: “lucia” finds Lucía.")
    with st.expander("Filters", expanded=True, key="v_filters", icon=":material/filter_list:"):
        row1 = st.columns(3, vertical_alignment="bottom")
        languages = row1[0].multiselect(
            "Language", options_with(counts["language"], before.languages), key="v_lang",
            format_func=counted(counts["language"]), placeholder="Any language")
        accent_order = _universe(table)["v_accent"]
        accents = row1[1].multiselect(
            "Accent (locale)", options_with(counts["accents"], before.accents, order=accent_order), key="v_accent",
            format_func=_with_count(counts["accents"], _accent_label), placeholder="Any accent, or type es-MX",
            filter_mode="contains", help="Voices that can speak with this locale (voice_settings.locale)")
        styles = row1[2].multiselect("Style", options_with(counts["styles"], before.styles), key="v_style",
                                     format_func=counted(counts["styles"]), placeholder="Any style")
        row2 = st.container(horizontal=True, wrap=True, vertical_alignment="bottom", gap="medium")
        gender_order = _universe(table)["v_gender"]
        genders = row2.pills("Gender", options_with(counts["gender"], before.genders, order=gender_order),
                             key="v_gender", format_func=counted(counts["gender"], _GENDER_LABELS),
                             selection_mode="multi")
        preview = row2.segmented_control("Preview", ["with", "without"], key="v_preview",
                                         format_func=counted(counts["preview"], _PREVIEW_LABELS))
        age_options = [a for a in _universe(table)["v_age"] if a in counts["age_group"] or a in before.age_groups]
        ages = row2.multiselect("Age group", age_options, key="v_age", width=220, placeholder="Any age",
                                format_func=counted(counts["age_group"], _AGE_LABELS))
        any_tags = bool(table.counts["tags"])
        tags = row2.multiselect("Team tags", options_with(counts["tags"], before.tags), key="v_tags", width=220,
                                format_func=counted(counts["tags"]), disabled=not any_tags,
                                placeholder="Any tag" if any_tags else "No team tags yet")
        approved = row2.toggle("Approved for brand only", key="v_approved", bind="query-params")
    collapse_when_narrow("v_filters")
    for key, value in (("v_lang", languages), ("v_accent", accents), ("v_style", styles), ("v_gender", genders),
                       ("v_preview", preview), ("v_age", ages), ("v_tags", tags)):
        sync_url(key, value)
    info = st.container(horizontal=True, vertical_alignment="center", gap="medium")
    caption = info.empty()
    info.button("Clear filters", on_click=_clear_filters, icon=":material/filter_alt_off:", type="tertiary",
                   disabled=not _filters_active(), key="v_clear")
    return _voice_filter(languages, genders, accents, styles, preview, tags, ages, approved, query), caption


def _table_key(f: VoiceFilter) -> str:
    """A table key per filter state: a new filter starts a fresh selection instead of a stale row index."""
    return "v_table_" + hashlib.md5(repr(f).encode(), usedforsecurity=False).hexdigest()[:10]


def _on_select(key: str, ids: list[str]) -> None:
    rows = st.session_state[key].selection.rows
    if rows and rows[0] < len(ids):
        st.query_params[SELECTED_PARAM] = ids[rows[0]]
        st.session_state[_SCROLL] = True
    else:
        st.query_params.pop(SELECTED_PARAM, None)


def _on_play(ids: list[str]) -> None:
    """A ▶ Play click: that voice's preview goes into the player above the table and starts."""
    click = st.session_state.get(PLAY_KEY)
    if click is not None and 0 <= click["row"] < len(ids):
        st.session_state[_PLAYING] = ids[click["row"]]


def _on_details(voice_id: str) -> None:
    st.query_params[SELECTED_PARAM] = voice_id
    st.session_state[_SCROLL] = True


def player_bar(table: VoicesTable) -> None:
    """The strip above the table where ▶ Play plays a preview (drawn on every run, so nothing below moves)."""
    with st.container(key="v_player", horizontal=True, vertical_alignment="center", gap="medium"):
        voice_id = st.session_state.get(_PLAYING)
        row = _voice_row(table, voice_id) if voice_id else None
        if row is None or not row["has_preview"]:
            st.caption(":material/play_arrow: **Play** plays a preview here · select a row for details, samples "
                       "and “Use in a reel”")
            return
        st.markdown(f"**{row['name']}** · {row['language']} · {str(row['gender']).capitalize()}", width="content")
        st.audio(row["preview_url"], autoplay=True, width=320)
        st.button("Details", key="v_player_details", icon=":material/info:", type="tertiary",
                  on_click=_on_details, args=(voice_id,))


def voices_grid(shown: pd.DataFrame, f: VoiceFilter) -> str | None:
    """Draw the table of ``shown`` voices; return the selected ``voice_id`` (row or ``v_voice`` URL parameter)."""
    ids = shown["voice_id"].tolist()
    selected = st.query_params.get(SELECTED_PARAM)
    key = _table_key(f)
    default = None
    if selected and selected in ids:
        default = {"selection": {"rows": [ids.index(selected)], "columns": []}}
    if list(shown.columns) != VOICE_TABLE_COLUMNS:
        shown = shown[VOICE_TABLE_COLUMNS]
    config = voice_column_config()
    config["preview_url"] = st.column_config.ButtonColumn(
        "Play", width=80, type="tertiary", key=PLAY_KEY, on_click=_on_play, args=(ids,),
        help="Play HeyGen's preview of the voice above the table")
    event = st.dataframe(
        shown, column_config=config, hide_index=True, height=430,
        key=key, on_select=lambda: _on_select(key, ids), selection_mode="single-row", selection_default=default,
        placeholder="—")
    rows = tuple(r for r in event.selection.rows if r < len(ids))
    if st.session_state.get(_ROWS_SEEN) != (key, rows):  # the selection changed: it wins
        st.session_state[_ROWS_SEEN] = (key, rows)
        if rows:
            return ids[rows[0]]
    return st.query_params.get(SELECTED_PARAM)  # else the last choice (row, ▶ Details or a link)


def _voice_row(table: VoicesTable, voice_id: str) -> pd.Series | None:
    hits = table.frame.index[table.frame["voice_id"].to_numpy() == voice_id]
    return table.frame.loc[hits[0]] if len(hits) else None


def _sample_line(name: str) -> str:
    return f"Hi, I'm {name}. Here is how I would sound in your next video."


def _sample_panel(ctx: FrameContext, row: pd.Series, wanted_accents: tuple[str, ...] = ()) -> None:
    """Hear your own line; its accent starts at the first filtered accent the voice can speak."""
    voice_id = row["voice_id"]
    if not can_sample(voice_id):
        if not row["has_preview"]:
            st.warning(f"This voice has no preview and can't be sampled. {NOT_STARFISH_REASON}",
                       icon=":material/volume_off:")
        else:
            st.caption(f"Custom lines are not available for this voice. {NOT_STARFISH_REASON}")
        return
    title = "Generate a sample" if not row["has_preview"] else "Hear your own line"
    st.markdown(f"**{plain(title)}**")
    text = st.text_area("Line to say", value=_sample_line(row["name"]), max_chars=500, height=80,
                        key=f"v_sample_text_{voice_id}")
    cols = st.columns(2)
    accents = list(row["accents"])
    locale_key = f"v_sample_locale_{voice_id}"
    if locale_key not in st.session_state:
        st.session_state[locale_key] = next((a for a in wanted_accents if a in accents), None)
    locale = cols[0].selectbox("Accent", [None, *accents], key=f"v_sample_locale_{voice_id}",
                               format_func=lambda t: locale_label(t) if t else "Native accent",
                               disabled=not accents)
    speed = cols[1].slider("Speed", 0.5, 1.5, 1.0, 0.05, key=f"v_sample_speed_{voice_id}")
    with ctx.runtime.session_factory() as session:
        sample = find_speech_sample(session, voice_id, text, speed=speed, locale=locale)
    why_not = denial(ctx.actor, Action.SPEECH_SAMPLE)
    if sample is None and st.button("Generate this line", key=f"v_sample_go_{voice_id}", icon=":material/graphic_eq:",
                                     type="primary" if not row["has_preview"] else "secondary",
                                     disabled=why_not is not None, help=plain(why_not) or None):
        try:
            with st.spinner("Generating speech with HeyGen…"), session_scope(ctx.runtime.session_factory) as s:
                sample = speech_sample(s, ctx.runtime.client, ctx.settings.data_dir, voice_id, text,
                                       actor=ctx.actor, speed=speed, locale=locale)
        except (SpeechUnavailable, HeyGenError, PermissionDenied) as exc:
            st.error(f"{plain(exc)} Try again, or pick another voice.", icon=":material/error:")
        else:
            forget_account_summary()  # the sidebar (drawn above) shows what the line cost on the rerun
            st.rerun()
    audio_url = None
    if sample is not None:
        with ctx.runtime.session_factory() as session:
            audio_url = audio_data_url(session, sample)
    if sample is not None and audio_url is not None:
        st.audio(audio_url)
        st.caption(f"{sample.duration_s:.1f} s · stored with the team's samples, replaying is free")
    else:
        st.caption(f"Billed by HeyGen at ${SPEECH_USD_PER_SECOND * 60:.2f} per minute of audio; "
                   "each line is generated once and then reused by everyone.")


def _ann_version_key(voice_id: str) -> str:
    return f"v_ann_version_{voice_id}"


def _save_annotation(ctx: FrameContext, voice_id: str) -> None:
    """``on_click`` of the annotation form: save from the version this tab showed, then leave a message.

    A save refused because someone saved meanwhile keeps the typed values in the form.
    """
    state = st.session_state
    try:
        with session_scope(ctx.runtime.session_factory) as session:
            row = save_annotation(
                session, voice_id, tags=state.get(f"v_ann_tags_{voice_id}") or [],
                age_group=state.get(f"v_ann_age_{voice_id}") or None,
                approved=bool(state.get(f"v_ann_ok_{voice_id}")), notes=state.get(f"v_ann_notes_{voice_id}") or "",
                actor=ctx.actor, expected_version=state.get(_ann_version_key(voice_id)))
            version = row.version
    except EditConflict as exc:
        state[_FLASH] = ("conflict", exc.message(browser_tzinfo()))
        state["v_ann_conflict_voice"] = voice_id
    except (AnnotationError, PermissionDenied) as exc:
        state[_FLASH] = ("error", str(exc))
    else:
        annotations_version_cached.clear()
        state[_ann_version_key(voice_id)] = version
        state[_FLASH] = ("ok", "Annotation saved.")


def _reload_annotation(voice_id: str) -> None:
    """Forget this tab's form values and version, so the form shows what is stored now."""
    for key in [k for k in st.session_state if isinstance(k, str) and k.startswith("v_ann_") and k.endswith(voice_id)]:
        del st.session_state[key]


def _annotation_panel(ctx: FrameContext, table: VoicesTable, voice_id: str) -> None:
    with ctx.runtime.session_factory() as session:
        ann = session.get(VoiceAnnotation, voice_id)
    st.session_state.setdefault(_ann_version_key(voice_id), ann.version if ann else 0)
    st.markdown("**Team annotation**")
    with st.form(f"v_ann_form_{voice_id}", border=False):
        age = ann.age_group if ann else None
        st.selectbox("Age group", ["", *AGE_GROUPS], index=([""] + list(AGE_GROUPS)).index(age or ""),
                     format_func=lambda a: _AGE_LABELS.get(a, "Not set"), key=f"v_ann_age_{voice_id}")
        st.toggle("Approved for our brand", value=bool(ann and ann.approved), key=f"v_ann_ok_{voice_id}")
        current = list(ann.tags) if ann else []
        st.multiselect("Team tags", sorted(set(table.counts["tags"]) | set(current)), default=current,
                       accept_new_options=True, key=f"v_ann_tags_{voice_id}",
                       placeholder="Type a tag and press Enter, e.g. ads, calm, explainer")
        st.text_area("Notes", value=ann.notes if ann else "", max_chars=2000, height=80,
                     key=f"v_ann_notes_{voice_id}", placeholder="What is this voice good (or bad) for?")
        why_not = denial(ctx.actor, Action.ANNOTATE_VOICE)
        st.form_submit_button("Save annotation", icon=":material/save:", disabled=why_not is not None,
                              help=plain(why_not) or None, on_click=_save_annotation, args=(ctx, voice_id))
    if why_not:
        st.caption(plain(why_not))
    elif ann is not None:
        when = ann.updated_at.strftime("%d %b %Y, %H:%M UTC")
        st.caption(f"Last saved by {plain(ann.updated_by or 'someone')} on {when}.")


def _facts(row: pd.Series) -> None:
    bits = [row["language"], str(row["gender"]).capitalize()]
    if row["styles"]:
        bits.append(" · ".join(row["styles"]))
    st.caption(" · ".join(bits))
    badges = st.container(horizontal=True, gap="small")
    if row["approved"]:
        badges.badge("Approved for brand", icon=":material/verified:", color="green")
    if row["type"] == "private":
        badges.badge("Private clone", icon=":material/lock:", color="violet")
    if row["support_pause"]:
        badges.badge("Pauses", icon=":material/pause:", color="blue")
    if not can_sample(row["voice_id"]):
        badges.badge("Third-party engine", color="gray")
    if row["age_group"] and not pd.isna(row["age_group"]):
        badges.badge(str(row["age_group"]).capitalize(), color="gray")
    for tag in row["tags"]:
        badges.badge(plain(tag), color="orange")
    accents = list(row["accent_labels"])
    if accents:
        shown = ", ".join(accents[:6]) + (f" and {len(accents) - 6} more" if len(accents) > 6 else "")
        st.markdown(f"**Accents:** {shown}")
    else:
        st.markdown("**Accent:** native only (no locale choice)")
    if row["raw_name"] != row["name"] or row["raw_language"] != row["language"]:
        st.caption(f"In HeyGen: “{' '.join(str(row['raw_name']).split())}”, language "
                   f"“{row['raw_language'] or '(empty)'}”")
    st.caption("voice_id (as sent to HeyGen)")
    st.code(row["voice_id"], language=None, wrap_lines=True)


def reel_filters(row: pd.Series, f: VoiceFilter) -> dict[str, str]:
    """What "Use in a reel" carries into the scene: the filtered language and gender when exactly one is
    chosen (else the voice's own), and the first filtered accent the voice can speak (if any)."""
    out = {"language": f.languages[0] if len(f.languages) == 1 else str(row["language"]),
           "gender": f.genders[0] if len(f.genders) == 1 else str(row["gender"])}
    accent = next((a for a in f.accents if a in list(row["accents"])), None)
    if accent:
        out["accent"] = accent
    return out


def detail_pane(ctx: FrameContext, table: VoicesTable, voice_id: str, in_view: bool,
                f: VoiceFilter | None = None) -> None:
    """The selected voice: preview, sample generator, facts, team annotation and "Use in a reel"."""
    f = f or VoiceFilter()
    row = _voice_row(table, voice_id)
    if row is None:
        st.info("The voice in the link is not in HeyGen's catalog any more.", icon=":material/help:")
        return
    if st.session_state.pop(_SCROLL, False):
        scroll_into_view("v_detail")
    with st.container(border=True, key="v_detail"):
        head = st.columns([4, 1], vertical_alignment="center")
        head[0].subheader(row["name"], anchor=False)
        if head[1].button("Use in a reel", type="primary", icon=":material/movie_edit:", key="v_use",
                          width="stretch", help="Put this voice, with the language, accent and gender you "
                                                "filtered for, into the next open scene of your draft"):
            go_to_compose(voice_id=voice_id, voice_filters=reel_filters(row, f))
        if not in_view:
            st.caption("Not in the current filter results.")
        left, middle, right = st.columns([5, 4, 4], gap="large")
        with left:
            if row["has_preview"]:
                st.markdown("**HeyGen preview**")
                st.audio(row["preview_url"])
            _sample_panel(ctx, row, f.accents)
        with middle:
            _facts(row)
        with right:
            _annotation_panel(ctx, table, voice_id)


def _flash() -> None:
    message = st.session_state.pop(_FLASH, None)
    if message:
        kind, text = message
        if kind == "ok":
            st.toast(text, icon=":material/check_circle:")
        elif kind == "conflict":
            st.warning(plain(text), icon=":material/sync_problem:")
            voice_id = st.session_state.get("v_ann_conflict_voice")
            if voice_id:
                st.button("Reload the annotation", key="v_ann_reload", icon=":material/refresh:",
                          on_click=_reload_annotation, args=(voice_id,),
                          help="Show what is stored now; the values you typed are replaced.")
        else:
            st.error(plain(text), icon=":material/error:")


def voices_page(ctx: FrameContext) -> None:
    """The whole Voices page below the frame."""
    st.title("Voices", anchor=False)
    voice_clones(ctx)
    view = catalog_view(ctx.runtime)
    table = voices_table(ctx.runtime, view)
    f, caption = filter_bar(table)
    display = table.display
    mask = voice_mask(table.frame, f)
    shown = display if mask is None else display[mask]
    if f.accents and len(shown):  # the filtered accent first in each row's Accents cell
        shown = shown.assign(accent_labels=accent_cells(table.frame[mask], f.accents).to_numpy())
    caption.caption(f"**{len(shown):,}** of {len(table.frame):,} voices")
    _flash()
    player_bar(table)
    if shown.empty:
        st.info("No voice matches all these filters. Remove one, or clear them all.", icon=":material/search_off:")
        selected = st.query_params.get(SELECTED_PARAM)
    else:
        selected = voices_grid(shown, f)
    if selected:
        in_view = bool((shown["voice_id"].to_numpy() == selected).any())
        detail_pane(ctx, table, selected, in_view, f)
