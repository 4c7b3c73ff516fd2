"""The permission rules themselves: every action × role × owner, and the sentences they refuse with."""

from __future__ import annotations

import pytest

from core.access.actor import SYSTEM, WEBHOOK, Actor, ActorError, worker_actor
from core.access.permissions import (
    ADMIN_ACTIONS,
    OWNED_ACTIONS,
    PRODUCER_ACTIONS,
    Action,
    PermissionDenied,
    can,
    denial,
    require,
    require_reel,
)

OWNER_ID = 7


def person(role: str, user_id: int = 1, name: str = "Ben") -> Actor:
    return Actor(name, verified=True, user_id=user_id, role=role)


# Expected outcome written out by hand from the product rules, not derived from the module's sets.
ALLOWED = {
    # action: (viewer, producer-own, producer-other, admin)
    Action.CREATE_REEL: (False, True, True, True),
    Action.EDIT_REEL: (False, True, False, True),
    Action.LAUNCH_REEL: (False, True, False, True),
    Action.CANCEL_REEL: (False, True, False, True),
    Action.RETRY_REEL: (False, True, False, True),
    Action.DUPLICATE_REEL: (False, True, False, True),
    Action.DELETE_REEL: (False, True, False, True),
    Action.ANNOTATE_VOICE: (False, True, True, True),
    Action.SPEECH_SAMPLE: (False, True, True, True),
    Action.USE_OWN_MEDIA: (False, True, True, True),
    Action.REFRESH_LINKS: (True, True, True, True),
    Action.REFRESH_CATALOG: (False, False, False, True),
    Action.MANAGE_WEBHOOKS: (False, False, False, True),
    Action.MANAGE_USERS: (False, False, False, True),
    Action.CHANGE_SETTINGS: (False, False, False, True),
    Action.PROCESS_JOBS: (False, False, False, False),
    Action.ARCHIVE_VIDEOS: (False, False, False, True),
}


def test_the_table_covers_every_action():
    assert set(ALLOWED) == set(Action)


@pytest.mark.parametrize("action", list(Action))
def test_action_by_role_and_owner(action):
    viewer, producer_own, producer_other, admin = ALLOWED[action]
    assert can(person("viewer", user_id=OWNER_ID), action, owner_id=OWNER_ID, owner_name="Ana") is viewer
    assert can(person("producer", user_id=OWNER_ID), action, owner_id=OWNER_ID, owner_name="Ana") is producer_own
    assert can(person("producer", user_id=2), action, owner_id=OWNER_ID, owner_name="Ana") is producer_other
    assert can(person("admin", user_id=3), action, owner_id=OWNER_ID, owner_name="Ana") is admin


def test_the_owner_sentence():
    with pytest.raises(PermissionDenied) as caught:
        require(person("producer"), Action.DELETE_REEL, owner_id=OWNER_ID, owner_name="Ana")
    assert str(caught.value) == "Only Ana (owner) or an admin can delete this reel."
    assert caught.value.action is Action.DELETE_REEL
    assert caught.value.actor_name == "Ben"


def test_a_viewer_is_told_to_ask_for_the_producer_role():
    assert denial(person("viewer"), Action.CREATE_REEL) == "Viewers cannot create reels; ask an admin for the producer role."
    assert denial(person("viewer", user_id=OWNER_ID), Action.LAUNCH_REEL, owner_id=OWNER_ID, owner_name="Ana") == (
        "Viewers cannot launch this reel; ask an admin for the producer role.")


def test_admin_only_sentence():
    assert denial(person("producer"), Action.MANAGE_WEBHOOKS) == "Only an admin can manage webhooks."


def test_a_reel_without_owner_is_admins_only():
    assert denial(person("producer"), Action.EDIT_REEL, owner_id=None, owner_name="") == (
        "Only its owner or an admin can edit this reel.")
    assert can(person("admin"), Action.EDIT_REEL, owner_id=None)


def test_an_unknown_role_cannot_be_built():
    with pytest.raises(ActorError, match="Unknown role 'superuser'"):
        person("superuser")


@pytest.mark.parametrize("system", [worker_actor("host:1:abc"), WEBHOOK, SYSTEM])
def test_system_actors_only_process(system):
    assert can(system, Action.PROCESS_JOBS)
    assert can(system, Action.REFRESH_LINKS)
    assert can(system, Action.ARCHIVE_VIDEOS)  # the worker copies finished videos out of HeyGen
    for action in OWNED_ACTIONS | PRODUCER_ACTIONS | (ADMIN_ACTIONS - {Action.REFRESH_CATALOG, Action.ARCHIVE_VIDEOS}):
        assert not can(system, action, owner_id=OWNER_ID), action


def test_require_reel_reads_owner_from_the_reel():
    class Reel:
        owner_id = OWNER_ID
        owner = "Ana"

    require_reel(person("producer", user_id=OWNER_ID), Action.LAUNCH_REEL, Reel())
    with pytest.raises(PermissionDenied, match=r"^Only Ana \(owner\) or an admin can launch this reel\.$"):
        require_reel(person("producer", user_id=2), Action.LAUNCH_REEL, Reel())
