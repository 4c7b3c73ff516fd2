"""Compose page: drafts, the scene editor, listen, estimate and launch, against the real sandbox."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from core.catalog.index import voice_labels
from core.catalog.normalise import normalise_gender, normalise_language
from core.catalog.store import Catalog, load_catalog
from core.catalog.tables import is_starfish_id
from core.db import session_scope
from core.models import Reel, ReelAttempt, ReelEvent, SpeechSample
from core.reels import drafts, validation
from core.reels import estimate as estimates
from core.runtime import Runtime
from tests.people import signed_in
from ui.text import plain

PAGE = "pages/3_Compose.py"


@pytest.fixture(scope="module")
def catalog(app_runtime: Runtime) -> Catalog:
    return load_catalog(app_runtime.client)


@pytest.fixture(scope="module")
def picks(catalog: Catalog) -> dict[str, list[str]]:
    """Three looks that work with Avatar IV, three Starfish voices and one non-Starfish voice."""
    looks = [lk.id for lk in catalog.looks if "avatar_iv" in lk.supported_api_engines][:3]
    starfish = [v.voice_id for v in catalog.voices if is_starfish_id(v.voice_id)][:3]
    other = [v.voice_id for v in catalog.voices if not is_starfish_id(v.voice_id)][:1]
    assert len(looks) == 3 and len(starfish) == 3 and other
    return {"looks": looks, "voices": starfish, "other": other}


def _make_reel(runtime: Runtime, owner: str, picks: dict, scripts: list[str], *, voices: list[str] | None = None) -> int:
    voices = voices or picks["voices"]
    scenes = [validation.SceneInput(position=n, avatar_id=picks["looks"][n - 1], voice_id=voices[(n - 1) % len(voices)],
                               script=script) for n, script in enumerate(scripts, start=1)]
    with session_scope(runtime.session_factory) as s:
        return drafts.create_reel(s, actor=signed_in(s, owner), title=f"{owner}'s reel", scenes=scenes).id


def _reel(runtime: Runtime, rid: int) -> Reel:
    with session_scope(runtime.session_factory) as s:
        reel = s.get(Reel, rid)
        reel.scenes  # noqa: B018
        return reel


def _captions(block) -> list[str]:
    return [c.value for c in block.caption]


def _scene(at, n: int):
    return next(e for e in at.expander if e.label.startswith(f"Scene {n} "))


def test_a_viewer_cannot_start_a_reel_and_is_told_why(open_page, app_runtime: Runtime) -> None:
    with session_scope(app_runtime.session_factory) as s:
        signed_in(s, "Vic", role="viewer")
    at = open_page(PAGE, user="Vic")
    assert not at.exception
    new = at.button(key="c_new")
    assert new.disabled and new.help == plain("Viewers cannot create reels; ask an admin for the producer role.")


def test_new_reel_creates_a_three_scene_draft_and_opens_it(open_page, app_runtime: Runtime) -> None:
    at = open_page(PAGE, user="Bo")
    assert not at.exception
    assert any("No drafts yet" in c for c in _captions(at))
    at.button(key="c_new").click().run()
    assert not at.exception
    with session_scope(app_runtime.session_factory) as s:
        drafts = s.scalars(select(Reel).where(Reel.owner == "Bo")).all()
        assert [(r.status, r.mode, len(r.scenes)) for r in drafts] == [("draft", "scene_based", 3)]
        rid = drafts[0].id
    assert at.query_params["c_reel"] in (str(rid), [str(rid)])
    assert len([e for e in at.expander if e.label.startswith("Scene ")]) == 3
    assert at.button(key=f"c_open_{rid}")  # listed under "Your drafts"


def _text(markdown: str) -> str:
    """Markdown as read: user text in problem messages is escaped (ui.text.plain)."""
    return markdown.replace("\\", "").replace("\u2060", "")


def _red(block) -> list[str]:
    return [c for c in _captions(block) if c.startswith(":red[")]


def test_a_new_draft_shows_a_neutral_checklist_not_errors(open_page) -> None:
    at = open_page(PAGE, user="Bea")
    at.button(key="c_new").click().run()
    assert not at.exception
    assert not any(_red(_scene(at, n)) for n in (1, 2, 3))  # nothing touched, nothing wrong yet
    checklist = _text(next(i.value for i in at.info if "to do before launch" in i.value))
    assert "Scene 1: choose an avatar look." in checklist and ":red[" not in checklist
    assert not at.error and not at.warning


def test_an_empty_script_turns_red_once_visited_and_blocks_launch(open_page, app_runtime, picks) -> None:
    rid = _make_reel(app_runtime, "Cy", picks, ["Welcome to the spring collection.", "", "See you soon."])
    at = open_page(PAGE, user="Cy", query={"c_reel": str(rid)})
    assert not at.exception
    assert not _red(_scene(at, 2))  # empty, but never visited: a to-do, not an error
    checklist = _text(next(i.value for i in at.info if "to do before launch" in i.value))
    assert "1 thing to do before launch" in checklist and "Scene 2: the script is empty" in checklist
    launch = at.button(key=f"c_launch_{rid}")
    assert launch.disabled and launch.help.startswith("Not ready: Scene 2: the script is empty")

    at.text_area(key=f"c_r{rid}_s2_script").input("Three").run()
    at.text_area(key=f"c_r{rid}_s2_script").input("").run()  # visited and emptied: now it is an error
    assert any("script is empty" in c for c in _red(_scene(at, 2)))
    assert not _red(_scene(at, 1))

    at.text_area(key=f"c_r{rid}_s2_script").input("Three new colours, one great price.").run()
    assert not at.exception
    assert not _red(_scene(at, 2))
    assert not at.button(key=f"c_launch_{rid}").disabled
    assert _reel(app_runtime, rid).scenes[1].script == "Three new colours, one great price."  # autosaved


def test_launch_queues_the_reel_and_a_second_launch_says_already_launched(open_page, app_runtime, picks) -> None:
    rid = _make_reel(app_runtime, "Di", picks, ["One.", "Two words.", "Three short words."])
    first = open_page(PAGE, user="Di", query={"c_reel": str(rid)})
    second = open_page(PAGE, user="Di", query={"c_reel": str(rid)})  # another tab, still showing the draft
    assert not second.button(key=f"c_launch_{rid}").disabled

    first.button(key=f"c_launch_{rid}").click().run()
    assert not first.exception
    assert any("Queued — the worker will submit it to HeyGen" in s.value for s in first.success)
    assert first.button(key=f"c_launch_{rid}").disabled
    assert not [b for b in first.button if b.key == f"c_open_{rid}"]  # no longer among the drafts
    with session_scope(app_runtime.session_factory) as s:
        events = s.scalars(select(ReelEvent).where(ReelEvent.reel_id == rid)).all()
        assert ("draft", "queued") in [(e.from_status, e.to_status) for e in events]
        assert s.get(Reel, rid).status != "draft"

    second.button(key=f"c_launch_{rid}").click().run()
    assert not second.exception
    assert any("already launched" in w.value for w in second.warning)
    with session_scope(app_runtime.session_factory) as s:
        attempts = s.scalars(select(ReelAttempt).where(ReelAttempt.reel_id == rid)).all()
        assert len(attempts) == 1


def test_listen_plays_a_starfish_voice_and_explains_other_voices(open_page, app_runtime, picks) -> None:
    voices = [picks["voices"][0], picks["other"][0], picks["voices"][1]]
    rid = _make_reel(app_runtime, "Ed", picks, ["Hello there, friends.", "Not Starfish.", "Third."], voices=voices)
    at = open_page(PAGE, user="Ed", query={"c_reel": str(rid)})
    assert at.button(key=f"c_r{rid}_s2_listen").disabled
    assert any("only works with its own Starfish voices" in c for c in _captions(_scene(at, 2)))
    audio_before = len(_scene(at, 1).get("audio"))

    at.button(key=f"c_r{rid}_s1_listen").click().run()
    assert not at.exception
    assert len(_scene(at, 1).get("audio")) == audio_before + 1
    with session_scope(app_runtime.session_factory) as s:
        sample = s.scalars(select(SpeechSample).where(SpeechSample.voice_id == voices[0])).first()
        assert sample is not None
    assert any(f"{sample.duration_s:.1f} s measured from the preview" in c for c in _captions(_scene(at, 1)))


def test_estimate_shows_the_cost_of_the_reel(open_page, app_runtime, picks, catalog) -> None:
    rid = _make_reel(app_runtime, "Fa", picks, ["word " * 30, "word " * 45, "word " * 15])
    at = open_page(PAGE, user="Fa", query={"c_reel": str(rid)})
    assert not at.exception
    expected = estimates.estimate_reel(_reel(app_runtime, rid), catalog.index)
    cost = next(m for m in at.metric if m.label == "Estimated cost")
    assert cost.value == f"${expected.cost_usd:,.2f}" and expected.cost_usd > 0
    length = next(m for m in at.metric if m.label == "Estimated length")
    assert length.value == "36 s"  # 90 words at 150 words per minute
    table = at.dataframe[0].value
    assert list(table["Scene"])[:3] == ["1", "2", "3"]
    split = estimates.scene_costs(_reel(app_runtime, rid), catalog.index, expected)
    assert list(table["Cost"])[:3] == [float(c) for c in split.scenes]
    # The lines (with the whole-second rounding line, if any) add up to the total shown above, in cents.
    assert round(sum(table["Cost"]), 2) == float(estimates.cents(expected.cost_usd))


def test_use_in_a_reel_carries_the_voice_filters_and_fills_the_latest_draft(open_page, app_runtime, picks,
                                                                            catalog) -> None:
    voice = next(v for v in catalog.voices if normalise_language(v.language) == "Spanish" and v.support_locale
                 and normalise_gender(v.gender) == "female")
    rid = _make_reel(app_runtime, "Ivy", picks, ["Hola.", "", ""], voices=[picks["voices"][0], "", ""])
    filters = {"language": "Spanish", "accent": "es-MX", "gender": "female"}
    # A fresh session (reload, new tab): no open reel is known, so the latest draft is filled.
    at = open_page(PAGE, user="Ivy", state={"compose_voice_id": voice.voice_id, "compose_voice_filters": filters})
    assert not at.exception
    scene = sorted(_reel(app_runtime, rid).scenes, key=lambda sc: sc.position)[1]
    assert (scene.voice_id, scene.locale) == (voice.voice_id, "es-MX")
    assert at.selectbox(key=f"c_r{rid}_s2_voice_lang").value == "Spanish"
    assert at.selectbox(key=f"c_r{rid}_s2_voice_accent").value == "es-MX"
    assert at.selectbox(key=f"c_r{rid}_s2_locale").value == "es-MX"
    with session_scope(app_runtime.session_factory) as s:
        assert len(drafts.list_drafts(s, _reel(app_runtime, rid).owner_id)) == 1  # no second draft


def test_use_in_a_reel_prefills_a_new_draft_with_a_toast(open_page, app_runtime, picks) -> None:
    at = open_page(PAGE, user="Gu", state={"compose_voice_id": picks["voices"][2],
                                           "compose_avatar_id": picks["looks"][2]})
    assert not at.exception
    with session_scope(app_runtime.session_factory) as s:
        reel = s.scalars(select(Reel).where(Reel.owner == "Gu")).one()
        first = sorted(reel.scenes, key=lambda sc: sc.position)[0]
        assert (first.voice_id, first.avatar_id) == (picks["voices"][2], picks["looks"][2])
    assert any("scene 1 of a new draft" in t.value for t in at.toast)
    assert at.selectbox(key=f"c_r{reel.id}_s1_voice").value == picks["voices"][2]


def test_studio_mode_adds_and_removes_scenes(open_page, app_runtime, picks) -> None:
    rid = _make_reel(app_runtime, "Ha", picks, ["A.", "B.", "C."])
    at = open_page(PAGE, user="Ha", query={"c_reel": str(rid)})
    at.button_group(key=f"c_r{rid}_mode").set_value("studio").run()
    assert not at.exception
    at.button(key=f"c_add_{rid}").click().run()
    assert len(_reel(app_runtime, rid).scenes) == 4
    at.button(key=f"c_r{rid}_s1_remove").click().run()
    scripts = [s.script for s in sorted(_reel(app_runtime, rid).scenes, key=lambda s: s.position)]
    assert scripts == ["B.", "C.", ""]
    assert at.text_area(key=f"c_r{rid}_s1_script").value == "B."


def test_delete_asks_for_confirmation(open_page, app_runtime, picks) -> None:
    rid = _make_reel(app_runtime, "Io", picks, ["A.", "B.", "C."])
    at = open_page(PAGE, user="Io", query={"c_reel": str(rid)})
    at.button(key=f"c_del_{rid}").click().run()
    assert _reel(app_runtime, rid) is not None
    assert any("cannot be undone" in w.value for w in at.warning)
    at.button(key=f"c_del_yes_{rid}").click().run()
    assert not at.exception
    with session_scope(app_runtime.session_factory) as s:
        assert s.get(Reel, rid) is None
    assert any("Deleted" in t.value for t in at.toast)


def test_voice_filters_narrow_the_voice_list_in_place(open_page, app_runtime, catalog) -> None:
    with session_scope(app_runtime.session_factory) as s:
        rid = drafts.create_reel(s, actor=signed_in(s, "Jo")).id
    at = open_page(PAGE, user="Jo", query={"c_reel": str(rid)})
    voice = at.selectbox(key=f"c_r{rid}_s1_voice")
    assert len(voice.options) == len(catalog.voices)

    at.selectbox(key=f"c_r{rid}_s1_voice_lang").set_value("English").run()
    at.button_group(key=f"c_r{rid}_s1_voice_gender").set_value("female").run()
    at.selectbox(key=f"c_r{rid}_s1_voice_accent").set_value("en-GB").run()
    assert not at.exception
    expected = [v for v in catalog.voices if normalise_language(v.language) == "English"
                and normalise_gender(v.gender) == "female" and "en-GB" in catalog.index.locales(v.voice_id)]
    labels = voice_labels(catalog.index)
    assert at.selectbox(key=f"c_r{rid}_s1_voice").options == [labels[v.voice_id] for v in expected]
    assert 0 < len(expected) < len(catalog.voices)

    chosen = expected[-1].voice_id
    at.selectbox(key=f"c_r{rid}_s1_voice").set_value(chosen).run()
    scene = sorted(_reel(app_runtime, rid).scenes, key=lambda sc: sc.position)[0]
    assert (scene.voice_id, scene.locale) == (chosen, "en-GB")  # the accent filter became the scene's accent

    at.selectbox(key=f"c_r{rid}_s1_voice_lang").set_value("German").run()  # a filter never drops the choice
    assert at.selectbox(key=f"c_r{rid}_s1_voice").value == chosen
    assert _reel(app_runtime, rid).scenes[0].voice_id == chosen


def test_accent_is_disabled_with_a_reason_for_voices_without_locales(open_page, app_runtime, picks, catalog) -> None:
    plain = next(v.voice_id for v in catalog.voices if not v.support_locale)
    rid = _make_reel(app_runtime, "Ka", picks, ["A.", "B.", "C."], voices=[plain])
    at = open_page(PAGE, user="Ka", query={"c_reel": str(rid)})
    assert at.selectbox(key=f"c_r{rid}_s1_locale").disabled
    assert any("native accent" in c for c in _captions(_scene(at, 1)))


def test_a_refused_save_keeps_the_text_and_says_why_next_to_the_script(open_page, app_runtime, picks) -> None:
    rid = _make_reel(app_runtime, "Lu", picks, ["Fine.", "Fine too.", "Also fine."])
    at = open_page(PAGE, user="Lu", query={"c_reel": str(rid)})
    pasted = "Fine.\x07 With a bell character pasted in."
    at.text_area(key=f"c_r{rid}_s1_script").input(pasted).run()
    assert not at.exception
    assert at.text_area(key=f"c_r{rid}_s1_script").value == pasted  # the user's text is kept
    assert any("control character" in c and "Not saved yet" in c for c in _captions(_scene(at, 1)))
    assert _reel(app_runtime, rid).scenes[0].script == "Fine."


def test_an_over_long_name_from_the_sign_in_provider_falls_back_to_the_email(open_page, app_runtime) -> None:
    """Names no longer come from links; a provider's 100,000-character name is not stored, the email's
    local part names the person instead, and the page works."""
    at = open_page(PAGE, user="x" * 100_000, email="ana.long@example.com")
    assert not at.exception and not at.error
    at.button(key="c_new").click().run()
    with app_runtime.session_factory() as s:
        owners = {o for (o,) in s.execute(select(Reel.owner))}
    assert "ana.long" in owners and all(len(o) <= 200 for o in owners)
