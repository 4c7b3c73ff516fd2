"""People in Reel Studio: sign-in, the local user, roles and linking imported owner names.

- :func:`sign_in` is called on every page run of a signed-in person with the claims of their ID
  token (``st.user``): the first call creates the :class:`~core.models.User` (role from
  :class:`SignInPolicy`), later ones refresh the display name and ``last_seen_at``. Emails outside
  the allowed domains, and ID tokens without an email, are refused with :class:`SignInRefused`.
- :func:`local_user` is the person at the machine when sign-in is not configured: the OS account
  name, role admin.
- :func:`set_role` and :func:`link_user` are admin actions (they call
  :func:`core.access.permissions.require`).

Emails are stored lower-case (unique whatever the case). Functions take a SQLAlchemy session,
flush, and leave committing to the caller.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import func, select, update
from sqlalchemy.orm import Session

from core.access.actor import Actor, ActorError, clean_name
from core.access.permissions import ROLES, Action, require
from core.config import Settings
from core.models import Reel, ReelEvent, User, utcnow

#: Longest email address kept (RFC 5321 path limit), in characters.
EMAIL_MAX_CHARS = 320
_EMAIL_RE = re.compile(r"[^@\s]+@([^@\s]+\.[^@\s]+)")
#: ``last_seen_at`` is written at most this often per person (every page run would be a write).
SEEN_EVERY = timedelta(minutes=1)


class UserError(ValueError):
    """A user operation has unusable input (unknown role, unknown user); one sentence says which."""


class SignInRefused(PermissionError):  # noqa: N818 - the product's name for it
    """This person may not sign in to Reel Studio; ``str()`` says why in one sentence."""


@dataclass(frozen=True)
class SignInPolicy:
    """Who may sign in and with which role.

    Attributes:
        allowed_domains: lower-case email domains allowed to sign in; empty allows every domain.
        default_role: the role of a person's first sign-in (one of :data:`ROLES`).
        admin_emails: lower-case emails that are always admins.
    """

    allowed_domains: tuple[str, ...] = ()
    default_role: str = "viewer"
    admin_emails: frozenset[str] = field(default_factory=frozenset)

    def __post_init__(self) -> None:
        if self.default_role not in ROLES:
            raise UserError(f"The default role must be one of {', '.join(ROLES)}, not {self.default_role!r}.")

    @classmethod
    def from_lists(cls, domains: str | Iterable[str] | None, default_role: str | None,
                   admins: str | Iterable[str] | None) -> SignInPolicy:
        """Build a policy from comma-separated strings (as settings hold them) or lists."""
        return cls(
            allowed_domains=tuple(d.lstrip("@") for d in _split(domains)),
            default_role=(default_role or "viewer").strip().lower(),
            admin_emails=frozenset(_split(admins)),
        )


def policy_from_settings(settings: Settings) -> SignInPolicy:
    """The sign-in policy of ``ALLOWED_EMAIL_DOMAINS``, ``DEFAULT_ROLE`` and ``ADMIN_EMAILS``."""
    return SignInPolicy.from_lists(settings.allowed_email_domains, settings.default_role, settings.admin_emails)


def _split(value: str | Iterable[str] | None) -> list[str]:
    items = value.split(",") if isinstance(value, str) else list(value or ())
    return [item.strip().lower() for item in items if item and item.strip()]


def normalise_email(raw: Any) -> str:
    """``raw`` stripped and lower-cased.

    Raises:
        SignInRefused: ``raw`` is empty or not an email address.
    """
    email = str(raw or "").strip().lower()
    if not email:
        raise SignInRefused("Your sign-in provider did not send an email address, which Reel Studio "
                            "needs to know who you are; ask your admin to release the email claim.")
    if len(email) > EMAIL_MAX_CHARS or not _EMAIL_RE.fullmatch(email):
        raise SignInRefused("Your sign-in provider sent an email address Reel Studio cannot use; ask your admin.")
    return email


def _display_name(claims: Mapping[str, Any], email: str) -> str:
    for key in ("name", "preferred_username", "given_name"):
        try:
            return clean_name(str(claims.get(key) or ""))
        except ActorError:
            continue
    return email.split("@", 1)[0]


def check_domain(email: str, policy: SignInPolicy) -> None:
    """Return quietly when ``email``'s domain may sign in.

    Raises:
        SignInRefused: the domain is not in ``policy.allowed_domains``.
    """
    domain = email.rsplit("@", 1)[1]
    if policy.allowed_domains and domain not in policy.allowed_domains and email not in policy.admin_emails:
        allowed = ", ".join(policy.allowed_domains)
        raise SignInRefused(f"{email} may not use Reel Studio: only addresses at {allowed} are allowed.")


def sign_in(session: Session, claims: Mapping[str, Any], policy: SignInPolicy,
            now: datetime | None = None) -> User:
    """The :class:`User` for a signed-in person's ID-token ``claims`` (``email``, ``name``), created on first sign-in.

    Admin emails are made admin on every sign-in; otherwise the stored role is kept.

    Raises:
        SignInRefused: no usable email, or a domain outside ``policy.allowed_domains``.
    """
    now = now or utcnow()
    email = normalise_email(claims.get("email"))
    check_domain(email, policy)
    name = _display_name(claims, email)
    user = session.scalars(select(User).where(func.lower(User.email) == email)).first()
    if user is None:
        role = "admin" if email in policy.admin_emails else policy.default_role
        user = User(email=email, display_name=name, role=role, origin="sign-in", created_at=now, last_seen_at=now)
        session.add(user)
        session.flush()
        return user
    if email in policy.admin_emails and user.role != "admin":
        user.role = "admin"
    if user.display_name != name:
        user.display_name = name
    if user.last_seen_at is None or now - user.last_seen_at >= SEEN_EVERY:
        user.last_seen_at = now
    session.flush()
    return user


def local_user(session: Session, name: str, now: datetime | None = None) -> User:
    """The single local user named ``name`` (the OS account), role admin, created on first use.

    Raises:
        ActorError: ``name`` is empty or over 200 characters.
    """
    now = now or utcnow()
    name = clean_name(name)
    user = session.scalars(select(User).where(User.origin == "local", User.display_name == name)).first()
    if user is None:
        user = User(display_name=name, role="admin", origin="local", created_at=now, last_seen_at=now)
        session.add(user)
    elif user.last_seen_at is None or now - user.last_seen_at >= SEEN_EVERY:
        user.last_seen_at = now
    session.flush()
    return user


def actor_for(user: User, *, verified: bool = True) -> Actor:
    """The :class:`Actor` that acts for ``user`` in core calls."""
    return Actor(user.display_name or user.email or f"user {user.id}", kind="user", verified=verified,
                 user_id=user.id, email=user.email, role=user.role)


def list_users(session: Session) -> list[User]:
    """Every user, admins first, then by display name."""
    order = {role: i for i, role in enumerate(reversed(ROLES))}
    users = list(session.scalars(select(User)))
    return sorted(users, key=lambda u: (order.get(u.role, len(ROLES)), u.display_name.lower(), u.id))


def get_user(session: Session, user_id: int) -> User:
    """The user with ``user_id``.

    Raises:
        UserError: there is none.
    """
    user = session.get(User, user_id)
    if user is None:
        raise UserError(f"There is no user {user_id}; the list may be out of date, reload it.")
    return user


def set_role(session: Session, user_id: int, role: str, *, actor: Actor) -> User:
    """Give ``user_id`` the ``role``; an admin's action, and the last admin cannot be demoted.

    Raises:
        PermissionDenied: ``actor`` is not an admin.
        UserError: unknown role or user, or the change would leave no admin who can sign in.
    """
    require(actor, Action.MANAGE_USERS)
    if role not in ROLES:
        raise UserError(f"The role must be one of {', '.join(ROLES)}, not {role!r}.")
    user = get_user(session, user_id)
    if user.role == "admin" and role != "admin":
        admins = session.scalar(select(func.count()).select_from(User).where(
            User.role == "admin", User.origin != "imported", User.id != user.id))
        if not admins:
            raise UserError(f"{user.display_name} is the last admin; make someone else admin first.")
    user.role = role
    session.flush()
    return user


def link_user(session: Session, imported_id: int, user_id: int, *, actor: Actor) -> User:
    """Give the reels and history of an imported owner name to the person ``user_id``, then remove the name.

    Raises:
        PermissionDenied: ``actor`` is not an admin.
        UserError: either user is unknown, or ``imported_id`` is not an imported name.
    """
    require(actor, Action.MANAGE_USERS)
    imported, person = get_user(session, imported_id), get_user(session, user_id)
    if imported.origin != "imported":
        raise UserError(f"{imported.display_name} has signed in already; only imported names can be linked.")
    if imported.id == person.id:
        raise UserError("A name cannot be linked to itself.")
    session.execute(update(Reel).where(Reel.owner_id == imported.id)
                    .values(owner_id=person.id, owner=person.display_name))
    session.execute(update(ReelEvent).where(ReelEvent.actor_id == imported.id).values(actor_id=person.id))
    session.delete(imported)
    session.flush()
    return person


def imported_users(session: Session) -> list[User]:
    """Owner names from before sign-in that no one has been linked to yet, by name."""
    return list(session.scalars(select(User).where(User.origin == "imported").order_by(User.display_name)))
