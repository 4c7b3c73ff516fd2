"""Several worker processes on one PostgreSQL: the lease lets exactly one act at a time.

Two ``python -m core.jobs`` processes share one database and one sandbox. Only the lease
holder writes events; when it is SIGKILLed (no clean-up, the lease stays taken) the other
takes over once the lease has expired, and every reel still reaches HeyGen exactly once.
(Two app processes launching the same reel at once: tests/engine/test_jobs_lifecycle.py,
``test_launch_race_two_processes_exactly_one_wins``.)
"""

from __future__ import annotations

import time

import pytest
import requests
from sqlalchemy import select

from core.models import ReelEvent, WorkerLease
from tests.reliability.soak import SoakReport, WorkerProcess, check_reels, make_reels, scan_logs

LEASE_S = 3.0
REELS = 16


def _lease(session_factory) -> WorkerLease | None:
    with session_factory() as session:
        return session.get(WorkerLease, "worker")


def _worker_events(session_factory) -> list[tuple[str, float]]:
    """(actor, Unix time) of every event written by a worker (names look like host:pid:hex)."""
    with session_factory() as session:
        rows = session.execute(select(ReelEvent.actor, ReelEvent.at).order_by(ReelEvent.id)).all()
    return [(actor, at.timestamp()) for actor, at in rows if actor.count(":") == 2]


def _wait(condition, timeout_s: float, what: str):
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        value = condition()
        if value:
            return value
        time.sleep(0.1)
    raise AssertionError(f"timed out waiting for {what}")


@pytest.mark.slow
@pytest.mark.postgres
@pytest.mark.parametrize("db_url", ["postgresql"], indirect=True)
def test_two_workers_one_acts_and_the_other_takes_over_after_sigkill(
        db_url, session_factory, catalog_index, sandbox_factory, tmp_path):
    server = sandbox_factory(time_scale=0.05, render_media=False, balance_usd=10_000.0)
    reel_ids = make_reels(session_factory, catalog_index, REELS, seed=3)
    workers = [WorkerProcess(n, server.url, db_url, tmp_path, poll_s=0.2, lease_s=LEASE_S) for n in (1, 2)]
    try:
        holder = _wait(lambda: (lease := _lease(session_factory)) and lease.holder, 60, "a lease holder")
        _wait(lambda: len(_worker_events(session_factory)) >= 10, 60, "the first worker's events")
        acting = next(w for w in workers if f":{w.pid}:" in holder)
        other = next(w for w in workers if w is not acting)
        assert {actor for actor, _ in _worker_events(session_factory)} == {holder}

        before_kill = _lease(session_factory)
        acting.kill()
        killed_at = time.time()
        new = _wait(lambda: (lease := _lease(session_factory)) and lease.holder not in (None, holder) and lease,
                    60, "a take-over")
        assert f":{other.pid}:" in new.holder
        expired_at = before_kill.expires_at.timestamp()
        # The survivor waited for the dead holder's lease to expire, then took over at its next poll.
        assert new.acquired_at.timestamp() >= expired_at - 0.05
        assert new.acquired_at.timestamp() - killed_at <= LEASE_S + 10.0

        _wait(lambda: all(_terminal(session_factory, reel_ids)), 120, "every reel to finish")
        other.stop()

        events = _worker_events(session_factory)
        assert {actor for actor, _ in events} <= {holder, new.holder}
        assert all(at <= killed_at for actor, at in events if actor == holder)
        assert all(at >= new.acquired_at.timestamp() - 0.05 for actor, at in events if actor == new.holder)

        report = SoakReport(db="postgresql", reels=REELS, fault_rate=0.0, kills_planned=1)
        check_reels(session_factory, reel_ids, report)
        stats = requests.get(f"{server.url}/_sandbox/stats", timeout=10).json()
        assert stats["videos_created"] == REELS
        assert report.distinct_video_ids == REELS and report.duplicate_video_ids == 0
        assert report.not_terminal == [] and report.lost == []
        alarms, _ = scan_logs([w.log_path for w in workers])
        assert alarms == []
    finally:
        for worker in workers:
            if worker.proc.poll() is None:
                worker.kill()


def _terminal(session_factory, reel_ids) -> list[bool]:
    from core.models import Reel

    with session_factory() as session:
        statuses = session.scalars(select(Reel.status).where(Reel.id.in_(reel_ids))).all()
    return [s in ("completed", "failed") for s in statuses] or [False]
