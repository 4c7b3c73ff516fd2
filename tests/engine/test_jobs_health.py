"""Readiness: database, migrations, lease, HeyGen — each failing check says why."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import text

from core.db import make_engine
from core.jobs.health import readiness
from core.models import WorkerLease, utcnow


def set_lease(session_factory, holder: str | None, seconds_left: float) -> None:
    with session_factory() as session:
        lease = session.get(WorkerLease, "worker") or WorkerLease(name="worker")
        lease.holder, lease.acquired_at = holder, utcnow()
        lease.expires_at = utcnow() + timedelta(seconds=seconds_left)
        session.merge(lease)
        session.commit()


def test_ready_when_holding_the_lease(engine, session_factory) -> None:
    set_lease(session_factory, "me", 30)
    result = readiness(engine, worker_name="me", worker_running=lambda: True, heygen_reachable=lambda: True)
    assert result.ready and result.checks == {"database": "ok", "migrations": "ok", "lease": "held", "heygen": "ok"}
    assert result.as_json()["reason"] is None


def test_ready_when_standing_by(engine, session_factory) -> None:
    set_lease(session_factory, "other", 30)
    result = readiness(engine, worker_name="me", worker_running=lambda: True)
    assert result.ready and result.checks["lease"] == "standing by"


def test_not_ready_without_a_live_lease_holder_or_loop(engine, session_factory) -> None:
    set_lease(session_factory, "other", -5)
    assert not readiness(engine, worker_name="me", worker_running=lambda: True).ready
    set_lease(session_factory, "me", 30)
    result = readiness(engine, worker_name="me", worker_running=lambda: False)
    assert not result.ready and result.as_json()["reason"] == "the worker loop is not running"


def test_not_ready_when_heygen_did_not_answer(engine) -> None:
    result = readiness(engine, heygen_reachable=lambda: False)
    assert not result.ready and "HeyGen" in result.as_json()["reason"]


def test_not_ready_behind_the_migrations(engine) -> None:
    with engine.begin() as connection:
        connection.execute(text("UPDATE alembic_version SET version_num = '0001'"))
    result = readiness(engine)
    assert not result.ready and "migration" in result.checks["migrations"]


def test_unreachable_database_names_no_password() -> None:
    dead = make_engine("postgresql+psycopg://user:hunter2secret@127.0.0.1:9/db?connect_timeout=2")
    result = readiness(dead, worker_name="me")
    assert not result.ready and "cannot be reached" in result.checks["database"]
    assert "hunter2secret" not in str(result.as_json())
