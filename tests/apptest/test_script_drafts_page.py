"""Compose's "Draft from a topic" and script history, against the real sandbox's chat endpoint."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from core.catalog.store import Catalog, load_catalog
from core.catalog.tables import is_starfish_id
from core.db import session_scope
from core.models import Reel, ReelAttempt, ScriptVersion
from core.reels import drafts
from core.reels.script_drafts import DraftBrief, variation_seconds
from core.reels.script_model import ScriptDrafter
from core.reels.validation import SceneInput
from core.reels.versions import latest_versions
from core.runtime import Runtime
from tests.people import signed_in

PAGE = "pages/3_Compose.py"
TOPIC = "Booking a table in our app"


@pytest.fixture(scope="module")
def catalog(app_runtime: Runtime) -> Catalog:
    return load_catalog(app_runtime.client)


@pytest.fixture(scope="module")
def picks(catalog: Catalog) -> dict[str, list[str]]:
    looks = [lk.id for lk in catalog.looks if "avatar_iv" in lk.supported_api_engines][:3]
    english = [v.voice_id for v in catalog.voices if is_starfish_id(v.voice_id) and v.language == "English"][:3]
    german = [v for v in catalog.voices if v.language == "German"][:1]
    return {"looks": looks, "voices": english, "german": [v.voice_id for v in german],
            "german_name": [str(v.name).strip() for v in german]}


def _make_reel(runtime: Runtime, owner: str, picks: dict, scripts: list[str], voices: list[str] | None = None) -> int:
    voices = voices or picks["voices"]
    scenes = [SceneInput(position=n, avatar_id=picks["looks"][n - 1], voice_id=voices[(n - 1) % len(voices)],
                               script=s) for n, s in enumerate(scripts, start=1)]
    with session_scope(runtime.session_factory) as s:
        return drafts.create_reel(s, actor=signed_in(s, owner), title=f"{owner}'s reel", scenes=scenes).id


def _scripts(runtime: Runtime, rid: int) -> list[str]:
    with session_scope(runtime.session_factory) as s:
        return [sc.script for sc in sorted(s.get(Reel, rid).scenes, key=lambda sc: sc.position)]


def _ask(at, rid: int, topic: str = TOPIC, seconds: int = 30):
    at.text_area(key=f"sd_r{rid}_topic").input(topic)
    at.number_input(key=f"sd_r{rid}_seconds").set_value(seconds)
    return at.button(key=f"sd_r{rid}_ask").click().run()


def test_topic_to_three_variations_to_filled_scenes_to_launch(open_page, app_runtime, picks) -> None:
    rid = _make_reel(app_runtime, "Fa", picks, ["Old one.", "Old two.", "Old three."])
    at = open_page(PAGE, user="Fa", query={"c_reel": str(rid)})
    assert not at.exception
    _ask(at, rid)
    assert not at.exception
    cards = [at.button(key=f"sd_r{rid}_use_{n}") for n in range(3)]
    assert len(cards) == 3
    assert any("sandbox draft" in c.value for c in at.caption)
    # what the sandbox model answers for this brief, asked independently through the same client
    brief = DraftBrief(topic=TOPIC, language="English", target_seconds=30, scenes=3, speeds=(1.0, 1.0, 1.0))
    expected = ScriptDrafter(app_runtime.script_model).draft(brief)
    shown = [t.value for t in at.text]
    assert all(script in shown for v in expected for script in v.scripts)
    assert any(f"about {round(sum(variation_seconds(expected[1], brief)))} s" in c.value for c in at.caption)

    at.button(key=f"sd_r{rid}_use_1").click().run()
    assert not at.exception
    assert _scripts(app_runtime, rid) == expected[1].scripts
    assert at.text_area(key=f"c_r{rid}_s1_script").value == expected[1].scripts[0]  # widgets re-seeded
    with session_scope(app_runtime.session_factory) as s:
        newest = list(latest_versions(s, rid).values())
        assert {(v.source, v.label) for v in newest} == {("draft", f"Draft from a topic: {TOPIC}")}
        ids = [latest_versions(s, rid)[sc.uid].id for sc in sorted(s.get(Reel, rid).scenes, key=lambda x: x.position)]

    at.button(key=f"c_launch_{rid}").click().run()
    assert not at.exception
    assert any("Queued" in m.value for m in at.success)
    with session_scope(app_runtime.session_factory) as s:
        attempt = s.scalars(select(ReelAttempt).where(ReelAttempt.reel_id == rid)).one()
        assert attempt.script_version_ids == ids


def test_a_variation_can_be_revised_and_used_in_a_new_draft(open_page, app_runtime, picks) -> None:
    rid = _make_reel(app_runtime, "Ga", picks, ["One.", "Two.", "Three."])
    at = open_page(PAGE, user="Ga", query={"c_reel": str(rid)})
    _ask(at, rid, seconds=60)
    at.text_input(key=f"sd_r{rid}_instruction_0").input("shorter")
    at.button(key=f"sd_r{rid}_revise_0").click().run()
    assert not at.exception
    assert any("revised" in m.value and "shorter" in m.value for m in at.markdown)  # (Markdown-escaped)
    at.button(key=f"sd_r{rid}_new_0").click().run()
    assert not at.exception
    with session_scope(app_runtime.session_factory) as s:
        drafts = s.scalars(select(Reel).where(Reel.owner == "Ga").order_by(Reel.id)).all()
        assert len(drafts) == 2 and "(revised: shorter)" in drafts[1].title
        new_id = drafts[1].id
    assert _scripts(app_runtime, rid) == ["One.", "Two.", "Three."]  # the open draft is untouched
    assert at.query_params["c_reel"] in (str(new_id), [str(new_id)])


def test_four_scenes_into_an_untitled_draft_keep_its_new_title_and_mode_on_the_next_edit(
        open_page, app_runtime, picks) -> None:
    with session_scope(app_runtime.session_factory) as s:
        rid = drafts.create_reel(s, actor=signed_in(s, "Ka"), scenes=[SceneInput(n, picks["looks"][0], picks["voices"][0], "Old.")
                                                        for n in (1, 2, 3)]).id
    at = open_page(PAGE, user="Ka", query={"c_reel": str(rid)})
    at.number_input(key=f"sd_r{rid}_scenes").set_value(4)
    _ask(at, rid)
    at.button(key=f"sd_r{rid}_use_0").click().run()
    assert not at.exception
    at.text_area(key=f"c_r{rid}_s4_script").input("My own last words.").run()  # the next save
    assert not at.exception
    with session_scope(app_runtime.session_factory) as s:
        reel = s.get(Reel, rid)
        assert (reel.mode, len(reel.scenes)) == ("studio", 4)
        assert reel.title.startswith("Straight to the point: Booking a table")
    assert _scripts(app_runtime, rid)[3] == "My own last words."


def test_an_empty_topic_gets_one_sentence_and_nothing_changes(open_page, app_runtime, picks) -> None:
    """(A 10,000-character topic cannot reach the page: the field takes 500; core refuses longer ones.)"""
    rid = _make_reel(app_runtime, "Ha", picks, ["One.", "Two.", "Three."])
    at = open_page(PAGE, user="Ha", query={"c_reel": str(rid)})
    message = "Write a topic"
    at.text_area(key=f"sd_r{rid}_topic").input("   ")
    at.button(key=f"sd_r{rid}_ask").click().run()
    assert not at.exception
    assert any(message in e.value for e in at.error)
    assert _scripts(app_runtime, rid) == ["One.", "Two.", "Three."]


def test_a_language_the_voices_do_not_speak_is_a_warning_naming_them(open_page, app_runtime, picks) -> None:
    if not picks["german"]:
        pytest.skip("no German voice in the catalog")
    rid = _make_reel(app_runtime, "Ia", picks, ["One.", "Two.", "Three."], voices=picks["german"])
    at = open_page(PAGE, user="Ia", query={"c_reel": str(rid)})
    at.selectbox(key=f"sd_r{rid}_language").set_value("English").run()
    assert any(f"{picks['german_name'][0]} does not speak English" in w.value for w in at.warning), [w.value for w in at.warning]


def test_history_shows_a_diff_and_restores_in_one_click(open_page, app_runtime, picks) -> None:
    rid = _make_reel(app_runtime, "Ja", picks, ["First words.", "Two.", "Three."])
    at = open_page(PAGE, user="Ja", query={"c_reel": str(rid)})
    at.text_area(key=f"c_r{rid}_s1_script").input("Second words.").run()
    with session_scope(app_runtime.session_factory) as s:
        uid = sorted(s.get(Reel, rid).scenes, key=lambda x: x.position)[0].uid
    toggle = at.toggle(key=f"sd_r{rid}_history_{uid}")
    assert toggle.label == "History (2)"
    toggle.set_value(True).run()
    assert not at.exception
    assert "- Second words.\n+ First words." in at.code[0].value
    at.button(key=f"sd_r{rid}_history_{uid}_restore").click().run()
    assert not at.exception
    assert _scripts(app_runtime, rid)[0] == "First words."
    assert at.text_area(key=f"c_r{rid}_s1_script").value == "First words."
    assert at.toggle(key=f"sd_r{rid}_history_{uid}").label == "History (3)"
    with session_scope(app_runtime.session_factory) as s:
        sources = s.scalars(select(ScriptVersion.source).where(ScriptVersion.scene_uid == uid)
                            .order_by(ScriptVersion.id)).all()
    assert sources == ["created", "edit", "restore"]
