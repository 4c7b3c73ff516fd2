"""Receiver for HeyGen v3 webhook events: ``POST /webhooks/heygen`` (signature checked).

HeyGen signs deliveries to registered endpoints with HMAC-SHA256 over the raw body,
keyed with the endpoint secret (``whsec_…``), as lower-case hex in the ``Signature``
header (some deliveries use ``X-HeyGen-Signature``; an optional ``sha256=`` prefix is
accepted). The signature is checked before the body is parsed. Handled events:

- ``avatar_video.success`` ``{"video_id", "url"|"video_url", …}`` → the reel completes.
  With a client the video is re-read with ``GET /v3/videos/{id}`` (authoritative state
  and fresh links); without one the delivered URL is stored.
- ``avatar_video.fail`` ``{"video_id", "msg"|"error"|"message", …}`` → the reel fails.

Every other event type, an unknown video and a repeated delivery answer 200 and change
nothing; polling by the worker stays the safety net. ``GET /healthz`` answers ``ok``.

The route is public (outside Streamlit's login), so besides the signature it refuses
bodies over :data:`MAX_BODY_BYTES` (413) and more than :data:`RATE_LIMIT` requests per
:data:`RATE_WINDOW_S` seconds from one address (429).
"""

from __future__ import annotations

import hashlib
import hmac
import json
import logging
import threading
import time
from collections import deque
from collections.abc import Callable, Mapping
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import sessionmaker
from starlette.applications import Starlette
from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import JSONResponse, PlainTextResponse
from starlette.routing import Route

from core.heygen.errors import HeyGenError
from core.heygen.types import Video
from core.jobs import lifecycle
from core.models import Reel

log = logging.getLogger(__name__)

SIGNATURE_HEADERS = ("Signature", "X-HeyGen-Signature")
ACTOR = "webhook"


def _header(headers: Mapping[str, str], name: str) -> str | None:
    value = headers.get(name)
    if value is None:
        value = headers.get(name.lower())
    if value is None and not hasattr(headers, "getlist"):  # plain dict with other casing
        value = next((v for k, v in headers.items() if k.lower() == name.lower()), None)
    return value


def sign(body: bytes, secret: str) -> str:
    """Lower-case hex HMAC-SHA256 of ``body`` keyed with ``secret`` (UTF-8): what HeyGen sends."""
    return hmac.new(secret.encode("utf-8"), body, hashlib.sha256).hexdigest()


def verify_signature(body: bytes, headers: Mapping[str, str], secret: str | None) -> bool:
    """True when ``headers`` carry a valid signature of the raw ``body`` for ``secret``.

    Reads ``Signature``, then ``X-HeyGen-Signature`` (case-insensitive); strips an optional
    ``sha256=`` prefix; compares with :func:`hmac.compare_digest`. False without a secret.
    """
    if not secret:
        return False
    expected = sign(body, secret)
    for name in SIGNATURE_HEADERS:
        value = _header(headers, name)
        if not value:
            continue
        value = value.strip()
        if value.lower().startswith("sha256="):
            value = value[7:]
        if hmac.compare_digest(value.lower().encode("ascii", "replace"), expected.encode("ascii")):
            return True
    return False


def _video_from_event(event_type: str, data: Mapping[str, Any]) -> Video:
    video_id = str(data.get("video_id"))
    if event_type == "avatar_video.success":
        return Video(id=video_id, status="completed", video_url=data.get("url") or data.get("video_url"),
                     duration=data.get("duration"), thumbnail_url=data.get("thumbnail_url"))
    message = data.get("msg") or data.get("error") or data.get("message") or "HeyGen reported a failed render."
    if isinstance(message, Mapping):
        message = message.get("message") or json.dumps(message)
    return Video(id=video_id, status="failed", failure_code=data.get("failure_code") or "render_failed",
                 failure_message=str(message))


def handle_event(session_factory: sessionmaker, payload: Mapping[str, Any], client: Any = None) -> dict:
    """Apply one parsed, verified event; returns the JSON answer (``{"result": …}``).

    Results: ``updated``, ``unchanged`` (repeat or already final), ``ignored`` (other type,
    no video_id, unknown video). With ``client``: ``GET /v3/videos/{id}`` for the truth.
    """
    event_type = str(payload.get("event_type") or "")
    data = payload.get("event_data") or {}
    if event_type not in ("avatar_video.success", "avatar_video.fail"):
        return {"result": "ignored", "reason": "event type not handled"}
    if not isinstance(data, Mapping) or not data.get("video_id"):
        return {"result": "ignored", "reason": "no video_id"}
    with session_factory() as session:
        reel = session.scalars(select(Reel).where(Reel.video_id == str(data["video_id"]))).first()
        if reel is None:
            return {"result": "ignored", "reason": "unknown video"}
        if reel.status not in ("submitting", "pending", "processing"):
            return {"result": "unchanged", "status": reel.status}
        video = _video_from_event(event_type, data)
        if client is not None:
            try:
                video = client.get_video(video.id)
            except HeyGenError as exc:  # keep the delivered facts; polling will correct them
                log.warning("webhook: GET video %s failed (%s); using the event", video.id, exc.code)
        changed = lifecycle.apply_video(session, reel, video, actor=ACTOR)
        session.commit()
        return {"result": "updated" if changed else "unchanged", "status": reel.status}


#: Largest webhook body accepted, in bytes (HeyGen's events are a few hundred bytes).
MAX_BODY_BYTES = 256 * 1024
#: Requests allowed per address and window (generous: a burst of finished renders is legitimate).
RATE_LIMIT = 300
RATE_WINDOW_S = 60.0


class RateLimiter:
    """Sliding-window limit: at most ``limit`` calls per ``window_s`` seconds for each key."""

    def __init__(self, limit: int, window_s: float, clock: Callable[[], float] = time.monotonic) -> None:
        self.limit, self.window_s, self.clock = limit, window_s, clock
        self._hits: dict[str, deque[float]] = {}
        self._lock = threading.Lock()

    def allow(self, key: str) -> bool:
        """Record one call for ``key``; False when it is over the limit (the call is not counted)."""
        now = self.clock()
        with self._lock:
            hits = self._hits.setdefault(key, deque())
            while hits and hits[0] <= now - self.window_s:
                hits.popleft()
            if len(hits) >= self.limit:
                return False
            hits.append(now)
            return True


def create_app(session_factory: sessionmaker, secret: str | None, client: Any = None, *,
               limiter: RateLimiter | None = None) -> Starlette:
    """The webhook receiver as a Starlette app.

    Routes: ``POST /webhooks/heygen`` (429 over the rate limit, 413 on a body over
    :data:`MAX_BODY_BYTES`, 401 on a missing or wrong signature, 400 on a body that is not
    JSON, else 200 with ``{"result": …}``) and ``GET /healthz``.
    """
    limiter = limiter or RateLimiter(RATE_LIMIT, RATE_WINDOW_S)

    async def receive(request: Request) -> JSONResponse:
        if not limiter.allow(request.client.host if request.client else "unknown"):
            return JSONResponse({"error": "too many requests"}, status_code=429, headers={"Retry-After": "60"})
        if int(request.headers.get("content-length") or 0) > MAX_BODY_BYTES:
            return JSONResponse({"error": "body too large"}, status_code=413)
        body = await request.body()
        if len(body) > MAX_BODY_BYTES:
            return JSONResponse({"error": "body too large"}, status_code=413)
        if not verify_signature(body, request.headers, secret):
            return JSONResponse({"error": "invalid signature"}, status_code=401)
        try:
            payload = json.loads(body)
        except ValueError:
            return JSONResponse({"error": "body is not JSON"}, status_code=400)
        if not isinstance(payload, dict):
            return JSONResponse({"error": "body is not a JSON object"}, status_code=400)
        answer = await run_in_threadpool(handle_event, session_factory, payload, client)
        return JSONResponse(answer)

    async def healthz(request: Request) -> PlainTextResponse:
        return PlainTextResponse("ok")

    return Starlette(routes=[
        Route("/webhooks/heygen", receive, methods=["POST"]),
        Route("/healthz", healthz, methods=["GET"]),
    ])
