"""Checks of a HeyGen webhook delivery besides its body: signature headers, timestamp, event id.

HeyGen documents that deliveries to registered endpoints are signed with the endpoint's ``whsec_…`` secret,
but not the header names (``docs/heygen-v3.md`` §7.3). Every variant seen in practice is accepted:

- the signature (lower-case hex HMAC-SHA256 of the raw body, optional ``sha256=`` prefix) in
  ``Heygen-Signature``, ``X-HeyGen-Signature`` or ``Signature``;
- when ``Heygen-Timestamp`` (Unix seconds) is sent, a delivery more than :data:`MAX_SKEW_S` seconds away
  from our clock is refused;
- when ``Heygen-Event-Id`` (or the body's ``event_id``) is present, a repeated id is a no-op (replay
  protection) and a header id that differs from the body's is refused.

:func:`header_names` lists a delivery's header names (never values) for the log, so the real scheme can be
confirmed from the first live delivery.
"""

from __future__ import annotations

import hashlib
import hmac
import threading
import time
from collections import OrderedDict
from collections.abc import Callable, Mapping
from typing import Any

SIGNATURE_HEADERS = ("Heygen-Signature", "X-HeyGen-Signature", "Signature")
TIMESTAMP_HEADER = "Heygen-Timestamp"
EVENT_ID_HEADER = "Heygen-Event-Id"
MAX_SKEW_S = 300.0
"""Largest accepted difference between ``Heygen-Timestamp`` and our clock, in seconds."""
EVENT_MEMORY_S = 24 * 3600.0
"""How long an event id is remembered, in seconds."""
EVENT_MEMORY_SIZE = 100_000
"""Most event ids remembered at once (the oldest are forgotten first)."""


def header(headers: Mapping[str, str], name: str) -> str | None:
    """The value of header ``name`` (case-insensitive), or ``None``."""
    value = headers.get(name)
    if value is None:
        value = headers.get(name.lower())
    if value is None and not hasattr(headers, "getlist"):  # a plain dict with other casing
        value = next((v for k, v in headers.items() if k.lower() == name.lower()), None)
    return value


def sign(body: bytes, secret: str) -> str:
    """Lower-case hex HMAC-SHA256 of ``body`` keyed with ``secret`` (UTF-8): what HeyGen sends."""
    return hmac.new(secret.encode("utf-8"), body, hashlib.sha256).hexdigest()


def verify_signature(body: bytes, headers: Mapping[str, str], secret: str | None) -> bool:
    """True when one of :data:`SIGNATURE_HEADERS` carries a valid signature of the raw ``body`` for ``secret``.

    Strips an optional ``sha256=`` prefix; compares with :func:`hmac.compare_digest`. False without a secret.
    """
    if not secret:
        return False
    expected = sign(body, secret).encode("ascii")
    for name in SIGNATURE_HEADERS:
        value = (header(headers, name) or "").strip()
        if value.lower().startswith("sha256="):
            value = value[7:]
        if value and hmac.compare_digest(value.lower().encode("ascii", "replace"), expected):
            return True
    return False


def timestamp_problem(headers: Mapping[str, str], now: float) -> str | None:
    """Why the ``Heygen-Timestamp`` header is unacceptable (not a number, over :data:`MAX_SKEW_S` off), or
    ``None`` when it is fine or absent."""
    raw = header(headers, TIMESTAMP_HEADER)
    if raw is None:
        return None
    try:
        sent = float(raw.strip())
    except ValueError:
        return "Heygen-Timestamp is not a Unix time in seconds"
    if abs(now - sent) > MAX_SKEW_S:
        return f"Heygen-Timestamp is more than {MAX_SKEW_S:.0f} s away from the receiver's clock"
    return None


def event_id(headers: Mapping[str, str], payload: Mapping[str, Any]) -> tuple[str | None, str | None]:
    """``(event id, problem)``: the id from ``Heygen-Event-Id`` or the body's ``event_id`` (``None`` when
    neither is sent), and a reason when both are sent and differ."""
    from_header = header(headers, EVENT_ID_HEADER)
    from_body = payload.get("event_id")
    from_body = str(from_body) if from_body not in (None, "") else None
    if from_header is not None and from_body is not None and from_header.strip() != from_body:
        return None, "Heygen-Event-Id does not match the body's event_id"
    return (from_header.strip() if from_header is not None else from_body), None


def header_names(headers: Mapping[str, str]) -> list[str]:
    """The delivery's header names, lower case and sorted (values are never logged)."""
    return sorted({name.lower() for name in headers})


class EventIds:
    """Event ids already applied, remembered for ``ttl_s`` seconds (at most ``size`` of them). Thread-safe."""

    def __init__(self, ttl_s: float = EVENT_MEMORY_S, size: int = EVENT_MEMORY_SIZE,
                 clock: Callable[[], float] = time.monotonic) -> None:
        self.ttl_s, self.size, self.clock = ttl_s, size, clock
        self._seen: OrderedDict[str, float] = OrderedDict()
        self._lock = threading.Lock()

    def first_time(self, event: str) -> bool:
        """Record ``event``; True the first time within ``ttl_s``, False for a repeat."""
        now = self.clock()
        with self._lock:
            while self._seen and (next(iter(self._seen.values())) <= now - self.ttl_s or len(self._seen) >= self.size):
                self._seen.popitem(last=False)
            if event in self._seen:
                return False
            self._seen[event] = now
            return True

    def forget(self, event: str) -> None:
        """Forget ``event`` (its delivery failed, so HeyGen's retry must be applied)."""
        with self._lock:
            self._seen.pop(event, None)
