"""Workspaces: each team its own HeyGen account (mode and key), budget, approval threshold, members, folders.

Who may do what in a workspace comes from :func:`workspace_role`:

- a membership (:class:`~core.models.WorkspaceMember`) gives its role: ``viewer`` (reads),
  ``producer`` (composes and launches), ``approver`` (also approves launches), ``admin`` (also
  manages the key, budget, threshold, members and folders);
- a Reel Studio admin (``actor.role == "admin"``, or anyone while Reel Studio has no roles at all) is
  admin of every workspace;
- in the default workspace, people without a membership keep their Reel Studio role, so a
  single-team install needs no membership at all (and the local user, an admin, may do everything);
- the worker, the webhook receiver and Reel Studio itself act as ``system``.

Every data-changing function takes ``actor`` keyword-only and raises :class:`WorkspaceDenied`
(a ``PermissionError``) with one sentence when it may not act, and :class:`WorkspaceError` for bad
input; nothing is written in either case. Amounts are USD.
"""

from __future__ import annotations

import dataclasses
import math
import unicodedata

from sqlalchemy import delete, func, select
from sqlalchemy.orm import Session

from core.access.actor import Actor
from core.access.keys import KeyBox
from core.models import WORKSPACE_ROLES, Folder, Reel, Workspace, WorkspaceMember

#: Largest monthly budget or cap accepted (USD): anything above is taken for a typing mistake.
MAX_BUDGET_USD = 1_000_000.0
MAX_NAME_CHARS = 100
HEYGEN_MODES = ("sandbox", "live")
_RANK = {role: i for i, role in enumerate(WORKSPACE_ROLES)}


class WorkspaceError(ValueError):
    """Bad input for a workspace change (a name, an amount, a key); ``str()`` is one sentence."""


class WorkspaceDenied(PermissionError):  # noqa: N818 - the product's name for it
    """The actor may not do this in this workspace; ``str()`` is one sentence saying who may."""


# --------------------------------------------------------------------------- roles


def default_workspace(session: Session) -> Workspace:
    """The default workspace (created by the migration; recreated if someone removed the row)."""
    workspace = session.scalars(select(Workspace).where(Workspace.is_default.is_(True))).first()
    if workspace is None:
        workspace = Workspace(name="Default", is_default=True, heygen_mode="sandbox")
        session.add(workspace)
        session.flush()
    return workspace


def get_workspace(session: Session, workspace_id: int) -> Workspace:
    """The workspace ``workspace_id``.

    Raises:
        WorkspaceError: there is none.
    """
    workspace = session.get(Workspace, workspace_id)
    if workspace is None:
        raise WorkspaceError(f"There is no workspace {workspace_id}; reload the page.")
    return workspace


def membership(session: Session, workspace_id: int, user_id: int | None) -> WorkspaceMember | None:
    """The membership of ``user_id`` in ``workspace_id``, or ``None``."""
    if user_id is None:
        return None
    return session.scalars(select(WorkspaceMember).where(WorkspaceMember.workspace_id == workspace_id,
                                                         WorkspaceMember.user_id == user_id)).first()


def workspace_role(session: Session, actor: Actor, workspace: Workspace) -> str | None:
    """``actor``'s role in ``workspace`` (one of :data:`WORKSPACE_ROLES`, ``"system"``), or ``None`` for no access."""
    if actor.kind != "user":
        return "system"
    global_role = getattr(actor, "role", None)
    if global_role in (None, "admin"):  # no roles at all (no sign-in): the one local person runs the install
        return "admin"
    member = membership(session, workspace.id, getattr(actor, "user_id", None))
    if member is not None:
        return member.role
    return global_role if workspace.is_default else None


def role_at_least(role: str | None, minimum: str) -> bool:
    """True when ``role`` is ``minimum`` or stronger (``system`` counts for nothing here)."""
    return role in _RANK and _RANK[role] >= _RANK[minimum]


_VERBS = {"viewer": "see", "producer": "launch reels in", "approver": "approve launches in", "admin": "manage"}


def require_role(session: Session, actor: Actor, workspace: Workspace, minimum: str) -> str:
    """``actor``'s role in ``workspace`` when it is ``minimum`` or stronger.

    Raises:
        WorkspaceDenied: otherwise, with one sentence.
    """
    role = workspace_role(session, actor, workspace)
    if role_at_least(role, minimum):
        return role  # type: ignore[return-value]
    if role is None:
        raise WorkspaceDenied(f"{actor.name} is not a member of the workspace {workspace.name}; ask its admin.")
    label = {"approver": "an approver", "admin": "an admin"}.get(minimum, f"a {minimum}")
    raise WorkspaceDenied(f"Only {label} of {workspace.name} can {_VERBS[minimum]} it; {actor.name} is "
                          f"{'a' if role != 'admin' else 'an'} {role}.")


#: The Reel Studio role whose rights a workspace role carries for the reel permission rules.
_AS_GLOBAL_ROLE = {"viewer": "viewer", "producer": "producer", "approver": "producer", "admin": "admin"}


def acting_as(session: Session, actor: Actor, workspace: Workspace) -> tuple[Actor, str]:
    """``(actor with the Reel Studio role their workspace role carries, workspace role)`` for permission checks.

    The worker, webhooks and Reel Studio itself come back unchanged with role ``"system"``.

    Raises:
        WorkspaceDenied: ``actor`` is not a member of ``workspace``.
    """
    role = workspace_role(session, actor, workspace)
    if role == "system":
        return actor, role
    if role is None:
        raise WorkspaceDenied(f"{actor.name} is not a member of the workspace {workspace.name}; ask its admin.")
    return dataclasses.replace(actor, role=_AS_GLOBAL_ROLE[role]), role


def workspaces_for(session: Session, actor: Actor) -> list[Workspace]:
    """The workspaces ``actor`` may see (the switcher's list): the default first, then by name."""
    every = list(session.scalars(select(Workspace).order_by(Workspace.is_default.desc(), Workspace.name)))
    return [w for w in every if workspace_role(session, actor, w) is not None]


# --------------------------------------------------------------------------- changes


def clean_workspace_name(raw: str | None, what: str = "A workspace") -> str:
    """``raw`` normalised (NFC, no control characters, single spaces).

    Raises:
        WorkspaceError: empty, or longer than :data:`MAX_NAME_CHARS` characters.
    """
    text = unicodedata.normalize("NFC", raw or "")
    text = " ".join("".join(ch for ch in text if unicodedata.category(ch)[0] != "C").split())
    if not text:
        raise WorkspaceError(f"{what} needs a name.")
    if len(text) > MAX_NAME_CHARS:
        raise WorkspaceError(f"{what} name is limited to {MAX_NAME_CHARS} characters; this one has {len(text):,}.")
    return text


def create_workspace(session: Session, name: str, *, actor: Actor) -> Workspace:
    """A new workspace (sandbox mode, no key, no budget) with ``actor`` as its admin when they have a user id.

    Raises:
        WorkspaceDenied: ``actor`` does not manage the default workspace (Reel Studio admins do).
        WorkspaceError: bad or taken name.
    """
    require_role(session, actor, default_workspace(session), "admin")
    name = clean_workspace_name(name)
    if session.scalar(select(func.count()).select_from(Workspace).where(func.lower(Workspace.name) == name.lower())):
        raise WorkspaceError(f"A workspace named {name} exists already; choose another name.")
    workspace = Workspace(name=name, heygen_mode="sandbox")
    session.add(workspace)
    session.flush()
    user_id = getattr(actor, "user_id", None)
    if user_id is not None:
        session.add(WorkspaceMember(workspace_id=workspace.id, user_id=user_id, name=actor.name, role="admin"))
    session.commit()
    return workspace


def check_amount(value: float | None, what: str) -> float | None:
    """``value`` as a USD amount (``None`` stays ``None``: no limit).

    Raises:
        WorkspaceError: negative, not a number, or above :data:`MAX_BUDGET_USD`.
    """
    if value is None:
        return None
    try:
        amount = float(value)
    except (TypeError, ValueError):
        raise WorkspaceError(f"{what} must be an amount in USD, like 250 or 99.50.") from None
    if not math.isfinite(amount) or amount < 0:
        raise WorkspaceError(f"{what} must be zero or more USD; {value!r} is not.")
    if amount > MAX_BUDGET_USD:
        raise WorkspaceError(f"{what} of ${amount:,.2f} looks like a typing mistake; the most accepted is "
                             f"${MAX_BUDGET_USD:,.0f}.")
    return round(amount, 2)


def set_budget(session: Session, workspace_id: int, *, monthly_budget_usd: float | None,
               approval_threshold_usd: float | None, actor: Actor) -> Workspace:
    """Set the workspace's monthly budget and approval threshold (``None``: none). Commits.

    Raises:
        WorkspaceDenied: ``actor`` is not an admin of the workspace.
        WorkspaceError: a negative or absurd amount (nothing changes).
    """
    workspace = get_workspace(session, workspace_id)
    require_role(session, actor, workspace, "admin")
    budget = check_amount(monthly_budget_usd, "The monthly budget")
    threshold = check_amount(approval_threshold_usd, "The approval threshold")
    workspace.monthly_budget_usd, workspace.approval_threshold_usd = budget, threshold
    session.commit()
    return workspace


def add_member(session: Session, workspace_id: int, user_id: int, name: str, role: str, *, actor: Actor,
               monthly_cap_usd: float | None = None) -> WorkspaceMember:
    """Add ``user_id`` to the workspace with ``role``, or change their role and cap when already a member. Commits.

    Raises:
        WorkspaceDenied: ``actor`` is not an admin of the workspace.
        WorkspaceError: unknown role, bad name or cap.
    """
    workspace = get_workspace(session, workspace_id)
    require_role(session, actor, workspace, "admin")
    if role not in WORKSPACE_ROLES:
        raise WorkspaceError(f"The role must be one of {', '.join(WORKSPACE_ROLES)}, not {role!r}.")
    cap = check_amount(monthly_cap_usd, "The member's monthly cap")
    name = clean_workspace_name(name, "A member")
    member = membership(session, workspace_id, user_id)
    if member is None:
        member = WorkspaceMember(workspace_id=workspace_id, user_id=user_id, name=name)
        session.add(member)
    member.role, member.monthly_cap_usd = role, cap
    session.commit()
    return member


def remove_member(session: Session, workspace_id: int, user_id: int, *, actor: Actor) -> bool:
    """Remove ``user_id`` from the workspace; their reels stay (rendering ones finish). True when removed. Commits.

    Raises:
        WorkspaceDenied: ``actor`` is not an admin of the workspace.
    """
    workspace = get_workspace(session, workspace_id)
    require_role(session, actor, workspace, "admin")
    gone = session.execute(delete(WorkspaceMember).where(WorkspaceMember.workspace_id == workspace_id,
                                                         WorkspaceMember.user_id == user_id)).rowcount
    session.commit()
    return bool(gone)


def members(session: Session, workspace_id: int) -> list[WorkspaceMember]:
    """The workspace's members, strongest role first, then by name."""
    rows = session.scalars(select(WorkspaceMember).where(WorkspaceMember.workspace_id == workspace_id))
    return sorted(rows, key=lambda m: (-_RANK.get(m.role, -1), m.name.lower()))


# --------------------------------------------------------------------------- keys


def api_key_for(workspace: Workspace, box: KeyBox | None, env_key: str | None) -> str | None:
    """The HeyGen key a workspace's reels are sent with: its stored key, else (default workspace only)
    ``HEYGEN_API_KEY``; ``None`` means the sandbox.

    Raises:
        core.access.keys.SecretKeyError: the stored key cannot be decrypted with the current secret.
    """
    if workspace.api_key_encrypted and box is not None:
        return box.decrypt(workspace.api_key_encrypted)
    return env_key if workspace.is_default else None


def workspace_mode(workspace: Workspace, env_key: str | None) -> str:
    """``"live"`` or ``"sandbox"``: what the mode badge shows for the workspace."""
    if workspace.api_key_encrypted:
        return workspace.heygen_mode
    return "live" if workspace.is_default and env_key else "sandbox"


# --------------------------------------------------------------------------- folders


def create_folder(session: Session, workspace_id: int, name: str, *, actor: Actor) -> Folder:
    """A new folder in the workspace (producers and up). Commits.

    Raises:
        WorkspaceDenied: ``actor`` is not a producer (or more) of the workspace.
        WorkspaceError: bad or taken name.
    """
    workspace = get_workspace(session, workspace_id)
    require_role(session, actor, workspace, "producer")
    name = clean_workspace_name(name, "A folder")
    taken = session.scalar(select(func.count()).select_from(Folder).where(
        Folder.workspace_id == workspace_id, func.lower(Folder.name) == name.lower()))
    if taken:
        raise WorkspaceError(f"The folder {name} exists already in {workspace.name}.")
    folder = Folder(workspace_id=workspace_id, name=name)
    session.add(folder)
    session.commit()
    return folder


def folders(session: Session, workspace_id: int) -> list[Folder]:
    """The workspace's folders by name."""
    return list(session.scalars(select(Folder).where(Folder.workspace_id == workspace_id).order_by(Folder.name)))


def file_reel(session: Session, reel_id: int, folder_id: int | None, *, actor: Actor) -> Reel:
    """File a reel in a folder of its own workspace (``None``: no folder). Commits.

    Raises:
        WorkspaceDenied: ``actor`` is not a producer (or more) of the reel's workspace.
        WorkspaceError: unknown reel, or a folder of another workspace.
    """
    reel = session.get(Reel, reel_id)
    if reel is None:
        raise WorkspaceError(f"Reel {reel_id} does not exist.")
    require_role(session, actor, get_workspace(session, reel.workspace_id), "producer")
    if folder_id is not None:
        folder = session.get(Folder, folder_id)
        if folder is None or folder.workspace_id != reel.workspace_id:
            raise WorkspaceError("That folder is not in this reel's workspace.")
    reel.folder_id = folder_id
    session.commit()
    return reel
