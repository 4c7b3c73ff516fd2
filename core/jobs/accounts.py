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


def save_api_key(session: Session, workspace_id: int, raw_key: str, *, actor: Actor, box: KeyBox | None,
                 check: Callable[[str], Any], mode: str = "live") -> Workspace:
    """Check ``raw_key`` with HeyGen, then store it encrypted (replacing any earlier key). Commits.

    ``check(key)`` calls ``GET /v3/users/me`` with the key (e.g.
    ``lambda k: HeyGenClient(k, base_url).get_current_user()``) and raises a
    :class:`core.heygen.errors.HeyGenError` when HeyGen refuses it or cannot be reached.
    ``mode``: ``live`` or ``sandbox`` (which HeyGen the key belongs to).

    Raises:
        WorkspaceDenied: ``actor`` is not an admin of the workspace.
        WorkspaceError: no ``box`` (team mode without ``SECRET_KEY``), the key is empty, has a space or line break, HeyGen refused it (with HeyGen's
            reason) or could not be reached; nothing is saved and the message never contains the key.
    """
    workspace = get_workspace(session, workspace_id)
    require_role(session, actor, workspace, "admin")
    if box is None:
        raise WorkspaceError("SECRET_KEY must be set before a workspace key can be stored (it encrypts the key); "
                             "set it on the app and the worker and restart.")
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


class Accounts:
    """The HeyGen client of each workspace, for the worker: one client per workspace key.

    ``client_for(workspace_id)`` returns the client that sends with that workspace's own key (its stored
    key; the default workspace without one uses ``default_client``, i.e. ``HEYGEN_API_KEY`` or the
    sandbox). A workspace without a key in a live install has no client (``None``): its reels are not
    sent with anyone else's key. Clients are made once per (workspace, key) and re-made when the key
    changes. ``concurrency(workspace_id)`` is the workspace's cap of jobs in flight (its own setting,
    else ``HEYGEN_CONCURRENCY``).

    Args:
        session_factory: sessionmaker of the migrated database.
        default_client: the client of the default workspace without a stored key.
        make_client: ``(base_url, api_key) -> client``.
        base_urls: ``{"sandbox": url, "live": url}``: where each HeyGen mode is reached.
        box: the :class:`~core.access.keys.KeyBox` that opens stored keys (``None``: no stored keys used).
        default_concurrency: ``HEYGEN_CONCURRENCY``.
        sandbox_install: the install runs without ``HEYGEN_API_KEY`` (keyless workspaces share the sandbox).
    """

    def __init__(self, session_factory: Any, default_client: Any, make_client: Callable[[str, str], Any], *,
                 base_urls: dict[str, str], box: KeyBox | None, default_concurrency: int = 10,
                 sandbox_install: bool = True) -> None:
        self.session_factory = session_factory
        self.default_client = default_client
        self.make_client = make_client
        self.base_urls = base_urls
        self.box = box
        self.default_concurrency = default_concurrency
        self.sandbox_install = sandbox_install
        self._clients: dict[int, tuple[str, Any]] = {}

    def _workspace(self, workspace_id: int) -> Workspace | None:
        with self.session_factory() as session:
            return session.get(Workspace, workspace_id)

    def client_for(self, workspace_id: int) -> Any:
        """The client sending with ``workspace_id``'s key, or ``None`` when it has no key in a live install.

        Raises:
            core.access.keys.SecretKeyError: the stored key cannot be decrypted.
        """
        workspace = self._workspace(workspace_id)
        if workspace is None or not workspace.api_key_encrypted or self.box is None:
            if workspace is None or workspace.is_default or self.sandbox_install:
                return self.default_client
            return None
        token = workspace.api_key_encrypted
        known = self._clients.get(workspace_id)
        if known is not None and known[0] == token:
            return known[1]
        from core.logs import register_secret

        key = self.box.decrypt(token)
        register_secret(key)
        client = self.make_client(self.base_urls.get(workspace.heygen_mode, self.base_urls["live"]), key)
        if known is not None:
            known[1].close()
        self._clients[workspace_id] = (token, client)
        return client

    def concurrency(self, workspace_id: int) -> int:
        """Jobs the workspace's account may have in flight at once."""
        workspace = self._workspace(workspace_id)
        return (workspace.concurrency if workspace is not None and workspace.concurrency else
                self.default_concurrency)

    def close(self) -> None:
        """Close every client made here (not ``default_client``)."""
        for _, client in self._clients.values():
            client.close()
        self._clients.clear()
