"""Voices page against the real sandbox: filters (URL and widgets), detail pane, annotations, samples.

Expected rows are computed here from the client's own voice list with plain string rules, never
with the page's filter function.
"""

from __future__ import annotations

import re
import unicodedata

import pytest
from sqlalchemy import func, select

from core.catalog.annotations import save_annotation
from core.db import session_scope
from core.heygen.types import Voice
from core.models import Scene, SpeechSample, VoiceAnnotation
from core.runtime import Runtime
from tests.people import signed_in
from ui.data import annotations_version_cached
from ui.text import plain

PAGE = "pages/1_Voices.py"
NO_PREVIEW_STARFISH = "96d72b63cd0b413db47e5795e703ce1b"  # "Nicholas": no preview, Starfish


@pytest.fixture(scope="module")
def voices(app_runtime: Runtime) -> list[Voice]:
    """The account's catalog as the page shows it: private clones first, then HeyGen's public voices."""
    client = app_runtime.client
    return [*client.list_voices(type="private"), *client.list_voices()]


def _lang(v: Voice) -> str:
    """Language name, lower-case; the catalog also spells English "en" and Turkish "Turkey"."""
    lang = " ".join(v.language.split()).casefold()
    return {"en": "english", "es": "spanish", "turkey": "turkish"}.get(lang, lang)


def _segments(v: Voice) -> list[str]:
    """Words after each dash of the raw name, without emoji/punctuation, lower-case."""
    name = unicodedata.normalize("NFKC", v.name)
    return [re.sub(r"[^\w ]", "", part).strip().casefold() for part in re.split(r"[-\u2013\u2014]", name)[1:]]


def _speaks(v: Voice, locale: str) -> bool:
    """Voices that accept ``locale``: locale support and the locale's language (or multilingual)."""
    language = {"es": "spanish", "en": "english"}[locale.split("-")[0]]
    return v.support_locale and _lang(v) in (language, "multilingual")


RULES = {
    "spanish": (("v_lang", ["Spanish"]), lambda v: _lang(v) == "spanish"),
    "female": (("v_gender", ["female"]), lambda v: v.gender.strip().lower() == "female"),
    "en-GB": (("v_accent", ["en-GB"]), lambda v: _speaks(v, "en-GB")),
    "natural": (("v_style", ["Natural"]), lambda v: "natural" in _segments(v)),
    "no-preview": (("v_preview", ["without"]),
                   lambda v: not (v.preview_audio_url or "").startswith(("http://", "https://"))),
    "search": (("v_q", ["anna"]), lambda v: "anna" in f"{v.name} {v.language} {v.voice_id}".lower()),
}


def _table_ids(at) -> list[str]:
    assert len(at.dataframe) == 1
    return at.dataframe[0].value["voice_id"].tolist()


def _expected(voices: list[Voice], *preds) -> list[str]:
    return [v.voice_id for v in voices if all(p(v) for p in preds)]


def test_renders_the_whole_catalog(open_page, voices) -> None:
    at = open_page(PAGE)
    assert not at.exception
    assert _table_ids(at) == [v.voice_id for v in voices]
    assert any(f"of {len(voices):,} voices" in c.value for c in at.caption)
    assert at.button(key="v_clear").disabled  # nothing to clear yet


@pytest.mark.parametrize("rule", list(RULES))
def test_each_filter_from_the_url_keeps_exactly_the_matching_voices(open_page, voices, rule) -> None:
    (key, value), pred = RULES[rule]
    at = open_page(PAGE, query={key: value})
    assert not at.exception
    expected = _expected(voices, pred)
    assert expected, f"{rule}: the catalog should have matching voices"
    assert _table_ids(at) == expected
    assert any(f"**{len(expected):,}** of {len(voices):,} voices" in c.value for c in at.caption)


def test_spanish_female_mexican_accent_combination(open_page, voices) -> None:
    at = open_page(PAGE, query={"v_lang": ["Spanish"], "v_gender": ["female"], "v_accent": ["es-MX"]})
    expected = _expected(voices, RULES["spanish"][1], RULES["female"][1], lambda v: _speaks(v, "es-MX"))
    assert expected
    assert _table_ids(at) == expected
    assert at.multiselect(key="v_lang").value == ["Spanish"]
    assert at.multiselect(key="v_accent").value == ["es-MX"]


def test_links_with_labels_and_stale_counts_still_work(open_page, voices) -> None:
    """A link copied from the browser holds labels such as "Spanish (99)"; counts may have changed since."""
    at = open_page(PAGE, query={"v_lang": ["Spanish (99)", "Nonexistent"], "v_gender": ["Female (1)"]})
    assert _table_ids(at) == _expected(voices, RULES["spanish"][1], RULES["female"][1])
    assert at.multiselect(key="v_lang").value == ["Spanish"]


def test_filter_options_show_counts(open_page, voices) -> None:
    at = open_page(PAGE)
    spanish = len(_expected(voices, RULES["spanish"][1]))
    assert f"Spanish ({spanish:,})" in at.multiselect(key="v_lang").options
    assert "English (United Kingdom)" in " ".join(at.multiselect(key="v_accent").options)


def test_widget_changes_filter_and_clear_filters_resets(open_page, voices) -> None:
    at = open_page(PAGE)
    at.multiselect(key="v_lang").select("German").run()
    at.text_input(key="v_q").input("natural").run()
    expected = _expected(voices, lambda v: _lang(v) == "german",
                         lambda v: "natural" in f"{v.name} {v.language} {v.voice_id}".lower())
    assert expected and _table_ids(at) == expected
    at.button(key="v_clear").click().run()
    assert not at.exception
    assert at.multiselect(key="v_lang").value == [] and at.text_input(key="v_q").value == ""
    assert len(_table_ids(at)) == len(voices)


def test_selecting_a_row_opens_the_detail_pane(open_page, voices) -> None:
    from core.catalog.tables import VoiceFilter
    from ui.voices import _table_key

    at = open_page(PAGE, query={"v_lang": ["Spanish"]})
    row = 2
    at.session_state[_table_key(VoiceFilter(languages=("Spanish",)))] = {
        "selection": {"rows": [row], "columns": [], "cells": []}}
    at.run()
    assert not at.exception
    voice_id = _expected(voices, RULES["spanish"][1])[row]
    assert any(voice_id in c.value for c in at.code)
    assert at.button(key="v_use") is not None


def test_voice_link_opens_details_and_use_in_a_reel_hands_it_to_compose(open_page, app_runtime, voices) -> None:
    voice = next(v for v in voices if v.preview_audio_url and len(v.voice_id) == 32)
    at = open_page(PAGE, query={"v_voice": [voice.voice_id]})
    assert not at.exception
    assert any(voice.voice_id in c.value for c in at.code)
    assert len(at.get("audio")) >= 1  # HeyGen's preview
    at.button(key="v_use").click().run()
    assert not at.exception
    with app_runtime.session_factory() as s:  # Compose took the voice into a scene of a draft
        assert s.scalar(select(func.count()).select_from(Scene).where(Scene.voice_id == voice.voice_id)) == 1


def test_annotation_saves_with_the_users_name_and_then_filters(open_page, app_runtime, voices) -> None:
    voice_id = voices[5].voice_id
    at = open_page(PAGE, user="Bea", query={"v_voice": [voice_id]})
    at.selectbox(key=f"v_ann_age_{voice_id}").select("senior")
    at.toggle(key=f"v_ann_ok_{voice_id}").set_value(True)
    at.text_area(key=f"v_ann_notes_{voice_id}").input("Great for explainers")
    at.button(key="FormSubmitter:v_ann_form_" + voice_id + "-Save annotation").click().run()
    assert not at.exception
    with app_runtime.session_factory() as s:
        row = s.get(VoiceAnnotation, voice_id)
    assert (row.age_group, row.approved, row.notes, row.updated_by) == ("senior", True, "Great for explainers",
                                                                         "Bea")
    with session_scope(app_runtime.session_factory) as s:  # as another app process would
        save_annotation(s, voices[7].voice_id, tags=["explainer"], age_group="adult", approved=False,
                        notes="", actor=signed_in(s, "Cy"))
    annotations_version_cached.clear()  # another process's edit shows once this 2 s cache expires
    with app_runtime.session_factory() as s:
        anns = {a.voice_id: a for a in s.scalars(select(VoiceAnnotation))}
    approved = [v.voice_id for v in voices if v.voice_id in anns and anns[v.voice_id].approved]
    assert voice_id in approved
    at = open_page(PAGE, query={"v_approved": ["true"]})
    assert _table_ids(at) == approved
    at = open_page(PAGE, query={"v_tags": ["explainer"]})
    assert _table_ids(at) == [v.voice_id for v in voices if "explainer" in getattr(anns.get(v.voice_id), "tags", [])]
    at = open_page(PAGE, query={"v_age": ["senior"]})
    assert _table_ids(at) == [v.voice_id for v in voices
                              if getattr(anns.get(v.voice_id), "age_group", None) == "senior"]
    df = at.dataframe[0].value
    assert df.loc[df["voice_id"] == voice_id, "approved"].item()


def test_a_viewer_cannot_annotate_and_is_told_why(open_page, voices, app_runtime) -> None:
    with session_scope(app_runtime.session_factory) as s:
        signed_in(s, "Vera", role="viewer")
    voice_id = voices[3].voice_id
    at = open_page(PAGE, user="Vera", query={"v_voice": [voice_id]})
    assert not at.exception
    save = next(b for b in at.button if b.label == "Save annotation")
    assert save.disabled and save.help == plain("Viewers cannot annotate voices; ask an admin for the producer role.")


def test_voice_without_preview_gets_a_generated_sample_once(open_page, app_runtime) -> None:
    at = open_page(PAGE, query={"v_voice": [NO_PREVIEW_STARFISH]})
    assert not at.exception
    assert not at.get("audio")
    at.button(key=f"v_sample_go_{NO_PREVIEW_STARFISH}").click().run()
    assert not at.exception and not at.error
    assert len(at.get("audio")) == 1
    with app_runtime.session_factory() as s:
        assert s.scalar(select(func.count()).select_from(SpeechSample)
                        .where(SpeechSample.voice_id == NO_PREVIEW_STARFISH)) == 1
    again = open_page(PAGE, query={"v_voice": [NO_PREVIEW_STARFISH]})
    assert len(again.get("audio")) == 1  # the stored sample, no button needed
    assert not [b for b in again.button if b.key == f"v_sample_go_{NO_PREVIEW_STARFISH}"]


def test_third_party_voice_explains_why_it_cannot_be_sampled(open_page, voices) -> None:
    other = next(v.voice_id for v in voices if not re.fullmatch(r"[0-9a-f]{32}", v.voice_id))
    at = open_page(PAGE, query={"v_voice": [other]})
    assert not at.exception
    assert any("Starfish" in c.value for c in [*at.caption, *at.warning])
    assert not [b for b in at.button if (b.key or "").startswith("v_sample_go_")]


def _option_counts(labels: list[str]) -> dict[str, int]:
    return {re.sub(r" \([\d,]+\)$", "", lab): int(re.search(r"\(([\d,]+)\)$", lab).group(1).replace(",", ""))
            for lab in labels}


def test_facet_options_and_counts_follow_the_other_filters(open_page, voices) -> None:
    at = open_page(PAGE, query={"v_lang": ["Spanish"]})
    assert not at.exception
    spanish = _expected(voices, RULES["spanish"][1])
    by_id = {v.voice_id: v for v in voices}
    genders = _option_counts([o.content for o in at.get("button_group")[0].proto.options])  # the Gender pills
    assert genders["Female"] == sum(by_id[i].gender.strip().lower() == "female" for i in spanish)
    accents = at.multiselect(key="v_accent").options
    assert accents and all(a.startswith("Spanish (") for a in accents)  # no Arabic accents for Spanish
    assert any(a.startswith("Spanish (Mexico) · es-MX (") for a in accents)
    # The language list ignores its own selection; picking female narrows its counts.
    at = open_page(PAGE, query={"v_lang": ["Spanish"], "v_gender": ["female"]})
    languages = _option_counts(at.multiselect(key="v_lang").options)
    assert languages["Spanish"] == len(_expected(voices, RULES["spanish"][1], RULES["female"][1]))
    assert len(languages) > 10


def test_search_matches_locale_tags_ignoring_case_and_accents(open_page, voices) -> None:
    at = open_page(PAGE, query={"v_q": ["es-mx"]})
    assert _table_ids(at) == _expected(voices, lambda v: _speaks(v, "es-MX"))
    at = open_page(PAGE, query={"v_q": ["lucia"]})
    folded = [v.voice_id for v in voices
              if "lucia" in unicodedata.normalize("NFKD", v.name).encode("ascii", "ignore").decode().lower()]
    assert folded and set(folded) <= set(_table_ids(at))


def test_the_filtered_accent_comes_first_in_each_row(open_page) -> None:
    at = open_page(PAGE, query={"v_lang": ["Spanish"], "v_accent": ["es-MX"]})
    cells = [list(c) for c in at.dataframe[0].value["accent_labels"]]
    assert cells and all(cell[0] == "Spanish (Mexico)" for cell in cells)
    at = open_page(PAGE, query={"v_lang": ["Spanish"], "v_preview": ["with"]})
    cells = [list(c) for c in at.dataframe[0].value["accent_labels"]]
    assert ["Native accent only"] in cells  # Spanish voices without accent choice say so


def test_use_in_a_reel_carries_language_accent_and_gender(open_page, app_runtime, voices) -> None:
    voice = next(v for v in voices if _speaks(v, "es-MX") and v.gender.strip().lower() == "female"
                 and _lang(v) == "spanish")
    at = open_page(PAGE, user="Flo", query={"v_lang": ["Spanish"], "v_gender": ["female"], "v_accent": ["es-MX"],
                                           "v_voice": [voice.voice_id]})
    assert at.selectbox(key=f"v_sample_locale_{voice.voice_id}").value == "es-MX"  # "Hear your own line" too
    at.button(key="v_use").click().run()
    assert not at.exception
    with app_runtime.session_factory() as s:
        scene = s.scalars(select(Scene).where(Scene.voice_id == voice.voice_id)).one()
        assert scene.locale == "es-MX"
