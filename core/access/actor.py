"""The acting user: who makes a change, resolved once and passed to every core write.

Pages build an :class:`Actor` from the signed-in user (or the local user), the worker and the
webhook receiver build their own. Core functions that change data take ``actor: Actor``
keyword-only, with no default, and record ``actor.name`` in the reel's events.
"""

from __future__ import annotations

import unicodedata
from dataclasses import dataclass

#: Longest display name kept (characters); longer names are refused, never cut silently.
MAX_NAME_CHARS = 200
KINDS = ("user", "worker", "webhook", "system")
#: Roles, weakest first (the rules are in :mod:`core.access.permissions`).
ROLES = ("viewer", "producer", "admin")


class ActorError(ValueError):
    """The acting user's name or kind is unusable; the message says why in one sentence."""


def clean_name(raw: str | None) -> str:
    """``raw`` with Unicode normalised (NFC), control characters removed and spaces collapsed.

    Raises:
        ActorError: the name is empty after cleaning or longer than :data:`MAX_NAME_CHARS` characters.
    """
    text = unicodedata.normalize("NFC", raw or "")
    text = "".join(ch for ch in text if unicodedata.category(ch)[0] != "C")
    text = " ".join(text.split())
    if not text:
        raise ActorError("A name is needed to record who made this change.")
    if len(text) > MAX_NAME_CHARS:
        raise ActorError(f"Names are limited to {MAX_NAME_CHARS} characters; this one has {len(text):,}.")
    return text


@dataclass(frozen=True)
class Actor:
    """Who acts.

    Attributes:
        name: display name recorded in events (cleaned by :func:`clean_name`, ≤ 200 characters).
        kind: ``"user"``, ``"worker"``, ``"webhook"`` or ``"system"``.
        verified: the identity is proven (signed in, or the OS account on a loopback-bound server).
        user_id: the person's :class:`core.models.User` id (``None`` for the worker, webhooks, system).
        email: the person's lower-case email when signed in, else ``None``.
        role: ``"viewer"``, ``"producer"`` or ``"admin"`` (:mod:`core.access.permissions`); people get
            it from their user row; a person without one has the least rights.

    Raises:
        ActorError: on construction, for an empty or over-long name or an unknown kind.
    """

    name: str
    kind: str = "user"
    verified: bool = False
    user_id: int | None = None
    email: str | None = None
    role: str = "viewer"

    def __post_init__(self) -> None:
        object.__setattr__(self, "name", clean_name(self.name))
        if self.kind not in KINDS:
            raise ActorError(f"Unknown kind of actor {self.kind!r}; expected one of {', '.join(KINDS)}.")
        if self.role not in ROLES:
            raise ActorError(f"Unknown role {self.role!r}; expected one of {', '.join(ROLES)}.")

    @property
    def is_person(self) -> bool:
        """True for people (``kind == "user"``), False for Reel Studio's own processes."""
        return self.kind == "user"


def worker_actor(name: str) -> Actor:
    """The actor of a worker process, named by its lease holder id (``host:pid:id``)."""
    return Actor(name, kind="worker", verified=True)


#: The webhook receiver: changes made because HeyGen said so.
WEBHOOK = Actor("webhook", kind="webhook", verified=True)
#: Changes made by Reel Studio itself (migrations, maintenance commands).
SYSTEM = Actor("system", kind="system", verified=True)
