"""``Idempotency-Key`` handling for POST mutations (docs §1.4).

Scope = (API key owner, method, path). A repeat within 24 h replays the stored status and body even
if the new body differs (header ``Idempotent-Replayed: true``); a repeat while the first request is
still being processed → 409 ``request_in_progress``. Only successful (2xx) responses are stored: a
failed first attempt (400/402/429/5xx) leaves the key free so a corrected retry can succeed. Keys must
match ``^[A-Za-z0-9_\\-:.]{1,255}$`` (else 400, ``param: Idempotency-Key``).
"""

from __future__ import annotations

import asyncio
import re
from collections.abc import Callable
from typing import Any

from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import JSONResponse

from core.sandbox.http import ApiError, invalid, read_body, sandbox_of

KEY_PATTERN = re.compile(r"^[A-Za-z0-9_\-:.]{1,255}$")
WINDOW_S = 24 * 3600


async def run_idempotent(request: Request, create: Callable[[bytes], tuple[int, dict[str, Any]]], *,
                         raw: bytes | None = None, in_thread: bool = False) -> JSONResponse:
    """Run ``create(raw_body) -> (status, body)`` under the request's Idempotency-Key, if any.

    ``create`` raises :class:`ApiError` for rejections; it runs after ``config.create_latency_s``, in a
    worker thread when ``in_thread`` (slow work such as storing and probing an upload). ``raw``: the
    body when the route has already read it.
    """
    sb = sandbox_of(request)
    key = request.headers.get("idempotency-key")
    if key is not None and not KEY_PATTERN.fullmatch(key):
        raise invalid("Idempotency-Key", "Idempotency-Key must be 1-255 characters of A-Z a-z 0-9 _ - : .")
    raw = await read_body(request) if raw is None else raw
    slot = f"{request.state.owner}|{request.method}|{request.url.path}|{key}" if key else None
    if slot:
        replay = _claim(sb, slot)
        if replay is not None:
            return replay
    try:
        if sb.config.create_latency_s:
            await asyncio.sleep(sb.config.create_latency_s)
        status, body = await run_in_threadpool(create, raw) if in_thread else create(raw)
        if slot:
            with sb.store.lock:
                records = sb.store.data["idempotency"]
                now = sb.now()
                for old in [k for k, r in records.items() if now - r["at"] > WINDOW_S]:
                    del records[old]
                records[slot] = {"status": status, "body": body, "at": now}
                sb.store.save()
        return JSONResponse(body, status_code=status)
    finally:
        if slot:
            with sb.store.lock:
                sb.inflight.discard(slot)


def _claim(sb: Any, slot: str) -> JSONResponse | None:
    """Mark ``slot`` in progress, or return the stored replay, or raise 409 if it is in progress."""
    with sb.store.lock:
        if slot in sb.inflight:
            raise ApiError(409, "request_in_progress",
                           "A request with this Idempotency-Key is still being processed; retry shortly.")
        record = sb.store.data["idempotency"].get(slot)
        if record is not None and sb.now() - record["at"] <= WINDOW_S:
            sb.store.bump("idempotent_replays")
            return JSONResponse(record["body"], status_code=record["status"],
                                headers={"Idempotent-Replayed": "true"})
        sb.inflight.add(slot)
        return None
