"""No lost updates on drafts: a save made from a stale version is refused and names who changed it."""

from __future__ import annotations

from datetime import timedelta, timezone

import pytest

from core.access.conflicts import EditConflict
from core.db import session_scope
from core.models import Reel
from core.reels import drafts
from core.reels.validation import ReelStateError, SceneInput
from tests.people import ADMIN, person

ANA = person("Ana")


def _draft(session_factory) -> tuple[int, int]:
    with session_scope(session_factory) as session:
        reel = drafts.create_reel(session, actor=ANA, title="Start", mode="studio", scenes=[SceneInput(1, script="One.")])
        return reel.id, reel.version


def _script(session_factory, rid: int) -> tuple[str, str, int]:
    with session_factory() as session:
        reel = session.get(Reel, rid)
        return reel.title, reel.scenes[0].script, reel.version


def test_two_tabs_of_one_person_the_second_save_is_refused(session_factory):
    rid, v1 = _draft(session_factory)
    with session_scope(session_factory) as session:  # tab 1 saves
        v2 = drafts.set_scenes(session, rid, [SceneInput(1, script="Tab one text.")], actor=ANA, expected_version=v1).version
    assert v2 == v1 + 1
    with pytest.raises(EditConflict) as caught, session_scope(session_factory) as session:  # tab 2, still at v1
        drafts.set_scenes(session, rid, [SceneInput(1, script="Tab two text.")], actor=ANA, expected_version=v1)
    assert caught.value.same_person and caught.value.changed_by == "Ana"
    assert str(caught.value).startswith("Changed by Ana in another tab at ")
    assert str(caught.value).endswith(" — reload to see it; your text is kept below.")
    assert _script(session_factory, rid) == ("Start", "Tab one text.", v2)


def test_two_people_the_second_save_is_refused_and_names_the_first(session_factory):
    rid, v1 = _draft(session_factory)
    with session_scope(session_factory) as session:  # the admin edits Ana's draft
        drafts.update_reel(session, rid, actor=ADMIN, title="Admin's title", expected_version=v1)
    with pytest.raises(EditConflict) as caught, session_scope(session_factory) as session:
        drafts.update_reel(session, rid, actor=ANA, title="Ana's title", expected_version=v1)
    assert not caught.value.same_person and caught.value.changed_by == "Admin"
    berlin = timezone(timedelta(hours=1))
    at = caught.value.changed_at.astimezone(berlin)
    assert caught.value.message(berlin) == (
        f"Changed by Admin at {at:%H:%M} — reload to see it; your text is kept below.")
    assert caught.value.changed_at.tzinfo is not None
    assert _script(session_factory, rid)[0] == "Admin's title"


@pytest.mark.parametrize("edit", [
    lambda s, rid, v: drafts.update_reel(s, rid, actor=ANA, title="x", expected_version=v),
    lambda s, rid, v: drafts.set_scenes(s, rid, [SceneInput(1, script="x")], actor=ANA, expected_version=v),
    lambda s, rid, v: drafts.add_scene(s, rid, actor=ANA, expected_version=v),
    lambda s, rid, v: drafts.move_scene(s, rid, 1, 1, actor=ANA, expected_version=v),
], ids=["update_reel", "set_scenes", "add_scene", "move_scene"])
def test_every_edit_checks_the_version(session_factory, edit):
    rid, v1 = _draft(session_factory)
    with session_scope(session_factory) as session:
        drafts.update_reel(session, rid, actor=ANA, title="Moved on", expected_version=v1)
    with pytest.raises(EditConflict), session_scope(session_factory) as session:
        edit(session, rid, v1)
    assert _script(session_factory, rid)[0] == "Moved on"


def test_a_current_version_saves_and_a_launched_reel_still_says_it_is_not_a_draft(session_factory):
    rid, v1 = _draft(session_factory)
    with session_scope(session_factory) as session:
        v2 = drafts.update_reel(session, rid, actor=ANA, title="A", expected_version=v1).version
        v3 = drafts.update_reel(session, rid, actor=ANA, title="B", expected_version=v2).version
    assert (v1, v2, v3) == (1, 2, 3)
    with session_scope(session_factory) as session:
        session.get(Reel, rid).status = "queued"
    with pytest.raises(ReelStateError), session_scope(session_factory) as session:
        drafts.update_reel(session, rid, actor=ANA, title="C", expected_version=v3)


def test_a_save_without_a_version_is_not_checked_but_still_bumps_it(session_factory):
    rid, v1 = _draft(session_factory)
    with session_scope(session_factory) as session:
        drafts.update_reel(session, rid, actor=ANA, title="No version")
    assert _script(session_factory, rid)[2] == v1 + 1
