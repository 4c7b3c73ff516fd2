"""uvicorn settings for the product's own HTTP servers (the worker's webhook, health and metrics port).

These ports may face the internet (HeyGen must reach the webhook), so a server built here:

- gives each request :data:`READ_TIMEOUT_S` seconds to arrive whole — request line, headers and body — from
  the moment the connection opens or the previous response ends; a client that trickles bytes or sends
  nothing is disconnected (uvicorn alone waits forever for a first request);
- closes idle keep-alive connections after :data:`KEEP_ALIVE_S` seconds and answers 503 beyond
  :data:`MAX_CONNECTIONS` open connections;
- trusts ``X-Forwarded-For``/``X-Forwarded-Proto`` only from the proxies listed in ``trusted_proxies``
  (default none; uvicorn alone trusts loopback), so a client cannot pick the address the rate limit sees.

:func:`read_body` reads a request body as a stream and stops at a byte limit, with or without
``Content-Length``.
"""

from __future__ import annotations

import asyncio
from collections.abc import Sequence
from typing import Any

import uvicorn
from starlette.requests import Request
from uvicorn.protocols.http.h11_impl import H11Protocol

READ_TIMEOUT_S = 10.0
"""Seconds a client has to send one whole request (headers and body)."""
KEEP_ALIVE_S = 5
"""Seconds an idle keep-alive connection stays open."""
MAX_CONNECTIONS = 100
"""Open connections (and requests in progress) beyond which new requests get 503."""


class BodyTooLarge(Exception):
    """The request body is larger than the allowed number of bytes."""


async def read_body(request: Request, limit: int) -> bytes:
    """The request body, read chunk by chunk; stops as soon as it exceeds ``limit`` bytes.

    Raises:
        BodyTooLarge: ``Content-Length`` or the bytes received so far exceed ``limit``.
    """
    declared = request.headers.get("content-length", "")
    if declared.isdigit() and int(declared) > limit:
        raise BodyTooLarge
    chunks: list[bytes] = []
    size = 0
    async for chunk in request.stream():
        size += len(chunk)
        if size > limit:
            raise BodyTooLarge
        chunks.append(chunk)
    return b"".join(chunks)


class GuardedH11Protocol(H11Protocol):
    """uvicorn's h11 protocol with a deadline for receiving each whole request (see the module docstring)."""

    read_timeout_s = READ_TIMEOUT_S

    def connection_made(self, transport: asyncio.Transport) -> None:  # type: ignore[override]
        super().connection_made(transport)
        self._read_timer: asyncio.TimerHandle | None = None
        self._arm_read_deadline()

    def on_response_complete(self) -> None:
        super().on_response_complete()
        self._arm_read_deadline()

    def connection_lost(self, exc: Exception | None) -> None:
        if getattr(self, "_read_timer", None) is not None:
            self._read_timer.cancel()
        super().connection_lost(exc)

    def _arm_read_deadline(self) -> None:
        if self._read_timer is not None:
            self._read_timer.cancel()
        armed_for = self.cycle  # the request (if any) already answered when the deadline was set
        self._read_timer = self.loop.call_later(self.read_timeout_s, self._read_deadline_passed, armed_for)

    def _read_deadline_passed(self, armed_for: Any) -> None:
        self._read_timer = None
        cycle = self.cycle
        if cycle is armed_for or cycle is None or cycle.more_body:  # no new request, or it is still arriving
            self.transport.close()


def server_config(app: Any, host: str, port: int, *, trusted_proxies: Sequence[str] = (),
                  read_timeout_s: float = READ_TIMEOUT_S, keep_alive_s: int = KEEP_ALIVE_S,
                  max_connections: int = MAX_CONNECTIONS) -> uvicorn.Config:
    """A uvicorn config for ``app`` on ``host:port`` with the limits of the module docstring.

    Args:
        trusted_proxies: addresses or CIDR ranges of reverse proxies whose forwarded headers are believed;
            empty (the default) believes none.
        read_timeout_s: seconds allowed to receive each whole request.
    """
    protocol = type("GuardedH11", (GuardedH11Protocol,), {"read_timeout_s": read_timeout_s})
    return uvicorn.Config(
        app, host=host, port=port, http=protocol, log_level="warning", access_log=False, lifespan="off",
        timeout_keep_alive=keep_alive_s, limit_concurrency=max_connections,
        proxy_headers=bool(trusted_proxies), forwarded_allow_ips=list(trusted_proxies) or [],
        server_header=False, date_header=True,
    )
