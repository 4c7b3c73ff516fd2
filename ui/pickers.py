"""Avatar look and voice pickers for the scene editor.

Both are searchable selectboxes whose value (``st.session_state[key]``) is the HeyGen id
(``avatar_id`` / ``voice_id``). The voice picker narrows its list in place with language,
gender and accent filters; the scene's current voice always stays in the list, so changing a
filter never changes the chosen voice.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pandas as pd
import streamlit as st

from core.catalog.index import CatalogIndex, look_labels, voice_labels
from core.catalog.normalise import locale_label, normalise_language
from core.catalog.tables import facet_counts, voice_choices
from core.reels.validation import ENGINE_LABELS

GENDERS = ("female", "male")


def _init(key: str, value: Any) -> None:
    """Seed a widget's value before it is first drawn (never together with a ``value=`` argument)."""
    if key not in st.session_state:
        st.session_state[key] = value


def _label(labels: dict[str, str], fallback: Callable[[str], str]) -> Callable[[str], str]:
    def label(item_id: str) -> str:
        return labels.get(item_id) or fallback(item_id)

    return label


def look_picker(looks: pd.DataFrame, index: CatalogIndex, *, key: str, disabled: bool = False,
                on_change: Callable | None = None, args: tuple = ()) -> str | None:
    """A searchable selectbox (typed text must occur in the label, so a name finds that name) of every avatar look ("name · avatar type · orientation") plus a small
    preview image of the chosen look. Returns the chosen look id (``avatar_id``) or ``None``."""
    options = looks["id"].tolist()
    current = st.session_state.get(key)
    if current and index.look(current) is None:
        options = [current, *options]  # a look that left the catalog stays visible (validation explains)
    chosen = st.selectbox(
        "Avatar look", options, index=None, key=key, format_func=_label(look_labels(index), index.look_label),
        placeholder=f"Search {len(options):,} looks by name…", disabled=disabled,
        on_change=on_change, args=args, filter_mode="contains",
    )
    look = index.look(chosen)
    if look is not None:
        img, info = st.columns([1, 2], vertical_alignment="center")
        if look.preview_image_url:
            img.image(look.preview_image_url, width=120)
        else:
            img.caption("No preview image")
        engines = ", ".join(ENGINE_LABELS.get(e, e) for e in look.supported_api_engines) or "not listed"
        info.caption(f"{(look.avatar_type or '').replace('_', ' ')} · {look.preferred_orientation or 'any'} "
                     f"orientation  \nEngines: {engines}")
    return chosen


ANY = ""  # the "any" choice of a filter (``None`` would show the selectbox's placeholder instead)


def _language_options(voices: pd.DataFrame) -> tuple[list[str], dict[str, int]]:
    counts = facet_counts(voices, "language")
    return [ANY, *sorted(counts)], counts


def voice_picker(voices: pd.DataFrame, index: CatalogIndex, *, key: str, disabled: bool = False,
                 on_change: Callable | None = None, args: tuple = ()) -> str | None:
    """Language / accent / gender filters, then a searchable selectbox of the matching voices, then the
    chosen voice's preview. Filter widgets use ``key`` + ``_lang``, ``_gender``, ``_accent`` and start
    from the current voice's language. Returns the chosen ``voice_id`` or ``None``."""
    current = st.session_state.get(key)
    voice = index.voice(current)
    lang_options, lang_counts = _language_options(voices)
    lang_key, accent_key = f"{key}_lang", f"{key}_accent"
    _init(lang_key, normalise_language(voice.language) if voice else ANY)
    if st.session_state[lang_key] not in lang_counts:
        st.session_state[lang_key] = ANY
    lcol, acol = st.columns([3, 2])
    language = lcol.selectbox(
        "Language", lang_options, key=lang_key, disabled=disabled,
        format_func=lambda v: f"{v} ({lang_counts[v]:,})" if v else "Any language",
    )
    in_language = voices[voices["language"] == language] if language else voices
    accent_counts = facet_counts(in_language, "accents")
    if st.session_state.get(accent_key) not in (None, ANY, *accent_counts):
        st.session_state[accent_key] = ANY
    accent = acol.selectbox(
        "Can speak", [ANY, *sorted(accent_counts, key=locale_label)], key=accent_key, disabled=disabled,
        format_func=lambda v: locale_label(v) if v else "Any accent",
        help="Only voices that can speak this accent (locale); the scene's own accent is set on the right.",
    )
    gender = st.segmented_control("Gender", GENDERS, key=f"{key}_gender", disabled=disabled,
                                  format_func=str.capitalize, help="None selected: any gender.")
    matched = voice_choices(voices, language=language or None, gender=gender, accent=accent or None)
    matching = len(matched)
    ids = [current, *(i for i in matched if i != current)] if current else matched
    chosen = st.selectbox(
        "Voice", ids, index=None, key=key, format_func=_label(voice_labels(index), index.voice_label), disabled=disabled,
        placeholder=f"Type a name: {matching:,} matching voices…" if matching else "No voice matches the filters",
        on_change=on_change, args=args, filter_mode="contains",
    )
    _voice_preview(voices, chosen)
    return chosen


def _voice_preview(voices: pd.DataFrame, voice_id: str | None) -> None:
    if not voice_id:
        return
    row = voices[voices["voice_id"] == voice_id]
    url = row["preview_url"].iloc[0] if len(row) else None
    if url:
        st.audio(url)
    else:
        st.caption("HeyGen has no preview clip for this voice.")
