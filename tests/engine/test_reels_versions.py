"""Script history on SQLite and PostgreSQL: versions of every saved script, restore, drafts from a topic,
concurrent edits, what a launch said, and the migration that starts the history."""

from __future__ import annotations

import dataclasses

import pytest
from alembic import command
from sqlalchemy import select, text

from core import db
from core.access.conflicts import EditConflict
from core.db import session_scope
from core.jobs import lifecycle
from core.models import ReelAttempt, ScriptVersion
from core.reels.drafts import create_reel, duplicate_reel, get_reel, move_scene, restore_script, set_scenes
from core.reels.script_drafts import DraftBrief, SceneScript, Variation, apply_variation, draft_label
from core.reels.validation import ReelStateError, ReelValidationError, SceneInput
from core.reels.versions import attempt_scripts, diff_text, history_counts, scene_history
from tests.engine.test_reels_drafts import TINY_INDEX, complete_scenes
from tests.people import person

ANA = person("ana")
BEN, CY, DEE = (person(name, "admin") for name in ("ben", "cy", "dee"))
NAMES = {"ben": BEN, "cy": CY, "dee": DEE, "ana": ANA}


def make(factory, scenes=None, **kw) -> int:
    with session_scope(factory) as s:
        kw.setdefault("title", "Tour")
        return create_reel(s, actor=ANA, scenes=scenes or complete_scenes(), **kw).id


def uids(factory, rid: int) -> list[str]:
    with session_scope(factory) as s:
        return [sc.uid for sc in sorted(get_reel(s, rid).scenes, key=lambda sc: sc.position)]


def history(factory, rid: int, n: int) -> list[tuple[str, str, str]]:
    """(text, actor, source) of scene ``n``'s versions, oldest first."""
    uid = uids(factory, rid)[n - 1]
    with session_scope(factory) as s:
        return [(v.text, v.actor, v.source) for v in reversed(scene_history(s, rid, uid))]


def edit_script(factory, rid: int, n: int, script: str, actor: str = "ben", *, by_place: bool = False) -> None:
    """Scene ``n`` of reel ``rid`` now says ``script``, saved by ``actor`` (a name of :data:`NAMES`)."""
    with session_scope(factory) as s:
        inputs = [SceneInput.from_scene(sc) for sc in sorted(get_reel(s, rid).scenes, key=lambda sc: sc.position)]
        if by_place:  # as the Compose page builds them: from its widgets, without uids
            inputs = [dataclasses.replace(i, uid=None) for i in inputs]
        inputs[n - 1].script = script
        set_scenes(s, rid, inputs, actor=NAMES[actor])


def test_a_new_reel_starts_each_written_script_s_history(session_factory):
    rid = make(session_factory, scenes=[*complete_scenes()[:2], SceneInput(3)])
    assert history(session_factory, rid, 1) == [("Hello and welcome to our product tour.", "ana", "created")]
    assert history(session_factory, rid, 3) == []  # an empty script is no version
    assert len(set(uids(session_factory, rid))) == 3


def test_every_saved_change_keeps_a_version_with_who_and_what(session_factory):
    rid = make(session_factory)
    edit_script(session_factory, rid, 2, "Second text.", actor="ben")
    edit_script(session_factory, rid, 2, "Third text.", actor="cy", by_place=True)
    edit_script(session_factory, rid, 2, "Third text.", actor="dee")  # no change: no version
    assert history(session_factory, rid, 2) == [
        ("Bonjour à tous, voici la suite.", "ana", "created"), ("Second text.", "ben", "edit"),
        ("Third text.", "cy", "edit")]
    assert len(history(session_factory, rid, 1)) == 1  # untouched scenes get nothing
    with session_scope(session_factory) as s:
        assert history_counts(s, rid) == dict(zip(uids(session_factory, rid), [1, 3, 1], strict=True))


def test_history_follows_a_scene_when_it_moves(session_factory):
    rid = make(session_factory, mode="studio")
    edit_script(session_factory, rid, 1, "First, edited.")
    before = uids(session_factory, rid)
    with session_scope(session_factory) as s:
        move_scene(s, rid, 1, 3, actor=ANA)
    assert uids(session_factory, rid) == [before[1], before[2], before[0]]
    assert [t for t, _, _ in history(session_factory, rid, 3)] == [
        "Hello and welcome to our product tour.", "First, edited."]


def test_restore_brings_back_an_old_text_and_is_itself_a_version(session_factory):
    rid = make(session_factory)
    edit_script(session_factory, rid, 1, "Changed my mind.")
    uid = uids(session_factory, rid)[0]
    with session_scope(session_factory) as s:
        first = scene_history(s, rid, uid)[-1]
        restore_script(s, rid, first.id, actor=CY)
    with session_scope(session_factory) as s:
        reel = get_reel(s, rid)
        assert sorted(reel.scenes, key=lambda sc: sc.position)[0].script == "Hello and welcome to our product tour."
        newest = scene_history(s, rid, uid)[0]
        assert (newest.source, newest.actor, newest.restored_from) == ("restore", "cy", first.id)
    assert [src for _, _, src in history(session_factory, rid, 1)] == ["created", "edit", "restore"]
    with pytest.raises(ReelValidationError, match="already says this version"), session_scope(session_factory) as s:
        restore_script(s, rid, first.id, actor=CY)


def test_restore_refuses_other_reels_versions_and_launched_reels(session_factory):
    rid, other = make(session_factory), make(session_factory)
    with session_scope(session_factory) as s:
        foreign = s.scalars(select(ScriptVersion).where(ScriptVersion.reel_id == other)).first().id
    with pytest.raises(LookupError, match="not part of reel"), session_scope(session_factory) as s:
        restore_script(s, rid, foreign, actor=ANA)
    edit_script(session_factory, rid, 1, "New.")
    with session_scope(session_factory) as s:
        old = scene_history(s, rid, uids(session_factory, rid)[0])[-1].id
        lifecycle.launch(s, rid, actor=ANA, index=TINY_INDEX)
    with pytest.raises(ReelStateError), session_scope(session_factory) as s:
        restore_script(s, rid, old, actor=ANA)


def test_concurrent_edits_keep_both_versions(session_factory):
    """Two editors showed version v; A saves first. B's save from v is refused (nothing lost, nothing
    written); B saves again from the current version and both texts are versions of the scene."""
    rid = make(session_factory)
    with session_scope(session_factory) as s:
        shown = get_reel(s, rid).version
        stale = [SceneInput.from_scene(sc) for sc in sorted(get_reel(s, rid).scenes, key=lambda sc: sc.position)]
    with session_scope(session_factory) as a:
        inputs = [dataclasses.replace(i) for i in stale]
        inputs[0].script = "A's text."
        set_scenes(a, rid, inputs, actor=BEN, expected_version=shown)
    stale[0].script = "B's text."
    with pytest.raises(EditConflict, match="Changed by ben"), session_scope(session_factory) as b:
        set_scenes(b, rid, stale, actor=CY, expected_version=shown)
    assert [t for t, _, _ in history(session_factory, rid, 1)][1:] == ["A's text."]
    with session_scope(session_factory) as b:
        set_scenes(b, rid, stale, actor=CY, expected_version=get_reel(b, rid).version)
    assert history(session_factory, rid, 1)[1:] == [("A's text.", "ben", "edit"), ("B's text.", "cy", "edit")]


def test_a_stale_session_cannot_overwrite_and_loses_no_version(session_factory):
    """B's session loaded the scenes before A replaced them: B's save is refused, A's version stays."""
    rid = make(session_factory)
    with pytest.raises(EditConflict), session_scope(session_factory) as b:
        loaded = get_reel(b, rid)  # held, so B's session keeps serving these (soon stale) rows
        stale = [SceneInput.from_scene(sc) for sc in sorted(loaded.scenes, key=lambda sc: sc.position)]
        edit_script(session_factory, rid, 1, "A's text.", actor="ben")  # committed meanwhile
        stale[0].script = "B's text."
        set_scenes(b, rid, stale, actor=CY)
    assert [t for t, _, _ in history(session_factory, rid, 1)] == [
        "Hello and welcome to our product tour.", "A's text."]


def _variation(*scripts: str, title: str = "Straight") -> Variation:
    return Variation(title=title, scenes=[SceneScript(script=t) for t in scripts])


def test_a_draft_from_a_topic_is_a_version_labelled_with_the_topic(session_factory):
    rid = make(session_factory)
    brief = DraftBrief(topic="  Our   spring menu ", scenes=3)
    with session_scope(session_factory) as s:
        apply_variation(s, _variation("One.", "Two.", "Three."), brief, actor=BEN, reel_id=rid)
    with session_scope(session_factory) as s:
        reel = get_reel(s, rid)
        assert [sc.script for sc in sorted(reel.scenes, key=lambda sc: sc.position)] == ["One.", "Two.", "Three."]
        assert [sc.voice_id for sc in sorted(reel.scenes, key=lambda sc: sc.position)] == [
            "voice_en", "voice_fr", "voice_en"]  # looks and voices stay
        newest = scene_history(s, rid, reel.scenes[0].uid)[0]
    assert (newest.source, newest.label, newest.actor) == ("draft", "Draft from a topic: Our spring menu", "ben")
    assert draft_label("x" * 500) == ("Draft from a topic: " + "x" * 500)[:200]


def test_a_draft_with_more_scenes_makes_a_studio_reel_and_copies_the_last_scene(session_factory):
    rid = make(session_factory, title="")
    with session_scope(session_factory) as s:
        apply_variation(s, _variation("1.", "2.", "3.", "4."), DraftBrief(topic="Menu", scenes=4), actor=BEN,
                        reel_id=rid)
    with session_scope(session_factory) as s:
        reel = get_reel(s, rid)
        scenes = sorted(reel.scenes, key=lambda sc: sc.position)
        assert (reel.mode, reel.title, len(scenes)) == ("studio", "Straight", 4)
        assert scenes[3].avatar_id == scenes[2].avatar_id and scenes[3].uid not in {x.uid for x in scenes[:3]}


def test_a_draft_into_a_new_reel(session_factory):
    with session_scope(session_factory) as s:
        reel = apply_variation(s, _variation("1.", "2."), DraftBrief(topic="Menu", scenes=2), actor=BEN)
        rid = reel.id
    with session_scope(session_factory) as s:
        reel = get_reel(s, rid)
        assert (reel.owner, reel.mode, reel.status, len(reel.scenes)) == ("ben", "studio", "draft", 2)
        assert scene_history(s, rid, reel.scenes[0].uid)[0].source == "draft"


def test_a_launch_records_which_versions_it_said(session_factory):
    rid = make(session_factory)
    edit_script(session_factory, rid, 3, "Bye now.")
    with session_scope(session_factory) as s:
        expected = [scene_history(s, rid, uid)[0].id for uid in uids(session_factory, rid)]
        assert lifecycle.launch(s, rid, actor=ANA, index=TINY_INDEX).ok
    with session_scope(session_factory) as s:
        attempt = s.scalars(select(ReelAttempt).where(ReelAttempt.reel_id == rid)).one()
        assert attempt.script_version_ids == expected
        assert [v.text for v in attempt_scripts(s, attempt)] == [
            "Hello and welcome to our product tour.", "Bonjour à tous, voici la suite.", "Bye now."]


def test_a_copy_starts_its_own_history(session_factory):
    rid = make(session_factory)
    with session_scope(session_factory) as s:
        copy = duplicate_reel(s, rid, actor=BEN).id
    assert set(uids(session_factory, copy)).isdisjoint(uids(session_factory, rid))
    assert history(session_factory, copy, 1) == [("Hello and welcome to our product tour.", "ben", "created")]


def test_diff_marks_removed_and_added_lines():
    assert diff_text("same\nold line", "same\nnew line") == "  same\n- old line\n+ new line"
    assert diff_text("a", "a") == ""


def test_the_migration_starts_the_history_of_existing_scenes(engine):
    config = db.alembic_config()
    with engine.begin() as connection:
        config.attributes["connection"] = connection
        command.downgrade(config, "0002")
    with engine.begin() as connection:
        connection.execute(text("INSERT INTO reels (id, title, owner, mode, aspect_ratio, resolution, captions, "
                                "engine, status, attempt, created_at, updated_at) VALUES (7, 't', 'old', "
                                "'scene_based', '16:9', '1080p', false, 'avatar_iv', 'draft', 0, "
                                "CURRENT_TIMESTAMP, CURRENT_TIMESTAMP)"))
        for n, script in enumerate(["Kept text.", "", "Third."], start=1):
            connection.execute(text("INSERT INTO scenes (reel_id, position, script, speed, pitch) "
                                    "VALUES (7, :n, :s, 1.0, 0.0)"), {"n": n, "s": script})
    db.migrate(engine)
    with engine.connect() as connection:
        scenes = connection.execute(text("SELECT uid FROM scenes WHERE reel_id = 7 ORDER BY position")).all()
        versions = connection.execute(text("SELECT scene_uid, text, actor, source FROM script_versions "
                                           "WHERE reel_id = 7 ORDER BY id")).all()
    assert all(uid and len(uid) == 32 for (uid,) in scenes) and len({u for (u,) in scenes}) == 3
    assert [tuple(v) for v in versions] == [(scenes[0][0], "Kept text.", "old", "import"),
                                             (scenes[2][0], "Third.", "old", "import")]
