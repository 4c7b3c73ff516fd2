"""The HeyGen catalog for display, pickers, validation and the worker: normalisation, facets, filters.

HeyGen's catalog values are dirty (see ``docs/heygen-v3.md`` §2.4): languages such as ``""``,
``"unknown"``, ``"en"``, ``"Turkey"`` or ``"Filipino "``; genders ``"Male"``/``"unknown"``;
names with a leading newline, NBSP, emoji and `` - Style`` suffixes. The typed objects in
:mod:`core.heygen.types` keep those raw values (they are sent back to HeyGen unchanged); this
module derives the clean values used for display and filtering only.

Main entry points:

- scalar normalisation: :func:`normalise_language`, :func:`normalise_gender`,
  :func:`clean_voice_name`, :data:`STYLE_WORDS`;
- accents: :data:`LOCALES`, :func:`locales_for`, :func:`locale_label`;
- tables: :func:`voices_frame` + :class:`VoiceFilter` / :func:`filter_voices`,
  :func:`looks_frame` + :class:`LookFilter` / :func:`filter_looks`, :func:`facet_counts`;
- lookups: :class:`CatalogIndex`; loading: :class:`Catalog`, :func:`load_catalog`.

Frames carry internal columns whose names start with ``_`` (pre-computed keys that keep
filtering vectorised); select the public columns before display.
"""

from __future__ import annotations

import hashlib
import re
import threading
import time
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from functools import lru_cache
from typing import Any

import numpy as np
import pandas as pd

from core.heygen.types import AvatarLook, Voice

# --------------------------------------------------------------------------------------------
# Languages
# --------------------------------------------------------------------------------------------

UNKNOWN_LANGUAGE = "Unknown"
MULTILINGUAL = "Multilingual"

#: ISO 639 base code -> the language name HeyGen's catalog uses (``sw`` is "Kiswahili", ``bn`` "Bangla").
# fmt: off
LANGUAGE_NAMES: dict[str, str] = {
    "ar": "Arabic", "bg": "Bulgarian", "bn": "Bangla", "ca": "Catalan", "cs": "Czech", "da": "Danish",
    "de": "German", "el": "Greek", "en": "English", "es": "Spanish", "et": "Estonian", "fa": "Persian",
    "fi": "Finnish", "fil": "Filipino", "fr": "French", "gu": "Gujarati", "he": "Hebrew", "hi": "Hindi",
    "hr": "Croatian", "hu": "Hungarian", "id": "Indonesian", "it": "Italian", "ja": "Japanese",
    "ka": "Georgian", "kn": "Kannada", "ko": "Korean", "lt": "Lithuanian", "lv": "Latvian", "mr": "Marathi",
    "ms": "Malay", "nb": "Norwegian", "ne": "Nepali", "nl": "Dutch", "pl": "Polish", "pt": "Portuguese",
    "ro": "Romanian", "ru": "Russian", "si": "Sinhala", "sk": "Slovak", "sv": "Swedish", "sw": "Kiswahili",
    "ta": "Tamil", "te": "Telugu", "th": "Thai", "tr": "Turkish", "uk": "Ukrainian", "ur": "Urdu",
    "vi": "Vietnamese", "zh": "Chinese",
}
# fmt: on
_CODE_ALIASES = {"no": "nb", "iw": "he", "tl": "fil", "in": "id"}
_NAME_ALIASES = {
    "turkey": "Turkish",
    "swahili": "Kiswahili",
    "bengali": "Bangla",
    "farsi": "Persian",
    "tagalog": "Filipino",
    "norwegian bokmål": "Norwegian",
    "mandarin": "Chinese",
}
_LANG_TAG_RE = re.compile(r"^([A-Za-z]{2,3})(?:[-_][A-Za-z0-9]{2,8})*$")


@lru_cache(maxsize=4096)
def normalise_language(raw: str | None) -> str:
    """Display/filter name of a HeyGen ``language`` value.

    ``""``, ``None`` and ``"unknown"`` (any case) -> ``"Unknown"``; ISO codes and locale tags ->
    names (``"en"``/``"en-US"`` -> ``"English"``, ``"fil"`` -> ``"Filipino"``); country names and
    synonyms -> the catalog's name (``"Turkey"`` -> ``"Turkish"``, ``"Swahili"`` -> ``"Kiswahili"``);
    surrounding/double whitespace removed (``"Filipino "`` -> ``"Filipino"``); all-lower or all-upper
    words title-cased (``"GERMAN"`` -> ``"German"``); anything else is kept as written.
    """
    text = " ".join((raw or "").split())
    folded = text.casefold()
    if not folded or folded == "unknown":
        return UNKNOWN_LANGUAGE
    if folded in _NAME_ALIASES:
        return _NAME_ALIASES[folded]
    tag = _LANG_TAG_RE.match(text)
    if tag and (len(text) <= 3 or "-" in text or "_" in text):
        code = tag.group(1).lower()
        name = LANGUAGE_NAMES.get(_CODE_ALIASES.get(code, code))
        if name:
            return name
    return text.title() if text.islower() or text.isupper() else text


# --------------------------------------------------------------------------------------------
# Gender
# --------------------------------------------------------------------------------------------

_GENDERS = {"male": "male", "m": "male", "man": "male", "female": "female", "f": "female", "woman": "female"}


def normalise_gender(raw: str | None) -> str:
    """``"male"``, ``"female"`` or ``"unknown"`` from a raw gender (case-insensitive, stripped; ``None`` ok)."""
    return _GENDERS.get((raw or "").strip().casefold(), "unknown")


# --------------------------------------------------------------------------------------------
# Voice names and styles
# --------------------------------------------------------------------------------------------

#: Delivery styles HeyGen appends to voice names after a dash, derived from the 2026-02-26 catalog:
#: every word following a name dash that describes how the voice sounds, with its count there:
#: Natural 172, Friendly 99, Excited 93, Professional 64, Serious 42, Lifelike 39, Broadcaster 34,
#: Cheerful 23, Warm 18, Soothing 17, Newscaster 16, Calm 15, Informative 10, Narration 9, Outdoor 5,
#: Angry 4, Gently 3, Affinity/Casual/Kindly/Peaceful/Versatile 1 ("Energetic": HeyGen UI term, 0 hits).
#: Take markers ("Voice 1" 198×, "UGC 3.mp4", "PVC", "IA", "Public", "Voz") are not styles: they tell
#: otherwise identical names apart, so they stay in the display name.
# fmt: off
STYLE_WORDS: tuple[str, ...] = (
    "Natural", "Friendly", "Excited", "Professional", "Lifelike", "Serious", "Broadcaster", "Cheerful",
    "Warm", "Soothing", "Newscaster", "Calm", "Informative", "Narration", "Outdoor", "Angry", "Gently",
    "Casual", "Versatile", "Kindly", "Peaceful", "Affinity", "Energetic",
)
# fmt: on
_STYLE_BY_FOLD = {w.casefold(): w for w in STYLE_WORDS}
UNNAMED_VOICE = "Unnamed voice"

_EMOJI_RE = re.compile(
    "[\U0001f000-\U0001faff\u2300-\u23ff\u2600-\u27bf\u2b00-\u2bff\ufe00-\ufe0f\u20e3\U000e0000-\U000e007f]"
)
_INVISIBLE_RE = re.compile("[\u200b\u200c\u200d\u2060\ufeff\u00ad]")
_DASH_SPLIT_RE = re.compile(r"(\s*[-\u2013\u2014]\s*)")
_EDGE_JUNK = " -\u2013\u2014_|,;:"


def _clean_text(raw: str | None) -> str:
    """Remove emoji and invisible characters; collapse all whitespace (``\\n``, NBSP, ...) to one space."""
    text = _INVISIBLE_RE.sub("", _EMOJI_RE.sub("", raw or ""))
    return " ".join(text.split())


@lru_cache(maxsize=65536)
def _name_parts(raw: str) -> tuple[str, tuple[str, ...]]:
    pieces = _DASH_SPLIT_RE.split(_clean_text(raw))
    name, styles = pieces[0], []
    for i in range(1, len(pieces) - 1, 2):
        sep, segment = pieces[i], pieces[i + 1]
        style = _STYLE_BY_FOLD.get(segment.casefold())
        if style and name.strip(_EDGE_JUNK):
            if style not in styles:
                styles.append(style)
        else:
            name += sep + segment
    name = name.strip(_EDGE_JUNK)
    return (name or UNNAMED_VOICE), tuple(styles)


def clean_voice_name(raw: str | None) -> tuple[str, str | None]:
    """``(display name, style)`` of a raw HeyGen voice name; ``style`` is ``None`` or styles joined by " · ".

    Rule:

    1. Clean: drop emoji (incl. variation selectors) and zero-width characters; turn ``\\n``, NBSP and
       every other whitespace run into one space; strip.
    2. Split at dashes (``-``, en/em dash) with optional surrounding spaces. The first segment is
       always the name. Each later segment that is exactly a :data:`STYLE_WORDS` entry
       (case-insensitive) becomes a style; every other segment stays in the name with its original
       separator, so hyphenated names and take markers survive.
    3. Trailing dashes/spaces are stripped; an empty result becomes ``"Unnamed voice"``.

    Real examples (2026-02-26 catalog)::

        "Derya - Lifelike - Excited 🤩"     -> ("Derya", "Lifelike · Excited")
        "\\nAllison\\u00a0 "                  -> ("Allison", None)
        "Warrior Rohan - Broadcaster 🎙️"     -> ("Warrior Rohan", "Broadcaster")
        "Glenn-Natural" / "WanLung -  Natural" -> ("Glenn", "Natural") / ("WanLung", "Natural")
        "Ann - Professional - Public"       -> ("Ann - Public", "Professional")
        "Annie - PVC - Excited"            -> ("Annie - PVC", "Excited")
        "Jessica - Voice 1"                -> ("Jessica - Voice 1", None)
        "Robo-Rex", "Calm Eva - Soothing 🌼" -> ("Robo-Rex", None), ("Calm Eva", "Soothing")
        "Lucas Inside — black hoodie"      -> ("Lucas Inside — black hoodie", None)
    """
    name, styles = _name_parts(raw or "")
    return name, (" · ".join(styles) or None)


# --------------------------------------------------------------------------------------------
# Accents (locales)
# --------------------------------------------------------------------------------------------

#: Locales offered per normalised catalog language; first entry is the default (heygen-v3.md §2.2).
# fmt: off
LOCALES: dict[str, list[str]] = {
    "English": ["en-US", "en-GB", "en-AU", "en-IN", "en-CA", "en-IE", "en-ZA", "en-NZ", "en-SG", "en-PH",
                "en-NG", "en-KE"],
    "Spanish": ["es-ES", "es-MX", "es-AR", "es-US", "es-CO", "es-CL", "es-PE", "es-419"],
    "Portuguese": ["pt-BR", "pt-PT"],
    "French": ["fr-FR", "fr-CA", "fr-BE", "fr-CH"],
    "German": ["de-DE", "de-AT", "de-CH"],
    "Italian": ["it-IT", "it-CH"],
    "Dutch": ["nl-NL", "nl-BE"],
    "Arabic": ["ar-SA", "ar-AE", "ar-EG", "ar-MA", "ar-JO", "ar-LB", "ar-KW", "ar-QA", "ar-DZ", "ar-IQ"],
    "Chinese": ["zh-CN", "zh-TW", "zh-HK"],
    "Hindi": ["hi-IN"],
    "Bangla": ["bn-BD", "bn-IN"],
    "Urdu": ["ur-PK", "ur-IN"],
    "Tamil": ["ta-IN", "ta-LK"],
    "Japanese": ["ja-JP"],
    "Korean": ["ko-KR"],
    "Vietnamese": ["vi-VN"],
    "Thai": ["th-TH"],
    "Indonesian": ["id-ID"],
    "Malay": ["ms-MY"],
    "Filipino": ["fil-PH"],
    "Turkish": ["tr-TR"],
    "Polish": ["pl-PL"],
    "Swedish": ["sv-SE"],
    "Russian": ["ru-RU"],
    "Ukrainian": ["uk-UA"],
    "Hebrew": ["he-IL"],
    "Greek": ["el-GR"],
    "Czech": ["cs-CZ"],
    "Danish": ["da-DK"],
    "Finnish": ["fi-FI"],
    "Norwegian": ["nb-NO"],
    "Romanian": ["ro-RO"],
    "Hungarian": ["hu-HU"],
    "Catalan": ["ca-ES"],
    "Persian": ["fa-IR"],
    "Kiswahili": ["sw-KE", "sw-TZ"],
}
# fmt: on
ALL_LOCALES: tuple[str, ...] = tuple(tag for tags in LOCALES.values() for tag in tags)

# fmt: off
_REGION_NAMES = {
    "419": "Latin America", "AE": "United Arab Emirates", "AR": "Argentina", "AT": "Austria",
    "AU": "Australia", "BD": "Bangladesh", "BE": "Belgium", "BR": "Brazil", "CA": "Canada",
    "CH": "Switzerland", "CL": "Chile", "CN": "China", "CO": "Colombia", "CZ": "Czechia", "DE": "Germany",
    "DK": "Denmark", "DZ": "Algeria", "EG": "Egypt", "ES": "Spain", "FI": "Finland", "FR": "France",
    "GB": "United Kingdom", "GR": "Greece", "HK": "Hong Kong", "HU": "Hungary", "ID": "Indonesia",
    "IE": "Ireland", "IL": "Israel", "IN": "India", "IQ": "Iraq", "IR": "Iran", "IT": "Italy",
    "JO": "Jordan", "JP": "Japan", "KE": "Kenya", "KR": "South Korea", "KW": "Kuwait", "LB": "Lebanon",
    "LK": "Sri Lanka", "MA": "Morocco", "MX": "Mexico", "MY": "Malaysia", "NG": "Nigeria",
    "NL": "Netherlands", "NO": "Norway", "NZ": "New Zealand", "PE": "Peru", "PH": "Philippines",
    "PK": "Pakistan", "PL": "Poland", "PT": "Portugal", "QA": "Qatar", "RO": "Romania", "RU": "Russia",
    "SA": "Saudi Arabia", "SE": "Sweden", "SG": "Singapore", "TH": "Thailand", "TR": "Türkiye",
    "TW": "Taiwan", "TZ": "Tanzania", "UA": "Ukraine", "US": "United States", "VN": "Vietnam",
    "ZA": "South Africa",
}
# fmt: on
_LOCALE_LABEL_OVERRIDES = {
    "zh-CN": "Chinese (China, Mandarin Simplified)",
    "zh-TW": "Chinese (Taiwan, Mandarin Traditional)",
    "zh-HK": "Chinese (Hong Kong, Cantonese)",
}


def locales_for(language: str | None, support_locale: bool) -> list[str]:
    """Locale tags a voice can be given as ``voice_settings.locale`` (first = default).

    ``language`` may be raw or normalised. ``support_locale`` False -> ``[]`` (native accent; send no
    locale). ``Multilingual`` -> :data:`ALL_LOCALES`. Languages missing from :data:`LOCALES`
    (``Unknown``, Bulgarian, Slovak, ...) -> ``[]``. Returns a new list.
    """
    if not support_locale:
        return []
    lang = normalise_language(language)
    if lang == MULTILINGUAL:
        return list(ALL_LOCALES)
    return list(LOCALES.get(lang, ()))


@lru_cache(maxsize=1024)
def locale_label(tag: str) -> str:
    """Human label of a BCP-47 tag: ``"en-GB"`` -> ``"English (United Kingdom)"``,
    ``"es-419"`` -> ``"Spanish (Latin America)"``, ``"zh-HK"`` -> ``"Chinese (Hong Kong, Cantonese)"``.

    Unknown parts are shown as written (``"xx-YY"`` -> ``"xx (YY)"``).
    """
    lang, _, region = (tag or "").strip().replace("_", "-").partition("-")
    canonical = f"{lang.lower()}-{region.upper()}" if region else lang.lower()
    if canonical in _LOCALE_LABEL_OVERRIDES:
        return _LOCALE_LABEL_OVERRIDES[canonical]
    name = LANGUAGE_NAMES.get(lang.lower(), lang)
    return f"{name} ({_REGION_NAMES.get(region.upper(), region)})" if region else name


# --------------------------------------------------------------------------------------------
# Shared building blocks for frames
# --------------------------------------------------------------------------------------------

_SEP = "\x1f"  # joins list elements inside the internal key columns
_HEX32_RE = re.compile(r"^[0-9a-fA-F]{32}$")
AGE_UNSPECIFIED = "unspecified"


def is_starfish_id(voice_id: str | None) -> bool:
    """True for 32-hex voice ids (HeyGen's own Starfish voices; the only ones ``POST /v3/voices/speech`` takes)."""
    return bool(voice_id) and bool(_HEX32_RE.match(voice_id))


def usable_preview_url(url: str | None) -> str | None:
    """The URL if a browser can fetch it (``http://`` or ``https://``), else ``None``.

    ``None``, ``""``, ``s3://…`` URIs and relative ``/v1/voice/…`` paths are not usable. Presigned
    https links count as usable even though they may have expired (nothing tells without a request).
    """
    text = (url or "").strip()
    return text if text[:8].lower().startswith(("http://", "https://")) else None


def _get(obj: Any, key: str, default: Any = None) -> Any:
    """Attribute or mapping key of an annotation-like object."""
    if isinstance(obj, Mapping):
        return obj.get(key, default)
    return getattr(obj, key, default)


def _clean_tags(raw: Iterable[Any] | None) -> list[str]:
    tags: list[str] = []
    for tag in raw or ():
        text = " ".join(str(tag).split())
        if text and text not in tags:
            tags.append(text)
    return tags


def _list_key(values: Sequence[Sequence[str]]) -> pd.Categorical:
    """Categorical of ``_SEP``-joined lists: a few distinct keys stand for many rows."""
    return pd.Categorical([_SEP.join(v) for v in values])


def _key_series(df: pd.DataFrame, column: str) -> pd.Series:
    key = f"_{column}_key"
    if key in df.columns:
        return df[key]
    return pd.Series(_list_key(df[column].tolist()), index=df.index)


def _list_mask(df: pd.DataFrame, column: str, wanted: Iterable[str]) -> np.ndarray:
    """Rows whose list ``column`` shares at least one element with ``wanted`` (vectorised over keys)."""
    wanted = set(wanted)
    keys = _key_series(df, column)
    hits = [i for i, k in enumerate(keys.cat.categories) if k and not wanted.isdisjoint(k.split(_SEP))]
    return np.isin(keys.cat.codes.to_numpy(), hits)


def _search_mask(search: pd.Series, query: str) -> np.ndarray:
    """Every whitespace-separated term of ``query`` occurs (case-insensitively) in the search text."""
    mask = np.ones(len(search), dtype=bool)
    for term in query.lower().split():
        mask &= search.str.contains(term, regex=False).to_numpy(dtype=bool, na_value=False)
    return mask


def _facet(values: Iterable[str] | None, fn: Callable[[str], str] | None = None) -> set[str]:
    return {fn(v) if fn else v for v in values or ()}


# --------------------------------------------------------------------------------------------
# Voices frame and filter
# --------------------------------------------------------------------------------------------


def _voice_type(raw: str | None) -> str:
    return (raw or "").strip().lower() or "public"


def _distinct_map(values: Sequence[Any], fn: Callable[[Any], Any]) -> list[Any]:
    """``[fn(v) for v in values]`` computing ``fn`` once per distinct value (results are shared)."""
    cache = {v: fn(v) for v in set(values)}
    return [cache[v] for v in values]


def _name_cell(raw: str | None) -> tuple[str, str | None, list[str]]:
    name, styles = _name_parts(raw or "")
    return name, (styles[0] if styles else None), list(styles)


def _accent_cell(key: tuple[str, bool]) -> tuple[list[str], list[str]]:
    tags = locales_for(*key)
    return tags, [locale_label(t) for t in tags]


def _annotation_columns(ids: list[str], annotations: Mapping[str, Any] | None) -> dict[str, list]:
    """Team columns ``tags``, ``age_group``, ``approved``, ``notes`` (defaults for unannotated voices)."""
    n, no_tags = len(ids), []  # one shared empty list for unannotated voices
    cols: dict[str, list] = {
        "tags": [no_tags] * n,
        "age_group": [None] * n,
        "approved": [False] * n,
        "notes": [""] * n,
    }
    for i, voice_id in enumerate(ids):
        ann = annotations.get(voice_id) if annotations else None
        if ann is None:
            continue
        cols["tags"][i] = _clean_tags(_get(ann, "tags"))
        cols["age_group"][i] = _get(ann, "age_group") or None
        cols["approved"][i] = bool(_get(ann, "approved", False))
        cols["notes"][i] = str(_get(ann, "notes") or "")
    return cols


def _voice_search(
    names: list[str], styles: list[list[str]], languages: list[str], ids: list[str], team: dict[str, list]
) -> pd.Series:
    """Lower-case text searched by ``VoiceFilter.query``: name, styles, language, id, notes, tags."""
    heads = _distinct_map(list(zip(names, languages, strict=True)), lambda nl: "\n".join(nl))
    styled = [f"{h}\n{' '.join(s)}" if s else h for h, s in zip(heads, styles, strict=True)]
    text = [
        f"{h}\n{i}\n{n}\n{' '.join(t)}"
        for h, i, n, t in zip(styled, ids, team["notes"], team["tags"], strict=True)
    ]
    return pd.Series(text, dtype="str").str.lower()


def voices_frame(voices: Sequence[Voice], annotations: Mapping[str, Any] | None = None) -> pd.DataFrame:
    """One row per voice (catalog order) with clean values for display and filtering.

    Columns, in display order: ``voice_id``; ``name`` (clean, :func:`clean_voice_name`) and
    ``raw_name``; ``language`` (normalised, categorical) and ``raw_language``; ``gender``
    (``male``/``female``/``unknown``, categorical); ``style`` (first style or None, categorical) and
    ``styles`` (list[str]); ``accents`` (list of offered locale tags, :func:`locales_for`) and
    ``accent_labels`` (list[str]); ``has_preview`` (bool) and ``preview_url`` (str or None, see
    :func:`usable_preview_url`); ``support_pause``, ``support_locale`` (bool); ``type``
    (``public``/``private``, categorical); ``engine`` (``starfish`` for 32-hex ids else
    ``third-party``, categorical); team columns from ``annotations`` (voice_id -> object or dict with
    ``tags``, ``age_group``, ``approved``, ``notes``; missing -> ``[]``, None, False, ``""``):
    ``tags`` (list[str]), ``age_group`` (str or None, categorical), ``approved`` (bool), ``notes`` (str).
    Internal columns: ``_styles_key``, ``_accents_key``, ``_tags_key`` (categorical keys of the lists)
    and ``_search`` (lower-case text searched by ``VoiceFilter.query``).

    List cells of equal value are shared between rows (computed once per distinct name/language):
    treat the frame as read-only. Cost is linear; values are computed once per distinct raw string.
    """
    ids = [v.voice_id for v in voices]
    raw_names = [v.name for v in voices]
    raw_languages = [v.language for v in voices]
    support_locale = [bool(v.support_locale) for v in voices]
    name_cells = _distinct_map(raw_names, _name_cell)
    languages = _distinct_map(raw_languages, normalise_language)
    accent_cells = _distinct_map(list(zip(languages, support_locale, strict=True)), _accent_cell)
    previews = [usable_preview_url(v.preview_audio_url) for v in voices]
    team = _annotation_columns(ids, annotations)
    names = [c[0] for c in name_cells]
    styles = [c[2] for c in name_cells]
    accents = [c[0] for c in accent_cells]
    df = pd.DataFrame(
        {
            "voice_id": pd.Series(ids, dtype="str"),
            "name": pd.Series(names, dtype="str"),
            "raw_name": pd.Series(raw_names, dtype=object),
            "language": pd.Categorical(languages),
            "raw_language": pd.Series(raw_languages, dtype=object),
            "gender": pd.Categorical(_distinct_map([v.gender for v in voices], normalise_gender)),
            "style": pd.Categorical([c[1] for c in name_cells]),
            "styles": pd.Series(styles, dtype=object),
            "accents": pd.Series(accents, dtype=object),
            "accent_labels": pd.Series([c[1] for c in accent_cells], dtype=object),
            "has_preview": np.array([p is not None for p in previews], dtype=bool),
            "preview_url": pd.Series(previews, dtype=object),
            "support_pause": np.array([bool(v.support_pause) for v in voices], dtype=bool),
            "support_locale": np.array(support_locale, dtype=bool),
            "type": pd.Categorical(_distinct_map([v.type for v in voices], _voice_type)),
            "engine": pd.Categorical(["starfish" if is_starfish_id(i) else "third-party" for i in ids]),
            "tags": pd.Series(team["tags"], dtype=object),
            "age_group": pd.Categorical(team["age_group"]),
            "approved": np.array(team["approved"], dtype=bool),
            "notes": pd.Series(team["notes"], dtype="str"),
        }
    )
    df["_search"] = _voice_search(names, styles, languages, ids, team)
    for col, values in (("styles", styles), ("accents", accents), ("tags", team["tags"])):
        df[f"_{col}_key"] = _list_key(values)
    return df


@dataclass(frozen=True)
class VoiceFilter:
    """Voice facets. Empty/None = no filter; within a facet OR, across facets AND.

    ``languages`` (normalised names; raw values are normalised), ``genders``, ``accents`` (locale tags:
    voices offering any of them), ``styles``, ``has_preview`` (None/True/False), ``tags``
    (annotation tags, any), ``approved_only``, ``age_groups`` (``"unspecified"`` matches voices
    without one), ``types`` (``public``/``private``), ``query`` (every whitespace-separated term must
    occur, case-insensitively, in name, styles, language, voice_id, notes or tags).
    """

    languages: tuple[str, ...] = ()
    genders: tuple[str, ...] = ()
    accents: tuple[str, ...] = ()
    styles: tuple[str, ...] = ()
    has_preview: bool | None = None
    tags: tuple[str, ...] = ()
    approved_only: bool = False
    age_groups: tuple[str, ...] = ()
    types: tuple[str, ...] = ()
    query: str = ""


def _age_mask(df: pd.DataFrame, groups: set[str]) -> np.ndarray:
    ages = df["age_group"]
    mask = ages.isin(groups).to_numpy()
    if AGE_UNSPECIFIED in groups:
        mask = mask | ages.isna().to_numpy()
    return mask


def filter_voices(df: pd.DataFrame, f: VoiceFilter) -> pd.DataFrame:
    """Rows of a :func:`voices_frame` frame matching ``f`` (vectorised; order kept).

    Returns ``df`` itself when no facet is set; otherwise a new frame (do not mutate either).
    """
    mask = voice_mask(df, f)
    return df if mask is None else df[mask]


def voice_mask(df: pd.DataFrame, f: VoiceFilter) -> np.ndarray | None:
    """Boolean numpy mask of the rows of a :func:`voices_frame` frame matching ``f``; ``None`` when no
    facet is set (every row matches). Lets a caller take the rows from another frame with the same rows
    (e.g. only the displayed columns)."""
    masks: list[np.ndarray] = []
    if f.languages:
        masks.append(df["language"].isin(_facet(f.languages, normalise_language)).to_numpy())
    if f.genders:
        masks.append(df["gender"].isin(_facet(f.genders, normalise_gender)).to_numpy())
    if f.types:
        masks.append(df["type"].isin(_facet(f.types, str.lower)).to_numpy())
    for column in ("accents", "styles", "tags"):
        if getattr(f, column):
            masks.append(_list_mask(df, column, getattr(f, column)))
    if f.has_preview is not None:
        masks.append(df["has_preview"].to_numpy() == f.has_preview)
    if f.approved_only:
        masks.append(df["approved"].to_numpy(dtype=bool))
    if f.age_groups:
        masks.append(_age_mask(df, set(f.age_groups)))
    if f.query.strip():
        masks.append(_search_mask(df["_search"], f.query))
    if not masks:
        return None
    return np.logical_and.reduce(masks)


def facet_counts(df: pd.DataFrame, column: str) -> dict[str, int]:
    """``{value: rows}`` for a column, count descending then value ascending; zero counts and nulls omitted.

    List columns (``styles``, ``accents``, ``tags``, ``engines``, ...) count each element once per row,
    so their counts can sum to more than ``len(df)``.
    """
    series = df[column]
    if f"_{column}_key" in df.columns or (len(series) and isinstance(series.iloc[0], list)):
        counts: dict[str, int] = {}
        keys = _key_series(df, column)
        for key, n in keys.value_counts(sort=False).items():
            for item in key.split(_SEP) if key else ():
                counts[item] = counts.get(item, 0) + int(n)
    else:
        counts = {str(k): int(n) for k, n in series.value_counts(sort=False, dropna=True).items()}
    return dict(sorted(((k, n) for k, n in counts.items() if n), key=lambda kv: (-kv[1], kv[0])))


# --------------------------------------------------------------------------------------------
# Looks frame and filter
# --------------------------------------------------------------------------------------------

#: Public columns of :func:`looks_frame`, in display order.
LOOK_COLUMNS: list[str] = [
    "id",
    "name",
    "group_id",
    "avatar_type",
    "gender",
    "orientation",
    "width",
    "height",
    "engines",
    "ownership",
    "ready",
    "preview_image_url",
    "preview_video_url",
    "default_voice_id",
]
_LOOK_CATEGORICALS = ("avatar_type", "gender", "orientation", "ownership")


def look_ownership(look: AvatarLook) -> str:
    """``"private"`` when the look has a ``status`` (HeyGen sets it on private looks only) or is a
    ``digital_twin`` (the account's own twins; in the sandbox the 32-hex ids), else ``"public"``."""
    return "private" if look.status is not None or look.avatar_type == "digital_twin" else "public"


def _look_row(look: AvatarLook) -> tuple:
    name = _clean_text(look.name) or look.id
    search = "\n".join((name, look.id, look.group_id or "")).lower()
    return (
        look.id,
        name,
        look.group_id,
        look.avatar_type,
        normalise_gender(look.gender),
        (look.preferred_orientation or "unknown").lower(),
        look.image_width,
        look.image_height,
        list(look.supported_api_engines or ()),
        look_ownership(look),
        look.status in (None, "completed"),
        look.preview_image_url,
        look.preview_video_url,
        look.default_voice_id,
        search,
    )


def looks_frame(looks: Sequence[AvatarLook]) -> pd.DataFrame:
    """One row per look (duplicates by ``id`` dropped, first kept).

    Columns (see :data:`LOOK_COLUMNS`): ``id``, ``name`` (emoji/whitespace cleaned), ``group_id``,
    ``avatar_type``, ``gender`` (``male``/``female``/``unknown``; None -> unknown), ``orientation``
    (``portrait``/``landscape``/``square``/``unknown``), ``width``/``height`` (pixels, nullable Int64),
    ``engines`` (list[str] of ``supported_api_engines``), ``ownership`` (:func:`look_ownership`),
    ``ready`` (status None or ``completed``), ``preview_image_url``, ``preview_video_url``,
    ``default_voice_id``. Internal columns ``_engines_key`` and ``_search`` (name, id, group id).
    """
    unique: dict[str, AvatarLook] = {}
    for lk in looks:
        unique.setdefault(lk.id, lk)
    df = pd.DataFrame.from_records(
        [_look_row(lk) for lk in unique.values()], columns=[*LOOK_COLUMNS, "_search"]
    )
    for col in _LOOK_CATEGORICALS:
        df[col] = df[col].astype("category")
    for col in ("width", "height"):
        df[col] = df[col].astype("Int64")
    for col in ("group_id", "preview_image_url", "preview_video_url", "default_voice_id"):
        df[col] = df[col].astype(object)
    df["_engines_key"] = _list_key(df["engines"].tolist())
    return df


@dataclass(frozen=True)
class LookFilter:
    """Look facets; empty/None = no filter; within a facet OR, across facets AND.

    ``engines`` matches looks supporting any selected engine; ``ownership`` holds ``public``/``private``;
    ``ready_only`` keeps looks usable now; ``query`` terms must all occur in name, id or group id.
    """

    genders: tuple[str, ...] = ()
    avatar_types: tuple[str, ...] = ()
    orientations: tuple[str, ...] = ()
    engines: tuple[str, ...] = ()
    ownership: tuple[str, ...] = ()
    ready_only: bool = False
    query: str = ""


def filter_looks(df: pd.DataFrame, f: LookFilter) -> pd.DataFrame:
    """Rows of a :func:`looks_frame` frame matching ``f``; ``df`` itself when no facet is set."""
    masks: list[np.ndarray] = []
    if f.genders:
        masks.append(df["gender"].isin(_facet(f.genders, normalise_gender)).to_numpy())
    for column, values in (
        ("avatar_type", f.avatar_types),
        ("orientation", f.orientations),
        ("ownership", f.ownership),
    ):
        if values:
            masks.append(df[column].isin(set(values)).to_numpy())
    if f.engines:
        masks.append(_list_mask(df, "engines", f.engines))
    if f.ready_only:
        masks.append(df["ready"].to_numpy(dtype=bool))
    if f.query.strip():
        masks.append(_search_mask(df["_search"], f.query))
    if not masks:
        return df
    return df[np.logical_and.reduce(masks)]


# --------------------------------------------------------------------------------------------
# Index and loading
# --------------------------------------------------------------------------------------------


class CatalogIndex:
    """Dict lookups over one catalog snapshot, for pickers, validation (core.reels) and the worker.

    ``voices``/``looks`` keep catalog order; duplicate ids keep their first occurrence.
    """

    def __init__(self, voices: Sequence[Voice], looks: Sequence[AvatarLook]) -> None:
        self.voices: list[Voice] = list(voices)
        self.looks: list[AvatarLook] = list(looks)
        self._voices: dict[str, Voice] = {}
        self._looks: dict[str, AvatarLook] = {}
        for v in self.voices:
            self._voices.setdefault(v.voice_id, v)
        for lk in self.looks:
            self._looks.setdefault(lk.id, lk)

    def voice(self, voice_id: str | None) -> Voice | None:
        """The voice with this id, or ``None``."""
        return self._voices.get(voice_id) if voice_id else None

    def look(self, look_id: str | None) -> AvatarLook | None:
        """The look with this id (the ``avatar_id`` of a scene), or ``None``."""
        return self._looks.get(look_id) if look_id else None

    def locales(self, voice_id: str | None) -> list[str]:
        """Locale tags the voice accepts (:func:`locales_for`); ``[]`` for unknown ids."""
        v = self.voice(voice_id)
        return locales_for(v.language, v.support_locale) if v else []

    def voice_label(self, voice_id: str | None) -> str:
        """Picker label, e.g. ``"Derya (Lifelike · Excited) · Turkish · female"``; unknown ids as
        ``"Unknown voice (<id>)"``."""
        v = self.voice(voice_id)
        if v is None:
            return f"Unknown voice ({voice_id})"
        name, style = clean_voice_name(v.name)
        head = f"{name} ({style})" if style else name
        return f"{head} · {normalise_language(v.language)} · {normalise_gender(v.gender)}"

    def look_label(self, look_id: str | None) -> str:
        """Picker label, e.g. ``"Abigail (Upper Body) · studio avatar · landscape"``; unknown ids as
        ``"Unknown avatar (<id>)"``."""
        lk = self.look(look_id)
        if lk is None:
            return f"Unknown avatar ({look_id})"
        parts = [_clean_text(lk.name) or lk.id, (lk.avatar_type or "").replace("_", " ")]
        if lk.preferred_orientation:
            parts.append(lk.preferred_orientation)
        return " · ".join(p for p in parts if p)


@dataclass
class Catalog:
    """A loaded catalog: raw typed objects, their index, and when HeyGen produced them.

    ``fetched_at`` is the (oldest) fetch time of the cached responses when the client reports it, else
    None; ``from_cache`` is True when that time predates this load (no fresh HeyGen call was needed).
    """

    voices: list[Voice]
    looks: list[AvatarLook]
    index: CatalogIndex
    fetched_at: datetime | None = None
    from_cache: bool = False
    #: HeyGen failed or was unreachable, so (part of) this catalog is an expired cached copy.
    stale: bool = False


Progress = Callable[[float, str], None]
_EXPECTED = {"voices": 2500, "looks": 1500}  # rough catalog sizes, only to pace the progress bar


def _phase_progress(progress: Progress | None, kind: str, start: float, span: float):
    """Map the client's per-page ``(done_count, has_more)`` onto ``progress(fraction, message)``."""
    if progress is None:
        return None

    def report(done_count: int, has_more: bool = False, *_: Any) -> None:
        part = min(done_count / _EXPECTED[kind], 0.95) if has_more else 1.0
        progress(start + span * part, f"Loading {kind}… {done_count:,} so far")

    return report


def _fetched_at(client: Any) -> datetime | None:
    getter = getattr(client, "catalog_fetched_at", None)
    if not callable(getter):
        return None
    stamps = [t for t in (getter("voices"), getter("looks")) if isinstance(t, datetime)]
    return min(stamps, key=_as_utc) if stamps else None


def _as_utc(t: datetime) -> datetime:
    return t.replace(tzinfo=UTC) if t.tzinfo is None else t.astimezone(UTC)


def load_catalog(client: Any, *, refresh: bool = False, progress: Progress | None = None) -> Catalog:
    """Fetch voices (``GET /v3/voices``, all pages of private then public) and looks
    (``GET /v3/avatars/looks``, all pages).

    Calls on a cold cache: ⌈private/100⌉ + ⌈public/100⌉ + ⌈looks/50⌉ (1 + 24 + 26 for the
    2026 catalog); none while the cache is fresh.

    ``client`` is a ``core.heygen.HeyGenClient`` (``list_voices``/``list_avatar_looks`` with
    ``refresh=`` and ``progress=``; optional ``catalog_fetched_at(kind)``). ``refresh`` bypasses the
    HTTP cache. ``progress(fraction 0..1, message)``: voices fill 0–0.5, looks 0.5–1.0.
    Raises the client's ``HeyGenError`` subclasses unchanged.
    """
    started = datetime.now(UTC)
    if progress:
        progress(0.0, "Loading voices…")
    # GET /v3/voices lists public voices unless asked for the account's private ones (clones).
    private = client.list_voices(type="private", refresh=refresh)
    stale = bool(getattr(client, "last_stale", False))
    public = client.list_voices(refresh=refresh, progress=_phase_progress(progress, "voices", 0.0, 0.5))
    stale = stale or bool(getattr(client, "last_stale", False))
    seen: set[str] = set()
    voices = [v for v in (*private, *public) if not (v.voice_id in seen or seen.add(v.voice_id))]
    looks = client.list_avatar_looks(refresh=refresh, progress=_phase_progress(progress, "looks", 0.5, 0.5))
    stale = stale or bool(getattr(client, "last_stale", False))
    if progress:
        progress(1.0, f"Loaded {len(voices):,} voices and {len(looks):,} looks")
    fetched = _fetched_at(client)
    from_cache = fetched is not None and _as_utc(fetched) < started
    return Catalog(list(voices), list(looks), CatalogIndex(voices, looks), fetched, from_cache or stale, stale)


class CatalogStore:
    """The process-wide catalog, shared by every page session and the embedded worker.

    The first :meth:`get` loads it through the client (and so through the HTTP cache); later
    calls return the same :class:`Catalog` until ``ttl_s`` seconds have passed or ``refresh``
    is asked. Concurrent callers wait on one load instead of each walking HeyGen's pages.
    """

    def __init__(self, client: Any, ttl_s: float) -> None:
        self.client = client
        self.ttl_s = ttl_s
        self._lock = threading.Lock()
        self._catalog: Catalog | None = None
        self._loaded_at = 0.0

    @property
    def current(self) -> Catalog | None:
        """The loaded catalog, or ``None`` before the first load (never triggers one)."""
        return self._catalog

    #: A stale catalog (HeyGen was unreachable) is retried after this many seconds.
    STALE_RETRY_S = 300.0

    def is_fresh(self) -> bool:
        """True when a loaded catalog younger than ``ttl_s`` seconds (5 minutes if stale) is in memory."""
        if self._catalog is None:
            return False
        ttl = min(self.ttl_s, self.STALE_RETRY_S) if self._catalog.stale else self.ttl_s
        return time.monotonic() - self._loaded_at < ttl

    def get(self, *, refresh: bool = False, progress: Progress | None = None) -> Catalog:
        """The catalog, loading it first when missing, too old, or ``refresh`` is True.

        Raises:
            HeyGenError subclasses when a load is needed and HeyGen (and the cache) cannot serve it.
        """
        with self._lock:
            if refresh or not self.is_fresh():
                self._catalog = load_catalog(self.client, refresh=refresh, progress=progress)
                self._loaded_at = time.monotonic()
            return self._catalog


def synthetic_voices(n_copies: int, voices: Sequence[Voice]) -> list[Voice]:
    """``n_copies`` × ``voices`` for benchmarks: copy 0 keeps ids; later copies get unique ids of the
    same kind (32-hex stays 32-hex; others become 20-char ids) and the same other fields."""
    out: list[Voice] = list(voices)
    for k in range(1, n_copies):
        for v in voices:
            digest = hashlib.md5(f"{v.voice_id}:{k}".encode(), usedforsecurity=False).hexdigest()
            new_id = digest if is_starfish_id(v.voice_id) else "x" + digest[:19]
            out.append(v.model_copy(update={"voice_id": new_id}))
    return out
