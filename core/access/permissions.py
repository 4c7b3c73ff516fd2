"""Who may do what: roles, actions and the one check every core write calls.

Roles, weakest first (:data:`ROLES`):

- ``viewer``: browse the catalog, play previews, see the board and finished videos, refresh an
  expired video link (reading, not changing, what a reel made);
- ``producer``: also compose reels, and launch, cancel, retry, duplicate and delete **their own**;
  annotate voices; hear speech samples;
- ``admin``: everything, including other people's reels, roles, Settings, webhooks, the
  catalog refresh and archiving finished videos by hand (the archive backfill).

The worker, the webhook receiver and Reel Studio itself (``Actor.kind`` other than ``"user"``) may
do only what they exist for (:data:`SYSTEM_ACTIONS`): moving launched reels through their
lifecycle, refreshing links and archiving finished videos; they never edit, delete or manage anything.

Deciding is separate from doing: :func:`denial` works out the one-sentence reason an action is
refused (or ``None``), so pages can disable a control and say why in its help text with the very
sentence :func:`require` raises in core.
"""

from __future__ import annotations

from enum import StrEnum
from typing import Any

from core.access.actor import ROLES, Actor

__all__ = ["ROLES", "Action", "PermissionDenied", "can", "denial", "require", "require_reel"]
ROLE_LABELS = {"viewer": "Viewer", "producer": "Producer", "admin": "Admin"}


class Action(StrEnum):
    """Everything that changes data, named as the sentence that refuses it names it."""

    CREATE_REEL = "create reels"
    EDIT_REEL = "edit this reel"
    LAUNCH_REEL = "launch this reel"
    CANCEL_REEL = "cancel this reel"
    RETRY_REEL = "retry this reel"
    DUPLICATE_REEL = "duplicate this reel"
    DELETE_REEL = "delete this reel"
    ANNOTATE_VOICE = "annotate voices"
    USE_OWN_MEDIA = "add own recordings, photos and voice samples"
    SPEECH_SAMPLE = "generate speech samples"
    REFRESH_LINKS = "refresh video links"
    REFRESH_CATALOG = "refresh the catalog"
    MANAGE_WEBHOOKS = "manage webhooks"
    MANAGE_USERS = "manage users and roles"
    CHANGE_SETTINGS = "change settings"
    PROCESS_JOBS = "process launched reels"
    ARCHIVE_VIDEOS = "archive finished videos"


#: Actions on one reel that its owner may do (producer role or higher); admins may do them on any reel.
OWNED_ACTIONS = frozenset({
    Action.EDIT_REEL, Action.LAUNCH_REEL, Action.CANCEL_REEL, Action.RETRY_REEL,
    Action.DUPLICATE_REEL, Action.DELETE_REEL,
})
#: Actions any producer may do.
PRODUCER_ACTIONS = frozenset({Action.CREATE_REEL, Action.ANNOTATE_VOICE, Action.SPEECH_SAMPLE, Action.USE_OWN_MEDIA})
#: Actions every signed-in person may do, viewers included.
VIEWER_ACTIONS = frozenset({Action.REFRESH_LINKS})
#: Actions only admins may do (besides everyone else's reels).
ADMIN_ACTIONS = frozenset({
    Action.REFRESH_CATALOG, Action.MANAGE_WEBHOOKS, Action.MANAGE_USERS, Action.CHANGE_SETTINGS,
    Action.ARCHIVE_VIDEOS,
})
#: What the worker, the webhook receiver and Reel Studio itself may do.
SYSTEM_ACTIONS = frozenset({Action.PROCESS_JOBS, Action.REFRESH_LINKS, Action.REFRESH_CATALOG,
                            Action.ARCHIVE_VIDEOS})


class PermissionDenied(PermissionError):  # noqa: N818 - the product's name for it
    """The acting user may not do this; ``str()`` is one sentence that says who may.

    Attributes:
        action: the :class:`Action` refused.
        actor_name: the display name of who tried.
    """

    def __init__(self, message: str, *, action: Action, actor_name: str) -> None:
        super().__init__(message)
        self.action = action
        self.actor_name = actor_name


def role_rank(role: str) -> int:
    """0 for viewer, 1 for producer, 2 for admin; -1 for anything else (no rights at all)."""
    return ROLES.index(role) if role in ROLES else -1


def _owned_denial(actor: Actor, action: Action, owner_id: int | None, owner_name: str) -> str | None:
    if actor.role == "admin":
        return None
    who = owner_name.strip() or "its owner"
    owner = f"{who} (owner)" if owner_name.strip() else who
    if actor.role == "producer" and owner_id is not None and actor.user_id == owner_id:
        return None
    if actor.role == "viewer" and owner_id is not None and actor.user_id == owner_id:
        return f"Viewers cannot {action.value}; ask an admin for the producer role."
    return f"Only {owner} or an admin can {action.value}."


def denial(actor: Actor, action: Action, *, owner_id: int | None = None, owner_name: str = "") -> str | None:
    """Why ``actor`` may not do ``action`` (one sentence), or ``None`` when allowed.

    ``owner_id``/``owner_name`` describe the reel for the actions in :data:`OWNED_ACTIONS`
    (a reel without an owner id belongs to no one, so only admins may act on it).
    """
    if actor.kind != "user":
        if action in SYSTEM_ACTIONS:
            return None
        return f"Reel Studio's {actor.kind} cannot {action.value}; only people can."
    rank = role_rank(actor.role)
    if rank < 0:
        return f"{actor.name} has no role in Reel Studio; ask an admin for one."
    if action in OWNED_ACTIONS:
        return _owned_denial(actor, action, owner_id, owner_name)
    if action in VIEWER_ACTIONS:
        return None
    if action in PRODUCER_ACTIONS:
        return None if rank >= 1 else f"Viewers cannot {action.value}; ask an admin for the producer role."
    if action in ADMIN_ACTIONS:
        return None if rank >= 2 else f"Only an admin can {action.value}."
    return f"People cannot {action.value}; Reel Studio's worker does that."


def can(actor: Actor, action: Action, *, owner_id: int | None = None, owner_name: str = "") -> bool:
    """True when :func:`denial` has no objection."""
    return denial(actor, action, owner_id=owner_id, owner_name=owner_name) is None


def require(actor: Actor, action: Action, *, owner_id: int | None = None, owner_name: str = "") -> None:
    """Return quietly when ``actor`` may do ``action``.

    Raises:
        PermissionDenied: otherwise, with :func:`denial`'s sentence.
    """
    reason = denial(actor, action, owner_id=owner_id, owner_name=owner_name)
    if reason is not None:
        raise PermissionDenied(reason, action=action, actor_name=actor.name)


def reel_denial(actor: Actor, action: Action, reel: Any) -> str | None:
    """:func:`denial` for one reel (anything with ``owner_id`` and ``owner``)."""
    return denial(actor, action, owner_id=getattr(reel, "owner_id", None), owner_name=getattr(reel, "owner", "") or "")


def require_reel(actor: Actor, action: Action, reel: Any) -> None:
    """:func:`require` for one reel (anything with ``owner_id`` and ``owner``).

    Raises:
        PermissionDenied: ``actor`` may not do ``action`` on this reel.
    """
    require(actor, action, owner_id=getattr(reel, "owner_id", None), owner_name=getattr(reel, "owner", "") or "")
