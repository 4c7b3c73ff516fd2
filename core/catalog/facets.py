"""Cross-filtered facets of the voices table: options and counts that follow the other filters.

A facet's options and counts are taken over the voices matching every *other* active filter
(the usual faceted-search rule), so picking Spanish narrows the accents to Spanish ones and the
gender counts to Spanish voices, while the language list still offers every language the other
filters leave. Also here: the Accents cell that puts the accent being filtered for first and
tells voices of one language from multilingual and native-accent-only ones. Counts are numbers
of voices; everything is vectorised over the categorical key columns of
:func:`core.catalog.tables.voices_frame`.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence

import numpy as np
import pandas as pd

from core.catalog.normalise import ALL_LOCALES, locale_label
from core.catalog.tables import _SEP, AGE_UNSPECIFIED, VoiceFilter, _key_series, facet_counts, facet_masks


def _all_but(masks: dict[str, np.ndarray], skip: str, n: int) -> np.ndarray:
    others = [m for name, m in masks.items() if name != skip]
    return np.logical_and.reduce(others) if others else np.ones(n, dtype=bool)


def cross_counts(df: pd.DataFrame, f: VoiceFilter) -> dict[str, dict[str, int]]:
    """Option counts per facet, each over the voices matching all the *other* facets of ``f``.

    Keys: ``language``, ``gender``, ``accents``, ``styles``, ``tags`` (value -> voices, as
    :func:`core.catalog.tables.facet_counts`: count descending, zero counts omitted), ``age_group``
    (includes :data:`core.catalog.tables.AGE_UNSPECIFIED` for voices without one), ``preview``
    (``{"with": n, "without": m}``, both always present).
    """
    masks, n = facet_masks(df, f), len(df)
    out: dict[str, dict[str, int]] = {}
    for column, field in (("language", "languages"), ("gender", "genders"), ("accents", "accents"),
                          ("styles", "styles"), ("tags", "tags")):
        out[column] = facet_counts(df[_all_but(masks, field, n)], column)
    rows = df[_all_but(masks, "age_groups", n)]
    ages = facet_counts(rows, "age_group")
    unspecified = int(rows["age_group"].isna().sum())
    out["age_group"] = {**ages, **({AGE_UNSPECIFIED: unspecified} if unspecified else {})}
    with_preview = df["has_preview"].to_numpy()[_all_but(masks, "has_preview", n)]
    out["preview"] = {"with": int(with_preview.sum()), "without": int((~with_preview).sum())}
    return out


def options_with(counts: dict[str, int], selected: Iterable[str], order: Sequence[str] | None = None) -> list[str]:
    """Options to offer: the counted values (in ``order`` when given, else count order) plus any
    selected value the other filters left with no voices, so a selection is never dropped."""
    chosen = [s for s in selected if s not in counts]
    values = [v for v in order if v in counts] if order is not None else list(counts)
    return [*values, *chosen]


#: The Accents cell of a voice without accent choice.
NATIVE_ONLY = "Native accent only"
#: More accents than any one language has: the voice is multilingual (it can speak every locale).
_MULTI_LOCALE = len(ALL_LOCALES)


def accent_cells(df: pd.DataFrame, wanted: Sequence[str] = ()) -> pd.Series:
    """The Accents cell of each row (a list of labels), the accents in ``wanted`` first.

    A voice of one language lists its accents (``["Spanish (Mexico)", "Spanish (Spain)", …]``);
    a multilingual voice, which can speak every locale, reads ``["Multilingual: any of 87
    accents"]``, or with ``wanted`` the matching accents and ``"+86 more (multilingual)"``. A
    voice without accent choice reads ``["Native accent only"]`` (HeyGen takes no locale for it).
    Computed once per distinct accent list.
    """
    keys = _key_series(df, "accents")
    wanted_set = list(dict.fromkeys(wanted))
    cells = []
    for key in keys.cat.categories:
        tags = key.split(_SEP) if key else []
        if not tags:
            cells.append([NATIVE_ONLY])
            continue
        first = [t for t in wanted_set if t in tags]
        if len(tags) >= _MULTI_LOCALE:
            rest = len(tags) - len(first)
            if first:
                cells.append([*(locale_label(t) for t in first), f"+{rest} more (multilingual)"])
            else:
                cells.append([f"Multilingual: any of {len(tags)} accents"])
        else:
            ordered = first + [t for t in tags if t not in first]
            cells.append([locale_label(t) for t in ordered])
    codes = keys.cat.codes.to_numpy()
    lookup = np.empty(len(cells) + 1, dtype=object)
    for i, cell in enumerate(cells):
        lookup[i] = cell
    lookup[-1] = [NATIVE_ONLY]  # code -1: a missing key
    return pd.Series(lookup[codes], index=df.index, dtype=object)
