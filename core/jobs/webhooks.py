"""Receiver for HeyGen v3 webhook events: ``POST /webhooks/heygen`` (signature checked).

HeyGen signs deliveries to registered endpoints with HMAC-SHA256 over the raw body, keyed with the
endpoint secret (``whsec_…``), as lower-case hex in ``Heygen-Signature``, ``X-HeyGen-Signature`` or
``Signature`` (all accepted, see :mod:`core.jobs.webhook_checks`, which also refuses a ``Heygen-Timestamp``
more than 5 minutes off and turns a repeated event id into a no-op). The signature is checked before the
body is parsed. Handled events:

- ``avatar_video.success`` ``{"video_id", "url"|"video_url", …}`` → the reel completes.
  With a client the video is re-read with ``GET /v3/videos/{id}`` (authoritative state
  and fresh links); without one the delivered URL is stored.
- ``avatar_video.fail`` ``{"video_id", "msg"|"error"|"message", …}`` → the reel fails.

Every other event type, an unknown video and a repeated delivery answer 200 and change
nothing; polling by the worker stays the safety net. ``GET /healthz`` answers ``ok``.

The route is public (outside Streamlit's login), so besides the signature it stops reading a body at
:data:`MAX_BODY_BYTES` (413, chunked bodies included) and refuses more than :data:`RATE_LIMIT` requests per
:data:`RATE_WINDOW_S` seconds from one address (429).
"""

from __future__ import annotations

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

from core.access.actor import WEBHOOK, Actor
from core.access.permissions import Action, require
from core.heygen.errors import HeyGenError
from core.heygen.types import Video
from core.jobs import lifecycle
from core.jobs.http_server import BodyTooLarge, read_body
from core.jobs.metrics import Metrics
from core.jobs.webhook_checks import (
    EventIds,
    event_id,
    header_names,
    sign,
    timestamp_problem,
    verify_signature,
)
from core.logs import log_context
from core.models import Reel

__all__ = ["MAX_BODY_BYTES", "RateLimiter", "create_app", "handle_event", "sign", "verify_signature"]

log = logging.getLogger(__name__)



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
        changed = lifecycle.apply_video(session, reel, video, actor=WEBHOOK)
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
               limiter: RateLimiter | None = None, metrics: Metrics | None = None,
               event_ids: EventIds | None = None, extra_routes: list[Route] | None = None,
               clock: Callable[[], float] = time.time) -> Starlette:
    """The webhook receiver as a Starlette app.

    ``POST /webhooks/heygen`` answers 429 over the rate limit, 413 once the body passes
    :data:`MAX_BODY_BYTES` (read as a stream, with or without ``Content-Length``), 401 on a missing or wrong
    signature, 400 on a stale ``Heygen-Timestamp``, a body that is not a JSON object (too deep included)
    or an event id that differs from the body's, 200 ``{"result": "replayed"}`` for an event id already
    applied, else 200 with ``{"result": …}``. ``extra_routes`` (e.g. ``/healthz``, ``/readyz``,
    ``/metrics`` from :func:`core.jobs.probes.probe_routes`) are served beside it; without them
    ``GET /healthz`` answers ``ok``. Each delivery's result is counted in ``metrics``
    (``reelstudio_webhook_deliveries_total{result}``) and its header names (never values) are logged.
    """
    limiter = limiter or RateLimiter(RATE_LIMIT, RATE_WINDOW_S)
    event_ids = event_ids or EventIds()

    async def receive(request: Request) -> JSONResponse:
        names = ", ".join(header_names(request.headers))

        def answer(result: str, body: dict, status: int = 200, **headers: str) -> JSONResponse:
            if metrics is not None:
                metrics.webhook_deliveries.labels(result).inc()
            log.info("webhook delivery: %s (headers: %s)", result, names)
            return JSONResponse(body, status_code=status, headers=headers or None)

        if not limiter.allow(request.client.host if request.client else "unknown"):
            return answer("rate_limited", {"error": "too many requests"}, 429, **{"Retry-After": "60"})
        try:
            body = await read_body(request, MAX_BODY_BYTES)
        except BodyTooLarge:
            return answer("too_large", {"error": f"body larger than {MAX_BODY_BYTES // 1024} KiB"}, 413)
        if not verify_signature(body, request.headers, secret):
            return answer("bad_signature", {"error": "invalid signature"}, 401)
        stale = timestamp_problem(request.headers, clock())
        if stale:
            return answer("stale", {"error": stale}, 400)
        try:
            payload = json.loads(body)
        except (ValueError, RecursionError):
            return answer("bad_json", {"error": "body is not JSON (or is nested too deeply)"}, 400)
        if not isinstance(payload, dict):
            return answer("bad_json", {"error": "body is not a JSON object"}, 400)
        event, mismatch = event_id(request.headers, payload)
        if mismatch:
            return answer("bad_event_id", {"error": mismatch}, 400)
        if event is not None and not event_ids.first_time(event):
            return answer("replayed", {"result": "replayed", "event_id": event})
        try:
            result = await run_in_threadpool(_handle_logged, session_factory, payload, client)
        except Exception:
            if event is not None:
                event_ids.forget(event)  # HeyGen's retry of this delivery must be applied
            raise
        return answer(result["result"], result)

    routes = [Route("/webhooks/heygen", receive, methods=["POST"]), *(extra_routes or [])]
    if not any(getattr(route, "path", "") == "/healthz" for route in routes):
        routes.append(Route("/healthz", _healthz, methods=["GET"]))
    return Starlette(routes=routes)


async def _healthz(request: Request) -> PlainTextResponse:
    return PlainTextResponse("ok")


def _handle_logged(session_factory: sessionmaker, payload: Mapping[str, Any], client: Any) -> dict:
    data = payload.get("event_data")
    video_id = data.get("video_id") if isinstance(data, Mapping) else None
    with log_context(video_id=str(video_id) if video_id else None, actor=WEBHOOK.name):
        return handle_event(session_factory, payload, client)


# --------------------------------------------------------------------------- endpoint management


def register_endpoint(client: Any, url: str, *, actor: Actor) -> Any:
    """Register ``url`` with HeyGen (``POST /v3/webhooks/endpoints``); the result carries the signing secret.

    Raises:
        PermissionDenied: ``actor`` is not an admin; HeyGen is not called.
        core.heygen.errors.HeyGenError: HeyGen refused or could not be reached.
    """
    require(actor, Action.MANAGE_WEBHOOKS)
    return client.create_webhook_endpoint(url)


def rotate_endpoint_secret(client: Any, endpoint_id: str, *, actor: Actor) -> Any:
    """Issue a new signing secret for ``endpoint_id`` (the old one stops working).

    Raises:
        PermissionDenied: ``actor`` is not an admin; HeyGen is not called.
        core.heygen.errors.HeyGenError: HeyGen refused or could not be reached.
    """
    require(actor, Action.MANAGE_WEBHOOKS)
    return client.rotate_webhook_secret(endpoint_id)


def delete_endpoint(client: Any, endpoint_id: str, *, actor: Actor) -> None:
    """Delete the webhook endpoint ``endpoint_id`` at HeyGen.

    Raises:
        PermissionDenied: ``actor`` is not an admin; HeyGen is not called.
        core.heygen.errors.HeyGenError: HeyGen refused or could not be reached.
    """
    require(actor, Action.MANAGE_WEBHOOKS)
    client.delete_webhook_endpoint(endpoint_id)
