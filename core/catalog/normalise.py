"""Clean values of HeyGen's dirty catalog fields: languages, genders, voice names and styles, accents.

HeyGen's catalog values are dirty (see ``docs/heygen-v3.md`` §2.4): languages such as ``""``,
``"unknown"``, ``"en"``, ``"Turkey"`` or ``"Filipino "``; genders ``"Male"``/``"unknown"``;
names with a leading newline, NBSP, emoji and `` - Style`` suffixes. The typed objects in
:mod:`core.heygen.types` keep those raw values (they are sent back to HeyGen unchanged); this
module derives the clean values used for display and filtering only.
"""

from __future__ import annotations

import re
import unicodedata
from functools import lru_cache

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


def clean_text(raw: str | None) -> str:
    """Remove emoji and invisible characters; collapse all whitespace (``\\n``, NBSP, ...) to one space."""
    text = _INVISIBLE_RE.sub("", _EMOJI_RE.sub("", raw or ""))
    return " ".join(text.split())


@lru_cache(maxsize=65536)
def name_parts(raw: str) -> tuple[str, tuple[str, ...]]:
    pieces = _DASH_SPLIT_RE.split(clean_text(raw))
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
    name, styles = name_parts(raw or "")
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


def fold(text: str | None) -> str:
    """Text for accent- and case-insensitive matching: ``"Lucía Ñandú"`` -> ``"lucia nandu"``.

    Decomposes (NFKD), drops combining marks, then case-folds (``"Straße"`` -> ``"strasse"``).
    """
    decomposed = unicodedata.normalize("NFKD", text or "")
    return "".join(c for c in decomposed if not unicodedata.combining(c)).casefold()


def locale_terms(tags: list[str] | tuple[str, ...]) -> str:
    """Searchable text for a voice's accents: each locale tag and its label (``"es-MX Spanish (Mexico)"``);
    empty for a voice without accent choice."""
    return " ".join(f"{t} {locale_label(t)}" for t in tags)
