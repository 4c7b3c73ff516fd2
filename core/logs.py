"""Logging for every process (app, worker, sandbox CLI): human-readable lines or JSON lines.

:func:`configure_logging` installs one handler on the root logger that renders every standard
``logging`` record through structlog's :class:`~structlog.stdlib.ProcessorFormatter`, so the existing
``log = logging.getLogger(__name__)`` calls need no change. Each line carries ``timestamp`` (ISO 8601, UTC),
``level``, ``logger`` and ``event`` (the message), plus the context bound with :func:`log_context`:
``reel_id``, ``video_id``, ``attempt``, ``workspace``, ``actor`` and ``heygen_request_id`` where known.

No secret is ever written: the configured API key and webhook secret (see :func:`register_secret`) and
anything shaped like a HeyGen key or signing secret (``sk_…``, ``whsec_…``) are masked in every field, in
both formats, before rendering.
"""

from __future__ import annotations

import contextlib
import logging
import re
import sys
from collections.abc import Iterator
from typing import Any, TextIO

import structlog

from core.config import mask_secret

LOG_FORMATS = ("text", "json")
"""``LOG_FORMAT`` values: ``text`` (default, one readable line per record) or ``json`` (one JSON object per line)."""

CONTEXT_KEYS = ("reel_id", "video_id", "attempt", "workspace", "actor", "heygen_request_id")
"""Context fields :func:`log_context` accepts."""

_SECRET_SHAPES = re.compile(r"\b(?:whsec_|sk_)[A-Za-z0-9_+/=\-]{6,}")
_secrets: set[str] = set()


class _Handler(logging.StreamHandler):
    """Marks the handler this module installed, so a second configuration replaces it."""


def register_secret(value: str | None) -> None:
    """Mask ``value`` (an API key or webhook secret, at least 8 characters) wherever it would appear in a log line."""
    if value and len(value) >= 8:
        _secrets.add(value)


def redact(text: str) -> str:
    """``text`` with every registered secret and every ``sk_…``/``whsec_…`` token masked (first/last 4 kept)."""
    for secret in _secrets:
        if secret in text:
            text = text.replace(secret, mask_secret(secret))
    return _SECRET_SHAPES.sub(lambda m: mask_secret(m.group(0)), text)


def _redact_event(_logger: Any, _name: str, event: dict[str, Any]) -> dict[str, Any]:
    for key, value in list(event.items()):
        if isinstance(value, str):
            event[key] = redact(value)
        elif key == "exc_info" or value is None or isinstance(value, bool | int | float):
            continue
        else:
            event[key] = redact(str(value))
    return event


def _render_exception(_logger: Any, _name: str, event: dict[str, Any]) -> dict[str, Any]:
    """Turn ``exc_info`` into an ``exception`` text field, then redact it like any field."""
    event = structlog.processors.format_exc_info(_logger, _name, event)
    if isinstance(event.get("exception"), str):
        event["exception"] = redact(event["exception"])
    return event


def _text_line(_logger: Any, _name: str, event: dict[str, Any]) -> str:
    """``2026-12-01T20:00:00Z INFO core.jobs.worker: message reel_id=3 video_id=v_1`` (+ traceback lines)."""
    stamp, level, name = event.pop("timestamp", ""), event.pop("level", "info"), event.pop("logger", "")
    message, exception = event.pop("event", ""), event.pop("exception", None)
    order = {key: i for i, key in enumerate(CONTEXT_KEYS)}
    fields = sorted((order.get(k, len(order)), k, v) for k, v in event.items() if v is not None)
    extras = " ".join(f"{key}={value}" for _, key, value in fields)
    line = f"{stamp} {level.upper()} {name}: {message}" + (f" {extras}" if extras else "")
    return f"{line}\n{exception}" if exception else line


def configure_logging(fmt: str = "text", level: str | int = "INFO", *, stream: TextIO | None = None) -> None:
    """Route every log record of this process to ``stream`` (default stderr) in ``fmt``.

    Args:
        fmt: ``"text"`` or ``"json"`` (:data:`LOG_FORMATS`).
        level: the root level (``"DEBUG"``, ``"INFO"`` … or a number).

    Raises:
        ValueError: ``fmt`` is not one of :data:`LOG_FORMATS`.
    """
    if fmt not in LOG_FORMATS:
        raise ValueError(f"LOG_FORMAT must be one of: {', '.join(LOG_FORMATS)}.")
    shared = [
        structlog.contextvars.merge_contextvars,
        structlog.stdlib.add_log_level,
        structlog.stdlib.add_logger_name,
        structlog.stdlib.ExtraAdder(allow=CONTEXT_KEYS),
        structlog.processors.TimeStamper(fmt="iso", utc=True),
    ]
    renderer = structlog.processors.JSONRenderer() if fmt == "json" else _text_line
    formatter = structlog.stdlib.ProcessorFormatter(
        foreign_pre_chain=shared,
        processors=[structlog.stdlib.ProcessorFormatter.remove_processors_meta, _render_exception,
                    _redact_event, renderer],
    )
    handler = _Handler(stream or sys.stderr)
    handler.setFormatter(formatter)
    root = logging.getLogger()
    for old in [h for h in root.handlers if isinstance(h, _Handler)]:
        root.removeHandler(old)
    root.addHandler(handler)
    root.setLevel(level if isinstance(level, int) else level.upper())


@contextlib.contextmanager
def log_context(**values: Any) -> Iterator[None]:
    """Add ``values`` (keys from :data:`CONTEXT_KEYS`; ``None`` values are left out) to every log line written
    inside the block, in this thread or task.

    Raises:
        TypeError: an unknown key.
    """
    unknown = set(values) - set(CONTEXT_KEYS)
    if unknown:
        raise TypeError(f"unknown log context keys: {sorted(unknown)}")
    with structlog.contextvars.bound_contextvars(**{k: v for k, v in values.items() if v is not None}):
        yield
