"""The worker's operations endpoints, as Starlette routes beside the webhook receiver.

- ``GET /healthz``: ``ok`` while the process serves requests (liveness).
- ``GET /readyz``: 200 ``{"ready": true, "checks": {...}, "reason": null}`` when every check of
  :func:`core.jobs.health.readiness` passes, else 503 with the first problem as ``reason``.
- ``GET /metrics``: every metric of the process's :class:`core.jobs.metrics.Metrics` (Prometheus text format).
"""

from __future__ import annotations

import logging
from collections.abc import Callable

from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import JSONResponse, PlainTextResponse, Response
from starlette.routing import Route

from core.jobs.health import Readiness
from core.jobs.metrics import CONTENT_TYPE, Metrics

log = logging.getLogger(__name__)


def probe_routes(metrics: Metrics | None, check: Callable[[], Readiness] | None) -> list[Route]:
    """``/healthz``, and ``/readyz``/``/metrics`` when ``check``/``metrics`` are given."""

    async def healthz(request: Request) -> PlainTextResponse:
        return PlainTextResponse("ok")

    async def readyz(request: Request) -> JSONResponse:
        result = await run_in_threadpool(check)
        return JSONResponse(result.as_json(), status_code=200 if result.ready else 503)

    async def metrics_page(request: Request) -> Response:
        try:
            body = await run_in_threadpool(metrics.exposition)
        except Exception as exc:  # a database error must not hide that the scrape failed
            log.warning("metrics could not be collected: %s", type(exc).__name__)
            return PlainTextResponse(f"metrics could not be collected ({type(exc).__name__})", status_code=503)
        return Response(body, media_type=CONTENT_TYPE)

    routes = [Route("/healthz", healthz, methods=["GET"])]
    if check is not None:
        routes.append(Route("/readyz", readyz, methods=["GET"]))
    if metrics is not None:
        routes.append(Route("/metrics", metrics_page, methods=["GET"]))
    return routes
