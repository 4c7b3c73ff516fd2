"""The catalog as pandas tables: the voices and looks frames, their filters and facet counts.

Frames carry internal columns whose names start with ``_`` (pre-computed keys that keep
filtering vectorised); select the public columns before display.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from core.catalog.normalise import (
    clean_text,
    fold,
    locale_label,
    locale_terms,
    locales_for,
    name_parts,
    normalise_gender,
    normalise_language,
)
from core.heygen.types import AvatarLook, Voice

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
    """Every whitespace-separated term of ``query`` occurs in the search text (built with :func:`fold`),
    ignoring case and accents: ``"lucia"`` finds ``"Lucía"``."""
    mask = np.ones(len(search), dtype=bool)
    for term in fold(query).split():
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
    name, styles = name_parts(raw or "")
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
    names: list[str], styles: list[list[str]], languages: list[str], ids: list[str], team: dict[str, list],
    accents: list[list[str]],
) -> pd.Series:
    """Folded text (:func:`fold`) searched by ``VoiceFilter.query``: name, styles, language, accents (locale
    tags and labels, so ``es-MX`` and ``Mexico`` find the voices that can speak it), id, notes, tags."""
    heads = _distinct_map(list(zip(names, languages, strict=True)), lambda nl: fold("\n".join(nl)))
    spoken = _distinct_map([tuple(a) for a in accents], lambda a: fold(locale_terms(a)))
    styled = [f"{h}\n{fold(' '.join(s))}" if s else h for h, s in zip(heads, styles, strict=True)]
    text = [
        f"{h}\n{a}\n{i.lower()}\n{fold(n)}\n{fold(' '.join(t))}"
        for h, a, i, n, t in zip(styled, spoken, ids, team["notes"], team["tags"], strict=True)
    ]
    return pd.Series(text, dtype="str")


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
    and ``_search`` (folded text searched by ``VoiceFilter.query``, :func:`core.catalog.normalise.fold`).

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
    df["_search"] = _voice_search(names, styles, languages, ids, team, accents)
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
    masks = facet_masks(df, f)
    if not masks:
        return None
    return np.logical_and.reduce(list(masks.values()))


def facet_masks(df: pd.DataFrame, f: VoiceFilter) -> dict[str, np.ndarray]:
    """``{VoiceFilter field name: boolean mask}`` for every facet ``f`` sets (unset facets are absent);
    the rows matching ``f`` are the AND of all of them."""
    masks: dict[str, np.ndarray] = {}
    if f.languages:
        masks["languages"] = df["language"].isin(_facet(f.languages, normalise_language)).to_numpy()
    if f.genders:
        masks["genders"] = df["gender"].isin(_facet(f.genders, normalise_gender)).to_numpy()
    if f.types:
        masks["types"] = df["type"].isin(_facet(f.types, str.lower)).to_numpy()
    for column in ("accents", "styles", "tags"):
        if getattr(f, column):
            masks[column] = _list_mask(df, column, getattr(f, column))
    if f.has_preview is not None:
        masks["has_preview"] = df["has_preview"].to_numpy() == f.has_preview
    if f.approved_only:
        masks["approved_only"] = df["approved"].to_numpy(dtype=bool)
    if f.age_groups:
        masks["age_groups"] = _age_mask(df, set(f.age_groups))
    if f.query.strip():
        masks["query"] = _search_mask(df["_search"], f.query)
    return masks


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
    name = clean_text(look.name) or look.id
    search = fold("\n".join((name, look.id, look.group_id or "")))
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


def voice_choices(voices: pd.DataFrame, *, language: str | None = None, gender: str | None = None,
                  accent: str | None = None, keep: str | None = None) -> list[str]:
    """Voice ids of a :func:`core.catalog.tables.voices_frame` frame matching the picker's filters (catalog
    order): ``language`` (normalised name), ``gender`` (``male``/``female``/``unknown``), ``accent``
    (a locale tag the voice offers); ``None`` = any. ``keep`` (the scene's current voice) is always
    first, even when it does not match, so changing a filter never changes the chosen voice."""
    f = VoiceFilter(languages=(language,) if language else (), genders=(gender,) if gender else (),
                    accents=(accent,) if accent else ())
    ids = filter_voices(voices, f)["voice_id"].tolist()
    if keep and keep in set(voices["voice_id"]):
        ids = [keep, *(i for i in ids if i != keep)]
    return ids
