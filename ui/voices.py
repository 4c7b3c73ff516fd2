"""The Voices page: the whole HeyGen voice catalog in one filterable table, with a detail pane.

Every filter is a widget bound to the URL (``v_`` keys), so a link reproduces the view. The
selected voice is the ``v_voice`` query parameter (set when a row is selected). The table is
built once per catalog load and annotations version (:func:`ui.data.voices_table`); a rerun
only filters it (vectorised) and draws it: no HeyGen call, no per-rerun rebuild.
"""

from __future__ import annotations

import hashlib
from pathlib import Path

import pandas as pd
import streamlit as st
from streamlit.delta_generator import DeltaGenerator

from core.access.conflicts import EditConflict
from core.access.permissions import Action, PermissionDenied, denial
from core.catalog.annotations import AGE_GROUPS, AnnotationError, save_annotation
from core.catalog.normalise import locale_label
from core.catalog.tables import AGE_UNSPECIFIED, VoiceFilter, voice_mask
from core.db import session_scope
from core.heygen.errors import HeyGenError
from core.models import VoiceAnnotation
from core.reels.pricing import SPEECH_USD_PER_SECOND
from core.reels.speech import (
    NOT_STARFISH_REASON,
    SpeechUnavailable,
    can_sample,
    find_speech_sample,
    speech_sample,
)
from ui.columns import VOICE_TABLE_COLUMNS, voice_column_config
from ui.data import VoicesTable, annotations_version_cached, catalog_view, voices_table
from ui.facets import counted, seed_from_url
from ui.frame import FrameContext
from ui.links import browser_tzinfo
from ui.text import plain

ROOT = Path(__file__).resolve().parents[1]
COMPOSE_PAGE = "pages/3_Compose.py"

#: Filter widget keys (also the URL parameters) and their defaults.
FILTER_DEFAULTS: dict[str, object] = {
    "v_q": "", "v_lang": [], "v_gender": [], "v_accent": [], "v_style": [], "v_preview": None, "v_tags": [],
    "v_age": [], "v_approved": False,
}
SELECTED_PARAM = "v_voice"
_FLASH = "v_flash"
_GENDER_ORDER = ["female", "male", "unknown"]
_AGE_LABELS = {AGE_UNSPECIFIED: "Not set", **{a: a.capitalize() for a in AGE_GROUPS}}


def go_to_compose(**ids: str) -> None:
    """Open the Compose page with a voice and/or avatar look preselected.

    Sets ``st.session_state["compose_voice_id"]`` / ``["compose_avatar_id"]`` (keys ``voice_id`` /
    ``avatar_id``), which the Compose page takes into a scene, and switches to it.
    """
    for name, value in ids.items():
        st.session_state[f"compose_{name}"] = value
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


def filter_bar(table: VoicesTable) -> tuple[VoiceFilter, DeltaGenerator]:
    """Draw the filter widgets (bound to the URL); return the filter they describe and a slot for the count."""
    counts = table.counts
    total = len(table.frame)

    def facet(col, kind: str, label: str, key: str, options: list[str], fmt, **kwargs):
        """A bound option widget (``kind``: multiselect, pills, segmented_control) seeded from plain links."""
        seed_from_url(key, options, fmt, multi=kwargs.get("selection_mode", "multi") == "multi")
        return getattr(col, kind)(label, options, key=key, bind="query-params", format_func=fmt, **kwargs)

    row1 = st.columns([3, 2.2, 2.4, 2], vertical_alignment="bottom")
    query = row1[0].text_input(
        "Search", key="v_q", bind="query-params", placeholder="Name, style, language, voice_id, notes…",
        icon=":material/search:")
    languages = facet(row1[1], "multiselect", "Language", "v_lang", list(counts["language"]),
                      counted(counts["language"]), placeholder="Any language")
    accent_options, accent_labels = table.accents
    accents = facet(row1[2], "multiselect", "Accent (locale)", "v_accent", accent_options,
                    counted(counts["accents"], accent_labels),
                    placeholder="Any accent", help="Voices with accent choice that can speak with this locale")
    styles = facet(row1[3], "multiselect", "Style", "v_style", list(counts["styles"]),
                   counted(counts["styles"]), placeholder="Any style")

    row2 = st.columns([3.4, 2.6, 2, 2], vertical_alignment="bottom")
    genders = facet(row2[0], "pills", "Gender", "v_gender", sorted(counts["gender"], key=_GENDER_ORDER.index),
                    counted(counts["gender"], {"female": "Female", "male": "Male", "unknown": "Unknown"}),
                    selection_mode="multi")
    previews = {"with": table.has_preview, "without": total - table.has_preview}
    preview = facet(row2[1], "segmented_control", "Preview", "v_preview", ["with", "without"],
                    counted(previews, {"with": "Has one", "without": "None"}), selection_mode="single")
    age_counts = {**counts["age_group"], AGE_UNSPECIFIED: total - sum(counts["age_group"].values())}
    ages = facet(row2[2], "multiselect", "Age group", "v_age", [*AGE_GROUPS, AGE_UNSPECIFIED],
                 counted(age_counts, _AGE_LABELS), placeholder="Any age")
    tags = facet(row2[3], "multiselect", "Team tags", "v_tags", list(counts["tags"]),
                 counted(counts["tags"]), disabled=not counts["tags"],
                 placeholder="Any tag" if counts["tags"] else "No team tags yet")
    info = st.columns([5.2, 2.2, 1.6], vertical_alignment="center")
    approved = info[1].toggle("Approved for brand only", key="v_approved", bind="query-params")
    info[2].button("Clear filters", on_click=_clear_filters, icon=":material/filter_alt_off:", type="tertiary",
                   disabled=not _filters_active(), key="v_clear", width="stretch")
    caption = info[0].empty()
    return VoiceFilter(
        languages=tuple(languages), genders=tuple(genders or ()), accents=tuple(accents), styles=tuple(styles),
        has_preview={"with": True, "without": False}.get(preview), tags=tuple(tags), approved_only=approved,
        age_groups=tuple(ages), query=query or "",
    ), caption


def _table_key(f: VoiceFilter) -> str:
    """A table key per filter state: a new filter starts a fresh selection instead of a stale row index."""
    return "v_table_" + hashlib.md5(repr(f).encode(), usedforsecurity=False).hexdigest()[:10]


def _on_select(key: str, ids: list[str]) -> None:
    rows = st.session_state[key].selection.rows
    if rows and rows[0] < len(ids):
        st.query_params[SELECTED_PARAM] = ids[rows[0]]
    else:
        st.query_params.pop(SELECTED_PARAM, None)


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
    event = st.dataframe(
        shown, column_config=voice_column_config(), hide_index=True, height=430,
        key=key, on_select=lambda: _on_select(key, ids), selection_mode="single-row", selection_default=default,
        placeholder="—")
    rows = event.selection.rows
    if rows and rows[0] < len(ids):
        return ids[rows[0]]
    return selected


def _voice_row(table: VoicesTable, voice_id: str) -> pd.Series | None:
    hits = table.frame.index[table.frame["voice_id"].to_numpy() == voice_id]
    return table.frame.loc[hits[0]] if len(hits) else None


def _sample_line(name: str) -> str:
    return f"Hi, I'm {name}. Here is how I would sound in your next video."


def _sample_panel(ctx: FrameContext, row: pd.Series) -> None:
    voice_id = row["voice_id"]
    if not can_sample(voice_id):
        if not row["has_preview"]:
            st.warning(f"This voice has no preview and can't be sampled. {NOT_STARFISH_REASON}",
                       icon=":material/volume_off:")
        else:
            st.caption(f"Custom lines are not available for this voice. {NOT_STARFISH_REASON}")
        return
    title = "Generate a sample" if not row["has_preview"] else "Hear your own line"
    st.markdown(f"**{title}**")
    text = st.text_area("Line to say", value=_sample_line(row["name"]), max_chars=500, height=80,
                        key=f"v_sample_text_{voice_id}")
    cols = st.columns(2)
    accents = list(row["accents"])
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
    if sample is not None:
        st.audio(Path(sample.audio_path), format="audio/wav" if sample.audio_path.endswith(".wav")
                 else "audio/mpeg")
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
        badges.badge(tag, color="orange")
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


def detail_pane(ctx: FrameContext, table: VoicesTable, voice_id: str, in_view: bool) -> None:
    """The selected voice: preview, sample generator, facts, team annotation and "Use in a reel"."""
    row = _voice_row(table, voice_id)
    if row is None:
        st.info("The voice in the link is not in HeyGen's catalog any more.", icon=":material/help:")
        return
    with st.container(border=True, key="v_detail"):
        head = st.columns([4, 1], vertical_alignment="center")
        head[0].subheader(row["name"], anchor=False)
        if head[1].button("Use in a reel", type="primary", icon=":material/movie_edit:", key="v_use",
                          width="stretch"):
            go_to_compose(voice_id=voice_id)
        if not in_view:
            st.caption("Not in the current filter results.")
        left, middle, right = st.columns([5, 4, 4], gap="large")
        with left:
            if row["has_preview"]:
                st.markdown("**HeyGen preview**")
                st.audio(row["preview_url"])
            _sample_panel(ctx, row)
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
    view = catalog_view(ctx.runtime)
    table = voices_table(ctx.runtime, view)
    f, caption = filter_bar(table)
    display = table.display
    mask = voice_mask(table.frame, f)
    shown = display if mask is None else display[mask]
    caption.caption(f"**{len(shown):,}** of {len(table.frame):,} voices · select a row to hear it, sample it, "
                    "annotate it or use it in a reel")
    _flash()
    if shown.empty:
        st.info("No voice matches all these filters. Remove one, or clear them all.", icon=":material/search_off:")
        selected = st.query_params.get(SELECTED_PARAM)
    else:
        selected = voices_grid(shown, f)
    if selected:
        in_view = bool((shown["voice_id"].to_numpy() == selected).any())
        detail_pane(ctx, table, selected, in_view)
