"""The sandbox's Starlette application: routes, and the middleware every request passes through.

Middleware order for a request: ``X-Request-Id`` on the response → count it in the stats under
``METHOD /path/template`` → fault injection (API routes only) → API-key check (``/v3/*`` and
``/v1/chat/completions``) → route. Unknown paths, including HeyGen's retired ``/v1/*`` and ``/v2/*``
paths, answer 404 ``not_found``. ``POST /v1/chat/completions`` is the OpenAI-compatible stand-in for a
language model (:mod:`core.sandbox.routes_chat`), not a HeyGen path.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import uuid
from typing import Any

from starlette.applications import Starlette
from starlette.datastructures import MutableHeaders
from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import HTMLResponse, JSONResponse, Response
from starlette.routing import BaseRoute, Match
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from core.sandbox import (
    routes_account,
    routes_catalog,
    routes_chat,
    routes_internal,
    routes_media,
    routes_videos,
)
from core.sandbox.auth import authenticate
from core.sandbox.context import Sandbox
from core.sandbox.faults import ROUTE_FAULTS
from core.sandbox.http import ApiError, error_body
from core.sandbox.settings import SandboxConfig

log = logging.getLogger(__name__)

ROUTES: list[BaseRoute] = [*routes_media.ROUTES, *routes_catalog.ROUTES, *routes_videos.ROUTES, *routes_account.ROUTES,
                           *routes_chat.ROUTES, *routes_internal.ROUTES]
_UNCOUNTED = {"/_sandbox/stats", "/_sandbox/reset", "/_sandbox/faults"}
_GATEWAY_HTML = "<html><head><title>{0}</title></head><body><h1>{0}</h1><p>sandbox gateway</p></body></html>"


def route_template(scope: Scope) -> str | None:
    """The path template (``/v3/videos/{video_id}``) of the route matching ``scope``, or ``None``."""
    partial = None
    for route in ROUTES:
        match, _ = route.matches(scope)
        if match == Match.FULL:
            return route.path
        if match == Match.PARTIAL and partial is None:
            partial = route.path
    return partial


class SandboxMiddleware:
    """Request ids, stats, fault injection and authentication around the routes (pure ASGI)."""

    def __init__(self, app: ASGIApp, sandbox: Sandbox) -> None:
        self.app = app
        self.sandbox = sandbox

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            return await self.app(scope, receive, send)
        sb = self.sandbox
        sb.start()
        request_id = "req_" + uuid.uuid4().hex[:24]

        async def send_with_id(message: Message) -> None:
            if message["type"] == "http.response.start":
                MutableHeaders(scope=message)["X-Request-Id"] = request_id
            await send(message)

        method, path = scope["method"], scope["path"]
        template = route_template(scope)
        if path not in _UNCOUNTED:
            with sb.store.lock:
                sb.store.requests[f"{method} {template or '<unmatched>'}"] += 1
        scope.setdefault("state", {})["request_id"] = request_id
        if template is None or path.startswith("/_sandbox/"):
            return await self.app(scope, receive, send_with_id)
        fault = sb.faults.pick(method, template)
        if fault == "drop":
            return await self._drop(scope)
        if fault == "slow":
            await asyncio.sleep(sb.config.slow_s)
        elif fault in ROUTE_FAULTS:
            scope["state"]["fault"] = fault  # the route itself answers wrongly
        elif fault and fault != "badjson":
            return await _fault_response(fault)(scope, receive, send_with_id)
        try:
            scope["state"]["owner"] = authenticate(scope, sb.config)
        except ApiError as exc:
            return await exc.response()(scope, receive, send_with_id)
        if fault == "badjson":
            return await self.app(scope, receive, _truncating(send_with_id))
        return await self.app(scope, receive, send_with_id)

    async def _drop(self, scope: Scope) -> None:
        """Close the client's connection without any response (RST/EOF seen as a connection error)."""
        server = self.sandbox.uvicorn_server
        client = tuple(scope.get("client") or ())
        for conn in list(getattr(getattr(server, "server_state", None), "connections", ()) or ()):
            if tuple(getattr(conn, "client", None) or ()) == client and getattr(conn, "transport", None):
                conn.transport.abort()
                await asyncio.sleep(0.01)  # let uvicorn notice the disconnect before the app returns
                return
        raise ConnectionAbortedError("sandbox fault: drop")  # no server handle (e.g. TestClient)


def _fault_response(kind: str) -> Response:
    status = int(kind)
    if kind in ("502", "504"):
        title = {502: "502 Bad Gateway", 504: "504 Gateway Time-out"}[status]
        return HTMLResponse(_GATEWAY_HTML.format(title), status_code=status)
    code, message, headers = {
        "401": ("unauthorized", "Invalid or expired API key.", {}),
        "402": ("insufficient_credit", "Insufficient credit for this request.", {}),
        "429": ("rate_limit_exceeded", "Too many requests; retry later.", {"Retry-After": "1"}),
        "500": ("internal_error", "Internal server error.", {}),
        "503": ("internal_error", "Service temporarily unavailable.", {"Retry-After": "1"}),
    }[kind]
    return JSONResponse(error_body(code, message), status_code=status, headers=headers)


def _truncating(send: Send) -> Send:
    """A ``send`` that answers 200 with the response body cut in half (invalid JSON)."""
    start: dict[str, Any] = {}
    chunks: list[bytes] = []

    async def wrapped(message: Message) -> None:
        if message["type"] == "http.response.start":
            start.update(message)
            return
        if message["type"] != "http.response.body":
            return await send(message)
        chunks.append(message.get("body", b""))
        if message.get("more_body"):
            return
        body = b"".join(chunks)
        body = body[: max(1, len(body) // 2)]
        headers = MutableHeaders(raw=list(start.get("headers", [])))
        headers["content-length"] = str(len(body))
        await send({"type": "http.response.start", "status": 200, "headers": headers.raw})
        await send({"type": "http.response.body", "body": body})

    return wrapped


async def _api_error(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, ApiError)
    return exc.response()


async def _http_error(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, HTTPException)
    if exc.status_code == 405:
        return JSONResponse(error_body("method_not_allowed", "Method not allowed for this path."), status_code=405)
    if exc.status_code == 404:
        return JSONResponse(error_body("not_found", "Not found."), status_code=404)
    return JSONResponse(error_body("invalid_request", str(exc.detail)), status_code=exc.status_code)


async def _server_error(request: Request, exc: Exception) -> Response:
    log.exception("sandbox route failed", exc_info=exc)
    return JSONResponse(error_body("internal_error", "Internal server error."), status_code=500)


def create_app(config: SandboxConfig | None = None) -> Starlette:
    """Build the sandbox ASGI app for ``config`` (default :class:`SandboxConfig`).

    The app's :class:`~core.sandbox.context.Sandbox` is ``app.state.sandbox``; its job ticker starts
    with the first request or the lifespan start-up and stops at lifespan shutdown.
    """
    sandbox = Sandbox(config or SandboxConfig())

    @contextlib.asynccontextmanager
    async def lifespan(app: Starlette):
        sandbox.start()
        yield
        sandbox.close()

    app = Starlette(routes=ROUTES, lifespan=lifespan,
                    exception_handlers={ApiError: _api_error, HTTPException: _http_error, Exception: _server_error})
    app.state.sandbox = sandbox
    app.add_middleware(SandboxMiddleware, sandbox=sandbox)
    return app
