"""HeyGen accounts of workspaces: checking and storing a workspace's key.

Each workspace is its own HeyGen account. :func:`save_api_key` checks a key with
``GET /v3/users/me`` before it is stored (encrypted, :mod:`core.access.keys`), so a wrong key
is refused with HeyGen's reason and an unreachable HeyGen saves nothing.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from sqlalchemy.orm import Session

from core.access.actor import Actor
from core.access.keys import KeyBox
from core.access.workspaces import HEYGEN_MODES, WorkspaceError, get_workspace, require_role
from core.config import mask_secret
from core.heygen.client import key_problem
from core.heygen.errors import AuthenticationError, HeyGenError, NetworkError
from core.models import Workspace


def save_api_key(session: Session, workspace_id: int, raw_key: str, *, actor: Actor, box: KeyBox,
                 check: Callable[[str], Any], mode: str = "live") -> Workspace:
    """Check ``raw_key`` with HeyGen, then store it encrypted (replacing any earlier key). Commits.

    ``check(key)`` calls ``GET /v3/users/me`` with the key (e.g.
    ``lambda k: HeyGenClient(k, base_url).get_current_user()``) and raises a
    :class:`core.heygen.errors.HeyGenError` when HeyGen refuses it or cannot be reached.
    ``mode``: ``live`` or ``sandbox`` (which HeyGen the key belongs to).

    Raises:
        WorkspaceDenied: ``actor`` is not an admin of the workspace.
        WorkspaceError: the key is empty, has a space or line break, HeyGen refused it (with HeyGen's
            reason) or could not be reached; nothing is saved and the message never contains the key.
    """
    workspace = get_workspace(session, workspace_id)
    require_role(session, actor, workspace, "admin")
    if mode not in HEYGEN_MODES:
        raise WorkspaceError(f"The HeyGen mode must be sandbox or live, not {mode!r}.")
    key = raw_key or ""
    if not key.strip():
        raise WorkspaceError("Paste the workspace's HeyGen API key first.")
    problem = key_problem(key)
    if problem:
        raise WorkspaceError(problem.replace("set HEYGEN_API_KEY again", "paste it again")
                             .replace("and set HEYGEN_API_KEY", "and paste it again"))
    try:
        check(key)
    except AuthenticationError as exc:
        raise WorkspaceError(f"HeyGen did not accept this key: {_reason(exc, key)}; it was not saved.") from None
    except NetworkError:
        raise WorkspaceError("HeyGen could not be reached to check the key, so it was not saved; "
                             "try again in a minute.") from None
    except HeyGenError as exc:
        raise WorkspaceError(f"HeyGen could not check the key ({_reason(exc, key)}), so it was not saved; "
                             "try again in a minute.") from None
    workspace.api_key_encrypted = box.encrypt(key)
    workspace.api_key_hint = mask_secret(key)
    workspace.heygen_mode = mode
    session.commit()
    return workspace


def _reason(exc: Exception, key: str) -> str:
    """HeyGen's message for ``exc`` with the key removed, without a trailing full stop."""
    text = (getattr(exc, "message", None) or str(exc) or type(exc).__name__).replace(key, "[key]")
    return text.strip().rstrip(".")
