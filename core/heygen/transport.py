"""Reading HeyGen's answers: typed errors from error responses, envelopes and models from success bodies.

Shared by :class:`core.heygen.client.HeyGenClient` and its own-media calls
(:mod:`core.heygen.media_calls`). HeyGen's envelope ``{"error": {"code", "message", "param", "doc_url"}}``
is read when present; gateway HTML, empty bodies and the codes ``""``/``"error"`` are classified by
HTTP status, codes compared case-insensitively. Secrets never reach an error's text.
"""

from __future__ import annotations

import email.utils
import logging
from collections.abc import Iterable
from datetime import UTC, datetime
from typing import Any, TypeVar
from urllib.parse import urlsplit

import pydantic
import requests

from core.config import mask_secret
from core.heygen.errors import (
    HeyGenError,
    MalformedKeyError,
    MalformedResponseError,
    NetworkError,
    RateLimitError,
    error_class_for,
)

log = logging.getLogger("core.heygen.client")

Model = TypeVar("Model", bound=pydantic.BaseModel)

#: Seconds allowed to open a connection.
CONNECT_TIMEOUT_S = 5.0
#: Read timeout of POST calls (video create, TTS, clone), in seconds — HeyGen's CLI uses 120 s for writes.
WRITE_TIMEOUT_S = 120.0

STATUS_CODES = {
    400: "validation_error",
    401: "unauthorized",
    402: "insufficient_credit",
    403: "forbidden",
    404: "not_found",
    409: "conflict",
    413: "payload_too_large",
    429: "rate_limit_exceeded",
}


def parse_retry_after(value: str | None, now: datetime | None = None) -> float | None:
    """Seconds from a ``Retry-After`` header: integer seconds or an HTTP date; ``None`` if absent/bad.

    Not capped: the value is what HeyGen asked for (the transport caps its own sleeps at 30 s).
    """
    if not value or not value.strip():
        return None
    value = value.strip()
    if value.isdigit():
        return float(value)
    try:
        when = email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError, IndexError):
        return None
    if when.tzinfo is None:
        when = when.replace(tzinfo=UTC)
    return max(0.0, (when - (now or datetime.now(UTC))).total_seconds())


def scrub(text: str | None, secret: str | None) -> str | None:
    """``text`` with every occurrence of ``secret`` replaced by its mask."""
    if text and secret and secret in text:
        return text.replace(secret, mask_secret(secret))
    return text


def _error_fields(response: requests.Response) -> tuple[str, str, str | None]:
    """(code, message, param) from HeyGen's error envelope; ``("", "", None)`` for other bodies."""
    try:
        body = response.json()
    except ValueError:
        return "", "", None
    error = body.get("error") if isinstance(body, dict) else None
    if not isinstance(error, dict):
        return "", "", None
    param = error.get("param")
    return str(error.get("code") or ""), str(error.get("message") or ""), (str(param) if param else None)


def status_code_name(status: int) -> str:
    """The code HeyGen's CLI derives from a bare status (``404`` → ``not_found``, 5xx → ``internal_error``)."""
    if status >= 500:
        return "internal_error"
    return STATUS_CODES.get(status, f"http_{status}")


def error_from_response(response: requests.Response, secret: str | None = None) -> HeyGenError:
    """The typed error for a non-2xx ``response`` (never raises); ``secret`` is masked in its text."""
    status = response.status_code
    code, message, param = _error_fields(response)
    if code.strip().lower() in ("", "error"):
        code = status_code_name(status)
    cls = error_class_for(status, code)
    fields = {
        "status": status,
        "code": code.lower(),
        "message": scrub(message, secret) or "",
        "param": scrub(param, secret),
        "request_id": response.headers.get("X-Request-Id"),
    }
    if issubclass(cls, RateLimitError):
        return cls(retry_after=parse_retry_after(response.headers.get("Retry-After")), **fields)
    return cls(**fields)


def network_error(exc: requests.RequestException, url: str) -> NetworkError:
    """A :class:`NetworkError` for a request that got no usable response (text without secrets)."""
    host = urlsplit(url).hostname or "HeyGen"
    what = "timed out" if isinstance(exc, requests.Timeout) else "could not connect"
    return NetworkError(None, "network_error", f"{what} ({type(exc).__name__} reaching {host})")


def body_of(response: requests.Response) -> dict[str, Any]:
    """The JSON object of a 2xx response; an empty body gives ``{}``.

    Raises:
        MalformedResponseError: the body is not JSON or not a JSON object.
    """
    if not response.content:
        return {}
    try:
        body = response.json()
    except ValueError:
        body = None
    if not isinstance(body, dict):
        raise MalformedResponseError(response.status_code, "malformed_response", "the body is not a JSON object",
                                     request_id=response.headers.get("X-Request-Id"))
    return body


def data_of(payload: dict[str, Any], kind: type) -> Any:
    """``payload["data"]`` checked to be a ``kind`` (dict or list).

    Raises:
        MalformedResponseError: ``data`` is missing or of another type.
    """
    data = payload.get("data")
    if not isinstance(data, kind):
        raise MalformedResponseError(None, "malformed_response", f"expected data to be a {kind.__name__}")
    return data


def parse_model(model: type[Model], item: Any) -> Model:
    """``model`` validated from ``item``; a shape HeyGen should never send → :class:`MalformedResponseError`."""
    try:
        return model.model_validate(item)
    except pydantic.ValidationError:
        raise MalformedResponseError(None, "malformed_response", f"unexpected {model.__name__} shape") from None


def parse_items(model: type[Model], items: list[Any]) -> list[Model]:
    """Catalog items as ``model``; an item HeyGen sent in an unusable shape is skipped and logged,
    so one broken entry never hides the whole catalog.

    Raises:
        MalformedResponseError: not one item of a non-empty list could be read (the format changed).
    """
    parsed, skipped = [], 0
    for item in items:
        try:
            parsed.append(model.model_validate(item))
        except pydantic.ValidationError:
            skipped += 1
    if items and not parsed:
        raise MalformedResponseError(None, "malformed_response", f"unexpected {model.__name__} shape")
    if skipped:
        log.warning("skipped %d of %d %s entries HeyGen sent in an unexpected shape", skipped, len(items),
                    model.__name__)
    return parsed


def query_params(**values: Any) -> dict[str, Any]:
    """Query parameters without the ``None`` values."""
    return {k: v for k, v in values.items() if v is not None}


def chunks(items: list[str], size: int) -> Iterable[list[str]]:
    """``items`` in consecutive lists of at most ``size``."""
    for start in range(0, len(items), size):
        yield items[start:start + size]


def key_problem(api_key: str) -> str | None:
    """One sentence saying why ``api_key`` cannot be sent as an ``X-Api-Key`` header, or ``None`` when it can.

    A line break (``\\r``/``\\n``), a tab or space, another control character or a non-ASCII character (a
    typographic dash pasted from a document) cannot travel in an HTTP header.
    """
    if "\n" in api_key or "\r" in api_key:
        return MalformedKeyError.default_sentence
    if any(ch.isspace() for ch in api_key):
        return "The HeyGen API key contains a space or tab; set HEYGEN_API_KEY again without it."
    if any(ord(ch) < 32 or ord(ch) == 127 for ch in api_key) or not api_key.isascii():
        return ("The HeyGen API key contains a character that is not plain ASCII text; "
                "copy it again from HeyGen and set HEYGEN_API_KEY.")
    return None
