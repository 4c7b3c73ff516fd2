"""API-key check of the sandbox: ``X-Api-Key`` (any case) or ``Authorization: Bearer <key>``."""

from __future__ import annotations

from starlette.datastructures import Headers
from starlette.types import Scope

from core.sandbox.http import ApiError
from core.sandbox.settings import SandboxConfig
from core.sandbox.state import owner_of


def api_key_of(headers: Headers) -> str | None:
    """The presented key, or ``None`` (header names are case-insensitive)."""
    key = headers.get("x-api-key")
    if key:
        return key.strip()
    scheme, _, token = (headers.get("authorization") or "").partition(" ")
    return token.strip() or None if scheme.lower() == "bearer" else None


def authenticate(scope: Scope, config: SandboxConfig) -> str:
    """Return the owner id (hash) for the request's key.

    Raises 401 ``unauthorized`` (missing or unknown key) or 403 ``forbidden`` (``config.forbidden_keys``).
    """
    key = api_key_of(Headers(scope=scope))
    if key and key in config.forbidden_keys:
        raise ApiError(403, "forbidden", "This API key is not allowed to use this endpoint.")
    if not key:
        raise ApiError(401, "unauthorized", "Missing API key: send it in the X-Api-Key header.")
    if key not in config.api_keys:
        raise ApiError(401, "unauthorized", "Invalid API key.")
    return owner_of(key)
