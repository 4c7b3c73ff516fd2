"""Liveness and readiness of a worker process, for ``GET /healthz`` and ``GET /readyz``.

Ready means all of: the database answers ``SELECT 1``; its schema is at the migration head; the worker loop
is running and either holds the lease or stands by while another live worker holds it; and HeyGen answered
the last call this process made (a process that has not called HeyGen yet counts as reachable).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC
from typing import Any

from sqlalchemy import text
from sqlalchemy.engine import Engine

from core.db import current_revisions, head_revisions
from core.models import WorkerLease, utcnow


@dataclass
class Readiness:
    """The answer of ``/readyz``: ``ready`` and, per check, ``"ok"`` or one sentence saying what is wrong.

    ``lease`` is ``"held"``, ``"standing by"`` or the problem.
    """

    ready: bool
    checks: dict[str, str] = field(default_factory=dict)

    def as_json(self) -> dict[str, Any]:
        """``{"ready": bool, "checks": {...}, "reason": first problem or None}``."""
        reason = next((v for k, v in self.checks.items() if v not in ("ok", "held", "standing by")), None)
        return {"ready": self.ready, "checks": self.checks, "reason": reason}


def readiness(engine: Engine, *, lease_name: str = "worker", worker_name: str | None = None,
              worker_running: Callable[[], bool] | None = None,
              heygen_reachable: Callable[[], bool] | None = None) -> Readiness:
    """Run every readiness check (see the module docstring); never raises.

    Args:
        worker_name: this process's worker (its lease ``holder``), ``None`` to skip the lease check.
        worker_running: whether the worker loop is alive.
        heygen_reachable: whether HeyGen answered the last call.
    """
    checks: dict[str, str] = {}
    try:
        with engine.connect() as connection:
            connection.execute(text("SELECT 1"))
            checks["database"] = "ok"
            at_head = current_revisions(connection) == head_revisions()
            checks["migrations"] = "ok" if at_head else "the database is not at the newest migration"
            lease = _lease(connection, lease_name) if worker_name is not None else None
    except Exception as exc:  # the driver's message may contain the URL's password
        checks["database"] = f"the database cannot be reached ({type(exc).__name__})"
        lease = None
    if worker_name is not None and "migrations" in checks:
        checks["lease"] = _lease_state(lease, worker_name, worker_running)
    if heygen_reachable is not None:
        checks["heygen"] = "ok" if heygen_reachable() else "HeyGen did not answer the last call"
    return Readiness(all(v in ("ok", "held", "standing by") for v in checks.values()), checks)


def _lease(connection: Any, lease_name: str) -> tuple[str | None, Any] | None:
    row = connection.execute(WorkerLease.__table__.select().where(WorkerLease.name == lease_name)).first()
    return (row.holder, row.expires_at) if row is not None else None


def _lease_state(lease: tuple[str | None, Any] | None, worker_name: str,
                 worker_running: Callable[[], bool] | None) -> str:
    if worker_running is not None and not worker_running():
        return "the worker loop is not running"
    holder, expires_at = lease or (None, None)
    live = holder is not None and expires_at is not None and _aware(expires_at) > utcnow()
    if live and holder == worker_name:
        return "held"
    if live:
        return "standing by"
    return "no worker holds the lease yet"


def _aware(moment: Any) -> Any:
    return moment if moment.tzinfo is not None else moment.replace(tzinfo=UTC)
