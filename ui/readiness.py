"""Readiness of an app replica: ``GET /readyz`` beside the pages (``streamlit run asgi.py``).

Streamlit's own ``/_stcore/health`` answers 200 as long as the process lives, even when every
page can only show "The database could not be opened". ``/readyz`` answers 200
``{"ready": true, "checks": {"database": "ok", "migrations": "ok"}, "reason": null}`` when this
replica's runtime is up, the database answers ``SELECT 1`` and its schema is at the newest
migration, else 503 with the first problem as ``reason`` (one sentence, never the URL or a
password). The cause is logged once as one line (a start-up failure by :func:`core.runtime.get_runtime`); a load balancer should take a replica
out of rotation on 503.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Route

from core.jobs.health import readiness
from core.runtime import StartupError, get_runtime, reset_runtime

log = logging.getLogger("reel_studio.readiness")

_state_lock = threading.Lock()
_last_reason: list[str | None] = [None]


def app_readiness() -> dict[str, Any]:
    """Run the checks; ``{"ready": bool, "checks": {name: "ok" or a sentence}, "reason": str | None}``.

    Never raises. Builds the process runtime when no page has done so yet (so a replica that
    nobody has opened still reports a wrong ``DATABASE_URL``), then runs the database checks of
    :func:`core.jobs.health.readiness` (the worker's ``/readyz`` uses the same ones).
    """
    logged = False  # the runtime logs its own start-up failure
    try:
        runtime = get_runtime()
    except StartupError as exc:
        checks = {"database": str(exc)}
        logged = True
    else:
        checks = readiness(runtime.engine).checks  # database answers, schema at the newest migration
    reason = next((value for value in checks.values() if value != "ok"), None)
    _log_change(reason, logged=logged)
    return {"ready": reason is None, "checks": checks, "reason": reason}


def _log_change(reason: str | None, *, logged: bool) -> None:
    with _state_lock:
        if reason == _last_reason[0]:
            return
        _last_reason[0] = reason
    if logged:
        return
    if reason is None:
        log.info("replica ready: database reachable and migrated")
    else:
        log.error("replica not ready: %s", reason)


async def readyz(request: Request) -> JSONResponse:
    """``GET /readyz``: 200 when ready, else 503 (see the module docstring)."""
    result = await run_in_threadpool(app_readiness)
    return JSONResponse(result, status_code=200 if result["ready"] else 503,
                        headers={"Cache-Control": "no-store"})


def routes() -> list[Route]:
    """The extra routes of ``asgi.py``: ``GET /readyz``."""
    return [Route("/readyz", readyz, methods=["GET"])]


@asynccontextmanager
async def lifespan(app: Any) -> AsyncIterator[None]:
    """``st.App`` lifespan: on shutdown (SIGTERM, SIGINT) stop this process's runtime, so an embedded worker
    releases its lease at once instead of leaving it to expire (uvicorn re-raises the signal after its
    shutdown, which would end the process before ``atexit`` handlers run)."""
    yield
    await run_in_threadpool(reset_runtime)
