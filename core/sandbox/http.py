"""Building blocks of the sandbox: v3 envelopes, errors, query parsing and opaque page tokens."""

from __future__ import annotations

import base64
import binascii
import json
from collections.abc import Callable, Sequence
from typing import Any

from starlette.requests import Request
from starlette.responses import JSONResponse

from core.heygen import schemas

DOC_URL = "https://developers.heygen.com/docs/error-codes"

MAX_BODY_BYTES = 2 * 1024 * 1024
"""Largest request body the sandbox reads, in bytes (50 scenes of 5,000-character scripts fit with room to
spare); a larger body answers 413 ``payload_too_large`` as HeyGen does."""

MAX_JSON_DEPTH = 32
"""Deepest nesting of objects and arrays accepted in a request body (HeyGen's bodies need fewer than 8)."""


class ApiError(Exception):
    """An error answered with HeyGen's v3 envelope ``{"error": {code, message, param?, doc_url}}``."""

    def __init__(self, status: int, code: str, message: str, param: str | None = None,
                 headers: dict[str, str] | None = None) -> None:
        super().__init__(message)
        self.status = status
        self.code = code
        self.message = message
        self.param = param
        self.headers = headers or {}

    def response(self) -> JSONResponse:
        """The error as a JSON response."""
        return JSONResponse(error_body(self.code, self.message, self.param), status_code=self.status,
                            headers=self.headers)


def error_body(code: str, message: str, param: str | None = None) -> dict[str, Any]:
    """The v3 error envelope; ``param`` is only present for field errors."""
    error: dict[str, Any] = {"code": code, "message": message}
    if param is not None:
        error["param"] = param
    error["doc_url"] = f"{DOC_URL}#{code.replace('_', '-')}"
    return {"error": error}


def invalid(param: str, message: str) -> ApiError:
    """400 ``invalid_parameter`` naming ``param`` (dotted path, query name or header name)."""
    return ApiError(400, "invalid_parameter", message, param)


def not_found(what: str = "Resource", code: str = "not_found") -> ApiError:
    """404 with the given code."""
    return ApiError(404, code, f"{what} not found.")


def ok(data: Any, status: int = 200, headers: dict[str, str] | None = None) -> JSONResponse:
    """A v3 success envelope ``{"data": …}``."""
    return JSONResponse({"data": data}, status_code=status, headers=headers)


def page(items: list[Any], has_more: bool, next_token: str | None) -> JSONResponse:
    """A v3 list envelope ``{"data": [...], "has_more": bool, "next_token": str | None}``."""
    return JSONResponse({"data": items, "has_more": has_more, "next_token": next_token})


def query_limit(request: Request, default: int, maximum: int) -> int:
    """Parse ``limit`` (1..maximum, default ``default``); anything else raises :class:`ApiError` 400 ``param: limit``."""
    raw = request.query_params.get("limit")
    if raw is None or raw == "":
        return default
    try:
        value = int(raw)
    except ValueError:
        raise invalid("limit", f"limit must be an integer between 1 and {maximum}.") from None
    if not 1 <= value <= maximum:
        raise invalid("limit", f"limit must be between 1 and {maximum}.")
    return value


def query_enum(request: Request, name: str, allowed: Sequence[str]) -> str | None:
    """Parse an optional enum query parameter; a value outside ``allowed`` raises :class:`ApiError` 400 naming it."""
    value = request.query_params.get(name)
    if value is None or value == "":
        return None
    if value not in allowed:
        raise invalid(name, f"{name} must be one of: {', '.join(allowed)}.")
    return value


def encode_token(scope: str, last_id: str, offset: int) -> str:
    """An opaque base64url page token (JSON ``{"last_id", "offset", "scope"}``, unpadded)."""
    raw = json.dumps({"last_id": last_id, "offset": offset, "scope": scope}, separators=(",", ":"))
    return base64.urlsafe_b64encode(raw.encode()).decode().rstrip("=")


def decode_token(token: str, scope: str) -> tuple[str, int]:
    """Return ``(last_id, offset)`` of a token issued for ``scope``; garbage raises :class:`ApiError` 400 ``param: token``."""
    try:
        padded = token + "=" * (-len(token) % 4)
        payload = json.loads(base64.urlsafe_b64decode(padded.encode()))
        if payload.get("scope") != scope:
            raise ValueError("token of another list")
        return str(payload["last_id"]), int(payload["offset"])
    except (ValueError, KeyError, TypeError, AttributeError, binascii.Error, UnicodeDecodeError):
        raise invalid("token", "token is not a valid pagination token for this list.") from None


def paginate(request: Request, items: list[Any], scope: str, key: Callable[[Any], str], *,
             default: int, maximum: int) -> tuple[list[Any], bool, str | None]:
    """Cut one page out of ``items`` (stable order) from ``limit``/``token`` query parameters.

    The token remembers the last id shown; if that item disappeared (deleted video), the remembered
    offset is used instead. Returns ``(page_items, has_more, next_token)``.
    """
    limit = query_limit(request, default, maximum)
    start = 0
    token = request.query_params.get("token")
    if token:
        last_id, offset = decode_token(token, scope)
        start = next((i + 1 for i, item in enumerate(items) if key(item) == last_id), max(0, offset))
    chunk = items[start:start + limit]
    has_more = start + limit < len(items)
    next_token = encode_token(scope, key(chunk[-1]), start + len(chunk)) if has_more and chunk else None
    return chunk, has_more, next_token


async def read_body(request: Request, limit: int = MAX_BODY_BYTES) -> bytes:
    """The request body, read as a stream and abandoned past ``limit`` bytes.

    Raises:
        ApiError: 413 ``payload_too_large`` when ``Content-Length`` or the bytes received exceed ``limit``.
    """
    too_large = ApiError(413, "payload_too_large", f"Request body is larger than {limit // (1024 * 1024)} MiB.")
    declared = request.headers.get("content-length", "")
    if declared.isdigit() and int(declared) > limit:
        raise too_large
    chunks: list[bytes] = []
    size = 0
    async for chunk in request.stream():
        size += len(chunk)
        if size > limit:
            raise too_large
        chunks.append(chunk)
    return b"".join(chunks)


async def json_body(request: Request, *, required: bool = True) -> dict[str, Any]:
    """Read (at most :data:`MAX_BODY_BYTES`) and parse the request's JSON object body, see :func:`parse_json`."""
    return parse_json(await read_body(request), required=required)


def parse_json(raw: bytes, *, required: bool = True) -> dict[str, Any]:
    """Parse a JSON object body; malformed JSON, nesting too deep for Python's parser or a non-object →
    400 ``validation_error``."""
    if not raw.strip():
        if required:
            raise ApiError(400, "validation_error", "Request body must be a JSON object.")
        return {}
    try:
        body = json.loads(raw)
    except (ValueError, UnicodeDecodeError):
        raise ApiError(400, "validation_error", "Request body is not valid JSON.") from None
    except RecursionError:
        raise ApiError(400, "validation_error", "Request body is nested too deeply.") from None
    if not isinstance(body, dict):
        raise ApiError(400, "validation_error", "Request body must be a JSON object.")
    if _too_deep(body, MAX_JSON_DEPTH):
        raise ApiError(400, "validation_error", f"Request body is nested more than {MAX_JSON_DEPTH} levels deep.")
    return body


def _too_deep(value: Any, limit: int) -> bool:
    """True when objects/arrays nest more than ``limit`` levels (checked without recursion)."""
    stack = [(value, 1)]
    while stack:
        item, depth = stack.pop()
        if depth > limit:
            return True
        children = item.values() if isinstance(item, dict) else item if isinstance(item, list) else ()
        stack.extend((child, depth + 1) for child in children if isinstance(child, (dict, list)))
    return False


def check_body(method: str, template: str, body: Any) -> None:
    """Validate a body against the strict official schema; the first violation raises :class:`ApiError` 400 naming its param."""
    problems = schemas.validate_request(method, template, body)
    if problems:
        raise invalid(problems[0].param, problems[0].message)


def sandbox_of(request: Request) -> Any:
    """The :class:`Sandbox` behind this request."""
    return request.app.state.sandbox


def owned_record(request: Request, collection: str, id_param: str, what: str) -> dict[str, Any]:
    """The stored record ``collection[path id]`` of the calling account (hold ``store.lock``).

    Raises:
        ApiError: 404 naming ``what`` when the record does not exist or belongs to another account.
    """
    record = sandbox_of(request).store.data[collection].get(request.path_params[id_param])
    if record is None or record["owner"] != request.state.owner:
        raise not_found(what)
    return record


def base_url_of(request: Request) -> str:
    """Scheme + host (+ root path) of this request, without a trailing slash."""
    return str(request.base_url).rstrip("/")


def check_query(request: Request, template: str) -> None:
    """Validate query parameters against the documented ones (the first problem raises :class:`ApiError` 400 naming it)."""
    problems = schemas.validate_query("GET", template, request.query_params)
    if problems:
        raise invalid(problems[0].param, problems[0].message)
