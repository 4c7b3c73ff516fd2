"""Cross-filtered voice facets, folded search and the accent-first Accents cell, on the real catalog.

Expected values are computed row by row from the raw dump with the normalisation rules only.
"""

from __future__ import annotations

import gzip
import json
from collections import Counter
from pathlib import Path

import pytest

from core.catalog.facets import accent_cells, cross_counts, options_with
from core.catalog.normalise import (
    ALL_LOCALES,
    fold,
    locale_label,
    locales_for,
    normalise_gender,
    normalise_language,
)
from core.catalog.tables import VoiceFilter, filter_voices, voices_frame
from core.heygen.types import Voice

DATA = Path(__file__).resolve().parents[2] / "core" / "data"


@pytest.fixture(scope="module")
def raw() -> list[dict]:
    with gzip.open(DATA / "voices_2026-02-26.json.gz", "rt", encoding="utf-8") as fh:
        return json.load(fh)["data"]["voices"]


@pytest.fixture(scope="module")
def frame(raw):
    return voices_frame([Voice(voice_id=r["voice_id"], name=r["name"], language=r["language"], gender=r["gender"],
                               preview_audio_url=r["preview_audio"], support_locale=r["support_locale"])
                         for r in raw])


def _lang(r):
    return normalise_language(r["language"])


def _accents(r):
    return locales_for(r["language"], r["support_locale"])


def test_picking_a_language_narrows_accents_and_gender_counts_but_not_the_language_list(raw, frame):
    counts = cross_counts(frame, VoiceFilter(languages=("Spanish",)))
    spanish = [r for r in raw if _lang(r) == "Spanish"]
    assert counts["gender"] == dict(Counter(normalise_gender(r["gender"]) for r in spanish).most_common())
    expected_accents = Counter(t for r in spanish for t in _accents(r))
    assert counts["accents"] == dict(sorted(expected_accents.items(), key=lambda kv: (-kv[1], kv[0])))
    assert not any(t.startswith("ar-") for t in counts["accents"])  # no Arabic accents left for Spanish
    # The language facet ignores its own selection: every language stays on offer.
    assert counts["language"]["Spanish"] == len(spanish)
    assert len(counts["language"]) == len({_lang(r) for r in raw})


def test_counts_follow_every_other_filter(raw, frame):
    f = VoiceFilter(languages=("Spanish",), genders=("female",), accents=("es-MX",))
    counts = cross_counts(frame, f)
    rows = [r for r in raw if _lang(r) == "Spanish" and "es-MX" in _accents(r)]
    assert counts["gender"]["female"] == sum(normalise_gender(r["gender"]) == "female" for r in rows)
    matching = [r for r in rows if normalise_gender(r["gender"]) == "female"]
    with_preview = sum(bool((r["preview_audio"] or "").startswith("http")) for r in matching)
    assert counts["preview"] == {"with": with_preview, "without": len(matching) - with_preview}
    assert counts["age_group"] == {"unspecified": len(matching)}


def test_a_selected_option_without_voices_stays_offered():
    assert options_with({"female": 3}, ["male"], order=["female", "male", "unknown"]) == ["female", "male"]
    assert options_with({"a": 2, "b": 1}, ["a"]) == ["a", "b"]


@pytest.mark.parametrize(("text", "expected"), [("Lucía", "lucia"), ("ÑANDÚ", "nandu"), ("Straße", "strasse"),
                                                 ("es-MX", "es-mx"), ("", "")])
def test_fold(text, expected):
    assert fold(text) == expected


def test_accent_cell_puts_the_filtered_accent_first_and_marks_multilingual_voices(raw, frame):
    cells = accent_cells(frame, ["es-MX"])
    by_id = dict(zip(frame["voice_id"], cells, strict=True))
    spanish = next(r for r in raw if _lang(r) == "Spanish" and "es-MX" in _accents(r))
    cell = by_id[spanish["voice_id"]]
    assert cell[0] == "Spanish (Mexico)"
    assert sorted(cell) == sorted(locale_label(t) for t in _accents(spanish))
    native_only = next(r for r in raw if not r["support_locale"])
    assert by_id[native_only["voice_id"]] == ["Native accent only"]


def test_a_multilingual_voice_with_accent_choice_reads_short():
    frame = voices_frame([Voice(voice_id="m" * 32, name="Poly", language="Multilingual", support_locale=True),
                          Voice(voice_id="s" * 32, name="Sol", language="Spanish", support_locale=True)])
    assert accent_cells(frame, ["es-MX"]).tolist()[0] == [
        "Spanish (Mexico)", f"+{len(ALL_LOCALES) - 1} more (multilingual)"]
    assert accent_cells(frame).tolist()[0] == [f"Multilingual: any of {len(ALL_LOCALES)} accents"]
    assert accent_cells(frame, ["es-MX"]).tolist()[1][0] == "Spanish (Mexico)"


@pytest.mark.parametrize(("query", "rule"), [
    ("lucia", lambda r: "lucia" in fold(r["name"])),
    ("LUCÍA", lambda r: "lucia" in fold(r["name"])),
    ("es-MX", lambda r: "es-MX" in _accents(r)),
    ("mexico", lambda r: "es-MX" in _accents(r) or "mexico" in fold(r["name"])),
])
def test_search_ignores_case_and_accents_and_matches_locale_tags(raw, frame, query, rule):
    expected = [r["voice_id"] for r in raw if rule(r)]
    assert expected
    assert filter_voices(frame, VoiceFilter(query=query))["voice_id"].tolist() == expected
