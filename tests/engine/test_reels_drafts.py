"""core.reels on SQLite and PostgreSQL: drafts, edits, events, validation, estimates, the HeyGen body."""

from __future__ import annotations

import dataclasses
import math
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import pytest
from sqlalchemy import func, select, update

from core.catalog.index import CatalogIndex
from core.db import session_scope
from core.heygen.schemas import validate_request
from core.heygen.types import AvatarLook, Voice
from core.models import REEL_STATUSES, Reel, ReelAttempt, ReelEvent, Scene
from core.reels.body import build_studio_body
from core.reels.drafts import (
    add_scene,
    create_reel,
    delete_reel,
    duplicate_reel,
    get_reel,
    move_scene,
    remove_scene,
    set_scenes,
    update_reel,
)
from core.reels.estimate import estimate_reel, estimate_script_seconds
from core.reels.validation import (
    EDITABLE_FIELDS,
    SCENE_FIELDS,
    Problem,
    ReelNotFoundError,
    ReelStateError,
    ReelValidationError,
    SceneInput,
    validate_reel,
)
from tests.people import person

ANA = person("ana")
BO = person("bo", "admin")

# --------------------------------------------------------------------------------------------
# A small catalog with known properties
# --------------------------------------------------------------------------------------------

TINY_INDEX = CatalogIndex(
    voices=[
        Voice(voice_id="voice_en", name="Ivy", language="English", gender="female", support_locale=True),
        Voice(voice_id="voice_fr", name="Louis", language="French", gender="male", support_locale=False),
        Voice(voice_id="voice_zh", name="Mei", language="Chinese", gender="female", support_locale=True),
    ],
    looks=[
        AvatarLook(id="look_studio", name="Abigail (Upper Body)", avatar_type="studio_avatar",
                   supported_api_engines=["avatar_iv", "avatar_v", "avatar_iii"]),
        AvatarLook(id="look_photo", name="Nora photo", avatar_type="photo_avatar",
                   supported_api_engines=["avatar_iv", "avatar_iii"]),
        AvatarLook(id="look_twin", name="Our CEO", avatar_type="digital_twin", supported_api_engines=["avatar_iv"]),
    ],
)


def complete_scenes() -> list[SceneInput]:
    return [
        SceneInput(1, "look_studio", "voice_en", "Hello and welcome to our product tour.", locale="en-GB",
                   background_color="#F4F1EA"),
        SceneInput(2, "look_photo", "voice_fr", "Bonjour à tous, voici la suite.", speed=1.2, pitch=-3.0),
        SceneInput(3, "look_twin", "voice_en", "Thanks for watching."),
    ]


def make_draft(factory, **settings: Any) -> int:
    settings.setdefault("scenes", complete_scenes())
    settings.setdefault("title", "Product intro")
    with session_scope(factory) as session:
        return create_reel(session, actor=ANA, **settings).id


def snapshot(factory, reel_id: int) -> tuple:
    """Everything an edit could change: settings, status, scenes and the number of events."""
    with session_scope(factory) as session:
        reel = get_reel(session, reel_id)
        settings = {name: getattr(reel, name) for name in (*EDITABLE_FIELDS, "status")}
        scenes = [tuple(getattr(s, name) for name in ("position", *SCENE_FIELDS)) for s in reel.scenes]
        events = session.scalar(select(func.count()).select_from(ReelEvent).where(ReelEvent.reel_id == reel_id))
        return settings, scenes, events


def events_of(factory, reel_id: int) -> list[tuple]:
    with session_scope(factory) as session:
        rows = session.scalars(select(ReelEvent).where(ReelEvent.reel_id == reel_id).order_by(ReelEvent.id))
        return [(e.actor, e.from_status, e.to_status, e.detail) for e in rows]


def set_status(factory, reel_id: int, status: str) -> None:
    with session_scope(factory) as session:
        session.execute(update(Reel).where(Reel.id == reel_id).values(status=status))


def has(problems: list[Problem], field_name: str, fragment: str) -> bool:
    return any(p.field == field_name and fragment in p.message for p in problems)


# --------------------------------------------------------------------------------------------
# Drafts: create, edit, events
# --------------------------------------------------------------------------------------------


def test_new_scene_based_draft_has_three_empty_scenes_and_a_created_event(session_factory):
    with session_scope(session_factory) as session:
        reel = create_reel(session, actor=ANA)
        reel_id = reel.id
    with session_scope(session_factory) as session:
        reel = get_reel(session, reel_id)
        assert (reel.status, reel.mode, reel.aspect_ratio, reel.resolution, reel.engine, reel.captions) == \
            ("draft", "scene_based", "16:9", "1080p", "avatar_iv", False)
        assert [(s.position, s.avatar_id, s.voice_id, s.script, s.speed, s.pitch) for s in reel.scenes] == \
            [(n, None, None, "", 1.0, 0.0) for n in (1, 2, 3)]
    assert events_of(session_factory, reel_id) == [("ana", None, "draft", "created")]


def test_new_studio_draft_has_one_scene_and_scenes_are_stored_in_position_order(session_factory):
    with session_scope(session_factory) as session:
        empty = create_reel(session, actor=ANA, mode="studio")
        given = create_reel(session, actor=ANA, mode="studio",
                            scenes=[SceneInput(30, script="third"), SceneInput(-2, script="first"),
                                    SceneInput(7, script="second")])
        ids = empty.id, given.id
    with session_scope(session_factory) as session:
        assert len(get_reel(session, ids[0]).scenes) == 1
        assert [(s.position, s.script) for s in get_reel(session, ids[1]).scenes] == \
            [(1, "first"), (2, "second"), (3, "third")]


def test_update_reel_changes_settings_and_records_what_changed(session_factory):
    reel_id = make_draft(session_factory)
    with session_scope(session_factory) as session:
        update_reel(session, reel_id, actor=BO, title="Launch video", resolution="4k", captions=True)
    with session_scope(session_factory) as session:
        update_reel(session, reel_id, actor=BO, title="Launch video")  # no change: no event
    settings, _, _ = snapshot(session_factory, reel_id)
    assert (settings["title"], settings["resolution"], settings["captions"]) == ("Launch video", "4k", True)
    assert events_of(session_factory, reel_id)[1:] == [("bo", "draft", "draft", "edited title, resolution, captions")]


def test_update_reel_refuses_fields_that_are_not_settings(session_factory):
    reel_id = make_draft(session_factory)
    with pytest.raises(TypeError, match="status"), session_scope(session_factory) as session:
        update_reel(session, reel_id, actor=ANA, status="completed")


def test_set_scenes_replaces_scenes_and_names_the_changed_fields(session_factory):
    reel_id = make_draft(session_factory)
    scenes = complete_scenes()
    scenes[1] = dataclasses.replace(scenes[1], script="Un nouveau texte.", speed=0.9)
    with session_scope(session_factory) as session:
        set_scenes(session, reel_id, scenes, actor=BO)
    with session_scope(session_factory) as session:
        set_scenes(session, reel_id, scenes, actor=BO)  # identical: no event
    _, stored, _ = snapshot(session_factory, reel_id)
    assert stored[1] == (2, "look_photo", "voice_fr", "Un nouveau texte.", 0.9, -3.0, None, None, None)
    assert events_of(session_factory, reel_id)[1:] == [("bo", "draft", "draft", "edited scenes: scene 2: script, speed")]


def test_blank_choices_are_stored_as_none_and_line_ends_as_newlines(session_factory):
    reel_id = make_draft(session_factory)
    scenes = complete_scenes()
    scenes[0] = dataclasses.replace(scenes[0], voice_id="", locale=" ", background_color="",
                                    script="Line one\r\nLine two\rLine three")
    with session_scope(session_factory) as session:
        set_scenes(session, reel_id, scenes, actor=ANA)
    _, stored, _ = snapshot(session_factory, reel_id)
    assert stored[0] == (1, "look_studio", None, "Line one\nLine two\nLine three", 1.0, 0.0, None, None, None)


def test_add_move_and_remove_scenes_of_a_studio_reel(session_factory):
    reel_id = make_draft(session_factory, mode="studio")
    with session_scope(session_factory) as session:
        add_scene(session, reel_id, SceneInput(0, "look_studio", "voice_en", "Four."), actor=BO)
        move_scene(session, reel_id, 4, 1, actor=BO)
        remove_scene(session, reel_id, 3, actor=BO)
    _, stored, _ = snapshot(session_factory, reel_id)
    assert [(s[0], s[3]) for s in stored] == [
        (1, "Four."), (2, "Hello and welcome to our product tour."), (3, "Thanks for watching.")]
    assert [e[3] for e in events_of(session_factory, reel_id)[1:]] == [
        "added scene 4", "moved scene 4 to 1", "removed scene 3"]


def test_scene_based_reels_keep_exactly_three_scenes(session_factory):
    reel_id = make_draft(session_factory)
    before = snapshot(session_factory, reel_id)
    with pytest.raises(ReelValidationError, match="exactly 3 scenes"), session_scope(session_factory) as session:
        add_scene(session, reel_id, actor=ANA)
    with pytest.raises(ReelValidationError, match="exactly 3 scenes"), session_scope(session_factory) as session:
        remove_scene(session, reel_id, 1, actor=ANA)
    with pytest.raises(ReelValidationError, match="Scene 9 does not exist"), \
            session_scope(session_factory) as session:
        move_scene(session, reel_id, 9, 1, actor=ANA)
    assert snapshot(session_factory, reel_id) == before


def test_switching_mode_pads_to_three_scenes_or_refuses_to_drop_scenes(session_factory):
    one = make_draft(session_factory, mode="studio", scenes=[SceneInput(1, "look_studio", "voice_en", "Only.")])
    five = make_draft(session_factory, mode="studio",
                      scenes=[SceneInput(n, script=f"Scene {n}.") for n in range(1, 6)])
    with session_scope(session_factory) as session:
        update_reel(session, one, actor=ANA, mode="scene_based")
    _, stored, _ = snapshot(session_factory, one)
    assert [(s[0], s[3]) for s in stored] == [(1, "Only."), (2, ""), (3, "")]
    before = snapshot(session_factory, five)
    with pytest.raises(ReelValidationError, match="this one has 5") as err, \
            session_scope(session_factory) as session:
        update_reel(session, five, actor=ANA, mode="scene_based")
    assert err.value.problems[0].field == "scenes"
    assert snapshot(session_factory, five) == before


@pytest.mark.parametrize("status", [s for s in REEL_STATUSES if s != "draft"])
def test_only_drafts_are_editable(session_factory, status):
    reel_id = make_draft(session_factory, mode="studio")
    set_status(session_factory, reel_id, status)
    before = snapshot(session_factory, reel_id)
    edits: list[Callable] = [
        lambda s: update_reel(s, reel_id, actor=ANA, title="New"),
        lambda s: set_scenes(s, reel_id, complete_scenes()[:1], actor=ANA),
        lambda s: add_scene(s, reel_id, actor=ANA),
        lambda s: remove_scene(s, reel_id, 1, actor=ANA),
        lambda s: move_scene(s, reel_id, 1, 2, actor=ANA),
    ]
    for edit in edits:
        with pytest.raises(ReelStateError, match=f"is {status}; only drafts can be edited"), \
                session_scope(session_factory) as session:
            edit(session)
    assert snapshot(session_factory, reel_id) == before


def test_an_edit_that_races_a_launch_is_refused(session_factory):
    """The edit loaded the draft, then another process launched it: the conditional claim refuses the edit."""
    reel_id = make_draft(session_factory)
    with pytest.raises(ReelStateError, match="is queued"), session_scope(session_factory) as session:
        assert get_reel(session, reel_id).status == "draft"  # loaded (and cached) as a draft
        set_status(session_factory, reel_id, "queued")  # committed by "another process"
        update_reel(session, reel_id, actor=ANA, title="Too late")
    settings, _, _ = snapshot(session_factory, reel_id)
    assert (settings["title"], settings["status"]) == ("Product intro", "queued")


def test_unknown_reels_are_reported(session_factory):
    with pytest.raises(ReelNotFoundError, match="Reel 4242 does not exist"), \
            session_scope(session_factory) as session:
        update_reel(session, 4242, actor=ANA, title="x")
    with pytest.raises(ReelNotFoundError), session_scope(session_factory) as session:
        duplicate_reel(session, 4242, actor=ANA)
    with pytest.raises(ReelNotFoundError), session_scope(session_factory) as session:
        delete_reel(session, 4242, actor=ANA)


# --------------------------------------------------------------------------------------------
# Duplicate and delete
# --------------------------------------------------------------------------------------------


def test_duplicate_copies_settings_and_scenes_as_a_new_draft(session_factory):
    source = make_draft(session_factory, resolution="720p", captions=True, engine="avatar_iv")
    set_status(session_factory, source, "completed")
    with session_scope(session_factory) as session:
        copy = duplicate_reel(session, source, actor=BO)
        copy_id = copy.id
        assert (copy.owner, copy.status, copy.title) == ("bo", "draft", "Product intro (copy)")
    src_settings, src_scenes, _ = snapshot(session_factory, source)
    copy_settings, copy_scenes, _ = snapshot(session_factory, copy_id)
    assert copy_scenes == src_scenes
    assert {k: v for k, v in copy_settings.items() if k not in ("title", "status")} == \
        {k: v for k, v in src_settings.items() if k not in ("title", "status")}
    assert src_settings["status"] == "completed"
    assert events_of(session_factory, copy_id) == [("bo", None, "draft", f"created as a copy of reel {source}")]
    with session_scope(session_factory) as session:  # the copy is editable, the source untouched
        update_reel(session, copy_id, actor=BO, title="Mine now")
    assert snapshot(session_factory, source)[0]["title"] == "Product intro"


def test_duplicate_keeps_long_titles_within_the_limit(session_factory):
    with session_scope(session_factory) as session:
        source = create_reel(session, actor=ANA, title="T" * 200)
        untitled = create_reel(session, actor=ANA)
        long_copy = duplicate_reel(session, source.id, actor=ANA)
        untitled_copy = duplicate_reel(session, untitled.id, actor=ANA)
        assert len(long_copy.title) == 200 and long_copy.title.endswith("T (copy)")
        assert untitled_copy.title == "Untitled reel (copy)"


@pytest.mark.parametrize("status", ["draft", "failed", "cancelled", "completed"])
def test_delete_removes_the_reel_with_its_scenes_events_and_attempts(session_factory, status):
    reel_id = make_draft(session_factory)
    keep = make_draft(session_factory)
    with session_scope(session_factory) as session:
        session.add(ReelAttempt(reel_id=reel_id, number=1, idempotency_key=f"key-{reel_id}"))
    set_status(session_factory, reel_id, status)
    with session_scope(session_factory) as session:
        delete_reel(session, reel_id, actor=ANA)
    with session_scope(session_factory) as session:
        assert session.get(Reel, reel_id) is None
        for model in (Scene, ReelEvent, ReelAttempt):
            assert session.scalar(select(func.count()).select_from(model).where(model.reel_id == reel_id)) == 0
        assert len(get_reel(session, keep).scenes) == 3


@pytest.mark.parametrize("status", ["queued", "submitting", "pending", "processing"])
def test_delete_refuses_reels_in_flight(session_factory, status):
    reel_id = make_draft(session_factory)
    set_status(session_factory, reel_id, status)
    before = snapshot(session_factory, reel_id)
    with pytest.raises(ReelStateError, match=f"is {status} and cannot be deleted.*cancel it first"), \
            session_scope(session_factory) as session:
        delete_reel(session, reel_id, actor=ANA)
    assert snapshot(session_factory, reel_id) == before


# --------------------------------------------------------------------------------------------
# The validation table
# --------------------------------------------------------------------------------------------


def edit(number: int, **changes: Any) -> Callable[[list[SceneInput]], list[SceneInput]]:
    """Scene transformer: apply ``changes`` to scene ``number`` (1-based)."""

    def apply(scenes: list[SceneInput]) -> list[SceneInput]:
        return [dataclasses.replace(s, **changes) if n == number else s for n, s in enumerate(scenes, start=1)]

    return apply


@dataclass
class Case:
    """One rule: the edit, the expected field and message fragment, and whether saving refuses it."""

    id: str
    field: str
    fragment: str
    refused: bool
    settings: dict[str, Any] = field(default_factory=dict)
    scenes: Callable[[list[SceneInput]], list[SceneInput]] | None = None
    before: dict[str, Any] = field(default_factory=dict)


CASES = [
    Case("title-too-long", "title", "201 characters long; the limit is 200", True, {"title": "x" * 201}),
    Case("unknown-mode", "mode", "Mode must be one of scene_based, studio", True, {"mode": "slideshow"}),
    Case("unknown-aspect-ratio", "aspect_ratio", "got '4:3'", True, {"aspect_ratio": "4:3"}),
    Case("unknown-resolution", "resolution", "Resolution must be one of 720p, 1080p, 4k", True,
         {"resolution": "8k"}),
    Case("unknown-engine", "engine", "got 'avatar_ii'", True, {"engine": "avatar_ii"}),
    Case("captions-not-bool", "captions", "on or off", True, {"captions": "yes"}),
    Case("scene-based-needs-three", "scenes", "exactly 3 scenes; this one has 4", True,
         scenes=lambda s: [*s, dataclasses.replace(s[0], position=4)]),
    Case("studio-needs-one", "scenes", "at least 1 scene", True, scenes=lambda s: [], before={"mode": "studio"}),
    Case("studio-at-most-fifty", "scenes", "at most 50 scenes (HeyGen's limit); this one has 51", True,
         scenes=lambda s: s + [dataclasses.replace(s[0], position=4 + i) for i in range(48)],
         before={"mode": "studio"}),
    Case("duplicate-position", "scenes[2].position", "position 1 is already used", True,
         scenes=edit(2, position=1)),
    Case("avatar-missing", "scenes[1].avatar_id", "Scene 1: choose an avatar look", False,
         scenes=edit(1, avatar_id=None)),
    Case("avatar-unknown", "scenes[2].avatar_id", "Scene 2: the avatar look 'gone_look' is not in the catalog",
         False, scenes=edit(2, avatar_id="gone_look")),
    Case("engine-not-supported-by-look", "scenes[3].avatar_id", "Scene 3: the avatar look 'Our CEO' does not "
         "support Avatar V", False, {"engine": "avatar_v"}),
    Case("photo-avatar-4k-on-avatar-iii", "resolution", "Scene 2: photo avatars cannot render in 4K", False,
         {"engine": "avatar_iii", "resolution": "4k"}, scenes=edit(3, avatar_id="look_studio")),
    Case("voice-missing", "scenes[1].voice_id", "Scene 1: choose a voice", False, scenes=edit(1, voice_id=None)),
    Case("voice-unknown", "scenes[2].voice_id", "Scene 2: the voice 'gone_voice' is not in the catalog", False,
         scenes=edit(2, voice_id="gone_voice")),
    Case("script-empty", "scenes[2].script", "Scene 2: the script is empty — write what the avatar should say.",
         False, scenes=edit(2, script="")),
    Case("script-only-spaces", "scenes[3].script", "Scene 3: the script is empty", False,
         scenes=edit(3, script=" \n\t  ")),
    Case("script-too-long", "scenes[1].script", "5,001 characters long; HeyGen's limit is 5,000 — shorten it by 1",
         False, scenes=edit(1, script="a" * 5001)),
    Case("script-bell-character", "scenes[3].script", "Scene 3: the script contains an invisible control "
         "character (U+0007) at character 6", True, scenes=edit(3, script="Hello\aworld")),
    Case("script-nul-character", "scenes[1].script", "(U+0000)", True, scenes=edit(1, script="Hi\x00")),
    Case("script-escape-character", "scenes[2].script", "(U+001B)", True, scenes=edit(2, script="\x1b[1mBold")),
    Case("speed-too-fast", "scenes[1].speed", "Scene 1: speed must be between 0.5 and 1.5", True,
         scenes=edit(1, speed=1.6)),
    Case("speed-too-slow", "scenes[2].speed", "got 0.4", True, scenes=edit(2, speed=0.4)),
    Case("speed-not-a-number", "scenes[2].speed", "between 0.5 and 1.5", True, scenes=edit(2, speed=float("nan"))),
    Case("pitch-too-high", "scenes[2].pitch", "Scene 2: pitch must be between −50 and +50 semitones", True,
         scenes=edit(2, pitch=51)),
    Case("pitch-too-low", "scenes[3].pitch", "got -50.5", True, scenes=edit(3, pitch=-50.5)),
    Case("locale-for-voice-without-accents", "scenes[2].locale", "Scene 2: the voice 'Louis' has no accent choice",
         False, scenes=edit(2, locale="fr-CA")),
    Case("locale-not-offered", "scenes[1].locale", "'en-XX' is not an accent of the voice 'Ivy'; choose one of "
         "en-US, en-GB", False, scenes=edit(1, locale="en-XX")),
    Case("locale-of-another-language", "scenes[3].locale", "'pt-BR' is not an accent", False,
         scenes=edit(3, locale="pt-BR")),
    Case("locale-malformed", "scenes[1].locale", "is not a locale tag such as en-GB", True,
         scenes=edit(1, locale="british english")),
    Case("background-named-colour", "scenes[1].background_color", "must be #RRGGBB", True,
         scenes=edit(1, background_color="red")),
    Case("background-short-hex", "scenes[3].background_color", "got '#FFF'", True,
         scenes=edit(3, background_color="#FFF")),
    Case("background-with-alpha", "scenes[2].background_color", "six hex digits", True,
         scenes=edit(2, background_color="#11223344")),
]


def _apply(session, reel_id: int, case: Case) -> None:
    if case.settings:
        update_reel(session, reel_id, actor=BO, **case.settings)
    if case.scenes:
        current = [SceneInput.from_scene(s) for s in get_reel(session, reel_id).scenes]
        set_scenes(session, reel_id, case.scenes(current), actor=BO)


def _transient_reel(stored: tuple, case: Case) -> Reel:
    """The reel as the refused edit would have made it (never added to a session)."""
    settings, scenes, _ = stored
    values = {k: v for k, v in settings.items() if k != "status"} | case.settings
    inputs = [SceneInput(*row) for row in scenes]
    if case.scenes:
        inputs = case.scenes(inputs)
    rows = [Scene(**dataclasses.asdict(s)) for s in inputs]
    return Reel(status="draft", scenes=rows, **values)


@pytest.mark.parametrize("case", CASES, ids=lambda c: c.id)
def test_validation_rule(session_factory, case):
    reel_id = make_draft(session_factory, **case.before)
    with session_scope(session_factory) as session:
        assert validate_reel(get_reel(session, reel_id), TINY_INDEX) == []
    before = snapshot(session_factory, reel_id)
    if case.refused:
        with pytest.raises(ReelValidationError) as err, session_scope(session_factory) as session:
            _apply(session, reel_id, case)
        assert has(err.value.problems, case.field, case.fragment), err.value.problems
        assert snapshot(session_factory, reel_id) == before
        problems = validate_reel(_transient_reel(before, case), TINY_INDEX)
    else:
        with session_scope(session_factory) as session:
            _apply(session, reel_id, case)
        with session_scope(session_factory) as session:
            problems = validate_reel(get_reel(session, reel_id), TINY_INDEX)
    assert has(problems, case.field, case.fragment), problems


def test_valid_edge_cases_pass_and_are_kept_verbatim(session_factory):
    scripts = [
        "  " + "a" * 5000 + "\n\n",  # exactly 5,000 characters after trimming
        "مرحبا بكم في جولتنا 👋🏽 — שלום\tעולם\nNext line 👨‍👩‍👧",  # RTL, emoji with ZWJ and skin tone, tab
        "大家好，欢迎观看我们的产品介绍。",
    ]
    scenes = complete_scenes()
    scenes = [dataclasses.replace(s, script=text) for s, text in zip(scenes, scripts, strict=True)]
    scenes[0] = dataclasses.replace(scenes[0], speed=0.5, pitch=-50, background_color="#00aaFF")
    scenes[2] = dataclasses.replace(scenes[2], voice_id="voice_zh", locale="zh-TW", speed=1.5, pitch=50)
    reel_id = make_draft(session_factory, title="é" * 200, scenes=scenes)
    with session_scope(session_factory) as session:
        reel = get_reel(session, reel_id)
        assert validate_reel(reel, TINY_INDEX) == []
        assert [s.script for s in reel.scenes] == scripts


def test_every_problem_is_reported_in_scene_order(session_factory):
    scenes = [SceneInput(1), SceneInput(2, "look_studio", "voice_en", "Fine."), SceneInput(3, voice_id="voice_fr")]
    reel_id = make_draft(session_factory, scenes=scenes)
    with session_scope(session_factory) as session:
        problems = validate_reel(get_reel(session, reel_id), TINY_INDEX)
    assert [p.field for p in problems] == [
        "scenes[1].avatar_id", "scenes[1].voice_id", "scenes[1].script", "scenes[3].avatar_id", "scenes[3].script"]
    assert all(p.message.startswith(f"Scene {p.field[7]}:") for p in problems)


# --------------------------------------------------------------------------------------------
# Estimates
# --------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("script", "speed", "seconds"),
    [
        (" ".join(["word"] * 150), 1.0, 60.0),  # 150 words per minute
        (" ".join(["word"] * 150), 1.5, 40.0),
        (" ".join(["word"] * 150), 0.5, 120.0),
        ("Don't stop — it's state-of-the-art! 🚀🚀", 1.0, 4 * 0.4),  # 4 words; dash and emoji are not words
        ("Hi.", 1.0, 1.0),  # at least one second
        ("   ", 1.0, 0.0),
        ("你好世界" * 10, 1.0, 10.0),  # 40 Chinese characters at 4 per second
        ("こんにちは、世界", 1.0, 7 / 4),  # kana and kanji count, punctuation does not
        ("我们的 app 很好用", 1.0, 6 / 4 + 0.4),  # mixed: 6 characters + 1 word
    ],
)
def test_script_estimates(script, speed, seconds):
    assert estimate_script_seconds(script, speed) == pytest.approx(seconds)


def _reel_of(durations_words: list[int], looks: list[str], **settings: Any) -> Reel:
    scenes = [Scene(position=n, avatar_id=look, voice_id="voice_en", script=" ".join(["word"] * words),
                    speed=1.0, pitch=0.0)
              for n, (words, look) in enumerate(zip(durations_words, looks, strict=True), start=1)]
    values = {"mode": "scene_based", "engine": "avatar_iv", "resolution": "1080p"} | settings
    return Reel(scenes=scenes, **values)


def test_documented_cost_example_45_seconds():
    studio = _reel_of([25, 25, 25], ["look_studio"] * 3)  # 3 × 10 s
    photo = _reel_of([25, 25, 25], ["look_photo"] * 3)
    measured = {1: 15.0, 2: 15.0, 3: 15.0}
    assert estimate_reel(studio, TINY_INDEX).duration_s == pytest.approx(30.0)
    est = estimate_reel(studio, TINY_INDEX, speech_durations=measured)
    assert est.duration_s == pytest.approx(45.0)
    assert est.scene_durations == [15.0, 15.0, 15.0]
    assert est.cost_usd == pytest.approx(3.0015) and round(est.cost_usd, 2) == 3.00
    assert estimate_reel(photo, TINY_INDEX, speech_durations=measured).cost_usd == pytest.approx(2.25)


def test_estimate_uses_each_looks_rate_the_reel_engine_and_resolution():
    mixed = _reel_of([25, 25, 25], ["look_studio", "look_photo", "gone_look"])  # unknown look: highest rate
    assert estimate_reel(mixed, TINY_INDEX).cost_usd == pytest.approx(10 * (0.0667 + 0.05 + 0.0667))
    four_k = _reel_of([25, 25, 25], ["look_studio"] * 3, resolution="4k")
    assert estimate_reel(four_k, TINY_INDEX).cost_usd == pytest.approx(30 * 0.0833)
    iii = _reel_of([25, 25, 25], ["look_photo"] * 3, engine="avatar_iii", resolution="720p")
    assert estimate_reel(iii, TINY_INDEX).cost_usd == pytest.approx(30 * 0.0167)


def test_estimate_bills_the_total_in_whole_seconds_and_prefers_measured_previews():
    reel = _reel_of([25, 25, 25], ["look_photo"] * 3)
    est = estimate_reel(reel, TINY_INDEX, speech_durations={2: 4.2})
    assert est.scene_durations == pytest.approx([10.0, 4.2, 10.0])
    assert est.duration_s == pytest.approx(24.2)
    assert est.cost_usd == pytest.approx(25 * 0.05)  # 24.2 s is billed as 25 s
    assert est.scenes == est.scene_durations


def test_empty_draft_estimates_nothing():
    reel = _reel_of([0, 0, 0], [None, None, None])
    assert estimate_reel(reel, TINY_INDEX) == estimate_reel(reel, TINY_INDEX, {}) == \
        type(estimate_reel(reel, TINY_INDEX))(0.0, 0.0, [0.0, 0.0, 0.0])


# --------------------------------------------------------------------------------------------
# The HeyGen request body
# --------------------------------------------------------------------------------------------


def test_studio_body_shape_and_schema(session_factory):
    scenes = complete_scenes()
    scenes[2] = dataclasses.replace(scenes[2], script="  Thanks for watching 🙏\n")
    reel_id = make_draft(session_factory, captions=True, aspect_ratio="9:16", scenes=scenes)
    with session_scope(session_factory) as session:
        body = build_studio_body(get_reel(session, reel_id), TINY_INDEX, callback_id="reel-1",
                                 callback_url="https://example.com/hook")
    assert body == {
        "type": "studio",
        "title": "Product intro",
        "resolution": "1080p",
        "aspect_ratio": "9:16",
        "caption": {"file_format": "srt"},
        "callback_id": "reel-1",
        "callback_url": "https://example.com/hook",
        "scenes": [
            {"type": "avatar_video", "input": {
                "type": "avatar", "avatar_id": "look_studio", "script": "Hello and welcome to our product tour.",
                "voice_id": "voice_en", "voice_settings": {"speed": 1.0, "pitch": 0.0, "locale": "en-GB"},
                "background": {"type": "color", "color": "#F4F1EA"}, "engine": {"type": "avatar_iv"}}},
            {"type": "avatar_video", "input": {
                "type": "avatar", "avatar_id": "look_photo", "script": "Bonjour à tous, voici la suite.",
                "voice_id": "voice_fr", "voice_settings": {"speed": 1.2, "pitch": -3.0},
                "engine": {"type": "avatar_iv"}}},
            {"type": "avatar_video", "input": {
                "type": "avatar", "avatar_id": "look_twin", "script": "Thanks for watching 🙏",
                "voice_id": "voice_en", "voice_settings": {"speed": 1.0, "pitch": 0.0},
                "engine": {"type": "avatar_iv"}}},
        ],
    }
    assert validate_request("POST", "/v3/videos", body) == []


def test_minimal_body_omits_optional_parts(session_factory):
    reel_id = make_draft(session_factory, mode="studio", engine="avatar_v",
                         scenes=[SceneInput(1, "look_studio", "voice_en", "One scene.")])
    with session_scope(session_factory) as session:
        reel = get_reel(session, reel_id)
        update_reel(session, reel_id, actor=ANA, title="  ")
        body = build_studio_body(reel, TINY_INDEX)
    assert set(body) == {"type", "resolution", "aspect_ratio", "scenes"}
    assert body["scenes"][0]["input"]["engine"] == {"type": "avatar_v"}
    assert validate_request("POST", "/v3/videos", body) == []


def test_an_invalid_reel_never_becomes_a_body(session_factory):
    reel_id = make_draft(session_factory, scenes=[SceneInput(1), *complete_scenes()[1:]])
    with session_scope(session_factory) as session, pytest.raises(ReelValidationError) as err:
        build_studio_body(get_reel(session, reel_id), TINY_INDEX)
    assert {p.field for p in err.value.problems} == {"scenes[1].avatar_id", "scenes[1].voice_id", "scenes[1].script"}


def test_fifty_scene_body_on_the_real_catalog_validates(session_factory, catalog_index):
    """Real look and voice ids from the 2026 catalog, HeyGen's maximum scene count, Arabic and emoji scripts."""
    scenes = [SceneInput(n, "Abigail_expressive_2024112501", "cef3bc4e0a84424cafcde6f2cf466c97",
                         f"Scene {n} — مرحبا 👋", locale="en-GB" if n % 2 else None, speed=1.1)
              for n in range(1, 51)]
    reel_id = make_draft(session_factory, mode="studio", resolution="4k", engine="avatar_iii", scenes=scenes)
    with session_scope(session_factory) as session:
        reel = get_reel(session, reel_id)
        assert validate_reel(reel, catalog_index) == []
        body = build_studio_body(reel, catalog_index)
        estimate = estimate_reel(reel, catalog_index)
    assert len(body["scenes"]) == 50
    assert validate_request("POST", "/v3/videos", body) == []
    assert estimate.cost_usd == pytest.approx(math.ceil(estimate.duration_s) * 0.02)  # Avatar III 4K rate
