"""The worker against the real sandbox over loopback, on SQLite and PostgreSQL.

Cycles are driven with ``run_once()`` (no sleeping threads); the sandbox runs at a fast
time scale. "One paid video" is checked with ``videos_created`` of ``GET /_sandbox/stats``.
"""

from __future__ import annotations

import dataclasses
import time
from datetime import UTC, datetime

import pytest
import requests
from sqlalchemy import select

from core.config import SANDBOX_API_KEY, Settings
from core.heygen import HeyGenClient
from core.heygen.errors import RateLimitError
from core.heygen.types import CreatedVideo
from core.jobs import __main__ as jobs_main
from core.jobs import lifecycle
from core.jobs.worker import IDEMPOTENCY_WINDOW_S, UNCONFIRMED_CODE, Worker
from core.models import Reel, ReelEvent, WorkerLease
from tests.engine.test_jobs_lifecycle import assert_history_consistent, attempts_of, events_of, make_reel
from tests.people import person


class Clock:
    """Injected worker clock: real time plus a settable offset (seconds)."""

    def __init__(self) -> None:
        self.offset = 0.0

    def __call__(self) -> float:
        return time.time() + self.offset


def settings(**overrides) -> Settings:
    base = {"poll_interval_s": 0.01, "lease_seconds": 30.0, "heygen_concurrency": 10, "per_owner_cap": 0}
    return dataclasses.replace(Settings(), **{**base, **overrides})


def client_for(server) -> HeyGenClient:
    return HeyGenClient(SANDBOX_API_KEY, base_url=server.url, cache_location=None, max_retries=0)


def stats(server) -> dict:
    return requests.get(f"{server.url}/_sandbox/stats", timeout=10).json()


def knobs(server, **values) -> None:
    requests.post(f"{server.url}/_sandbox/faults", json=values, timeout=10).raise_for_status()


def make_worker(session_factory, server, catalog_index, *, name="w1", clock=None, **overrides) -> Worker:
    return Worker(session_factory, client_for(server), settings(**overrides), name=name,
                  index_provider=lambda: catalog_index, clock=clock or time.time)


def launched(session_factory, catalog_index, **fields) -> int:
    reel_id = make_reel(session_factory, **fields)
    with session_factory() as session:
        owner = person(fields.get("owner", "ana"))
        assert lifecycle.launch(session, reel_id, actor=owner, index=catalog_index).ok
    return reel_id


def reel(session_factory, reel_id) -> Reel:
    with session_factory() as session:
        return session.get(Reel, reel_id)


def run_until(worker, session_factory, reel_id, statuses=("completed", "failed"), cycles=200) -> Reel:
    for _ in range(cycles):
        worker.run_once()
        current = reel(session_factory, reel_id)
        if current.status in statuses:
            return current
        time.sleep(0.05)
    raise AssertionError(f"reel {reel_id} stayed {current.status}")


# ---------------------------------------------------------------------- happy path and failures


def test_full_run_to_completed_one_video(session_factory, catalog_index, sandbox):
    reel_id = launched(session_factory, catalog_index)
    worker = make_worker(session_factory, sandbox, catalog_index)
    done = run_until(worker, session_factory, reel_id)
    assert done.status == "completed", done.failure_message
    assert done.video_url and done.thumbnail_url and done.duration_s > 0
    assert done.links_expire_at > datetime.now(UTC)
    assert done.submitted_at and done.completed_at and done.completed_at >= done.submitted_at
    assert requests.get(done.video_url, timeout=10).status_code == 200
    assert stats(sandbox)["videos_created"] == 1
    [attempt] = attempts_of(session_factory, reel_id)
    assert attempt.video_id == done.video_id and attempt.status == "completed"
    assert attempt.render_seconds is not None and attempt.duration_s == done.duration_s
    changes = [e for e in events_of(session_factory, reel_id) if e[0] != e[1]]
    assert changes[:3] == [("draft", "queued"), ("queued", "submitting"), ("submitting", "pending")]
    assert changes[-1][1] == "completed"
    assert_history_consistent(session_factory, reel_id)


def test_render_failure_stores_failure_code(session_factory, catalog_index, sandbox_factory):
    server = sandbox_factory(render_media=False)
    knobs(server, fail_next=1, failure_code="RENDER_FAILED", failure_message="The avatar could not be rendered.")
    reel_id = launched(session_factory, catalog_index)
    done = run_until(make_worker(session_factory, server, catalog_index), session_factory, reel_id)
    assert done.status == "failed" and done.failure_code == "RENDER_FAILED"
    assert done.failure_message == "The avatar could not be rendered."
    [attempt] = attempts_of(session_factory, reel_id)
    assert attempt.failure_code == "RENDER_FAILED" and attempt.finished_at is not None
    assert_history_consistent(session_factory, reel_id)


def test_insufficient_credit_at_completion(session_factory, catalog_index, sandbox_factory):
    server = sandbox_factory(render_media=False, balance_usd=0.01)
    reel_id = launched(session_factory, catalog_index)
    done = run_until(make_worker(session_factory, server, catalog_index), session_factory, reel_id)
    assert done.status == "failed" and done.failure_code == "MOVIO_PAYMENT_INSUFFICIENT_CREDIT"
    assert stats(server)["videos_created"] == 1


def test_insufficient_credit_at_submission_fails_at_once(session_factory, catalog_index, sandbox_factory):
    server = sandbox_factory(render_media=False, balance_usd=0.0)
    reel_id = launched(session_factory, catalog_index)
    report = make_worker(session_factory, server, catalog_index).run_once()
    done = reel(session_factory, reel_id)
    assert report.failed == 1 and done.status == "failed"
    assert done.failure_code == "insufficient_credit" and "balance" in done.failure_message
    assert done.video_id is None and stats(server)["videos_created"] == 0
    assert events_of(session_factory, reel_id)[-1] == ("submitting", "failed")


def test_retry_after_failure_makes_second_video_with_new_key(session_factory, catalog_index, sandbox_factory):
    server = sandbox_factory(render_media=False)
    knobs(server, fail_next=1)
    reel_id = launched(session_factory, catalog_index)
    worker = make_worker(session_factory, server, catalog_index)
    assert run_until(worker, session_factory, reel_id).status == "failed"
    with session_factory() as session:
        assert lifecycle.retry(session, reel_id, actor=person("ana")).ok
    assert run_until(worker, session_factory, reel_id).status == "completed"
    first, second = attempts_of(session_factory, reel_id)
    assert first.idempotency_key != second.idempotency_key and first.video_id != second.video_id
    assert (first.status, second.status) == ("failed", "completed")
    assert stats(server)["videos_created"] == 2
    assert_history_consistent(session_factory, reel_id)


# ---------------------------------------------------------------------- exactly one paid video


class Crash(BaseException):
    """Stands for the process dying (not an Exception: nothing may catch it)."""


def test_crash_between_post_and_save_resubmits_same_key(session_factory, catalog_index, sandbox_factory,
                                                        monkeypatch):
    server = sandbox_factory(render_media=False)
    reel_id = launched(session_factory, catalog_index)
    doomed = make_worker(session_factory, server, catalog_index, name="doomed")

    def die(*_args, **_kwargs):
        raise Crash()

    monkeypatch.setattr(doomed, "_store_video_id", die)
    with pytest.raises(Crash):
        doomed.run_once()
    assert reel(session_factory, reel_id).status == "submitting"
    assert stats(server)["videos_created"] == 1
    [video] = client_for(server).list_videos()

    clock = Clock()
    clock.offset = 31.0  # the dead worker's lease (30 s) has expired
    survivor = make_worker(session_factory, server, catalog_index, name="survivor", clock=clock)
    survivor.run_once()
    after = reel(session_factory, reel_id)
    assert after.video_id == video.id and after.status in ("pending", "processing", "completed")
    assert stats(server)["videos_created"] == 1 and stats(server)["idempotent_replays"] == 1
    assert run_until(survivor, session_factory, reel_id).status == "completed"
    assert stats(server)["videos_created"] == 1
    assert_history_consistent(session_factory, reel_id)


def test_unconfirmed_reel_is_not_resent_after_the_idempotency_window(session_factory, catalog_index,
                                                                      sandbox_factory, monkeypatch):
    """HeyGen forgets an Idempotency-Key after 24 h: a reel left in ``submitting`` that long fails
    with a reason instead of being sent again (which could make a second, paid video)."""
    server = sandbox_factory(render_media=False)
    reel_id = launched(session_factory, catalog_index)
    doomed = make_worker(session_factory, server, catalog_index, name="doomed")
    monkeypatch.setattr(doomed, "_store_video_id", lambda *a, **k: (_ for _ in ()).throw(Crash()))
    with pytest.raises(Crash):
        doomed.run_once()
    assert stats(server)["videos_created"] == 1

    clock = Clock()
    clock.offset = IDEMPOTENCY_WINDOW_S + 60
    late = make_worker(session_factory, server, catalog_index, name="late", clock=clock)
    report = late.run_once()
    after = reel(session_factory, reel_id)
    assert report.failed == 1 and after.status == "failed" and after.failure_code == UNCONFIRMED_CODE
    assert "not paid for twice" in after.failure_message
    assert stats(server)["videos_created"] == 1 and stats(server)["idempotent_replays"] == 0
    assert_history_consistent(session_factory, reel_id)


def test_unreadable_create_response_is_resent_with_same_key(session_factory, catalog_index, sandbox_factory):
    # badjson: the sandbox creates the video but the response is cut off mid-JSON.
    server = sandbox_factory(render_media=False, faults="POST /v3/videos:badjson=1x")
    reel_id = launched(session_factory, catalog_index)
    worker = make_worker(session_factory, server, catalog_index)
    first = worker.run_once()
    assert first.resubmit == 1 and reel(session_factory, reel_id).status == "submitting"
    assert run_until(worker, session_factory, reel_id).status == "completed"
    assert stats(server)["videos_created"] == 1
    notes = [e for e in events_of(session_factory, reel_id) if e == ("submitting", "submitting")]
    assert len(notes) == 1


def test_server_error_keeps_submitting_and_resends(session_factory, catalog_index, sandbox_factory):
    server = sandbox_factory(render_media=False, faults="POST /v3/videos:500=1x")
    reel_id = launched(session_factory, catalog_index)
    worker = make_worker(session_factory, server, catalog_index)
    assert worker.run_once().resubmit == 1
    assert reel(session_factory, reel_id).status == "submitting"
    key = reel(session_factory, reel_id).idempotency_key
    assert run_until(worker, session_factory, reel_id).status == "completed"
    assert reel(session_factory, reel_id).idempotency_key == key
    assert stats(server)["videos_created"] == 1


class RateLimitedOnce:
    """A client whose first create answers 429 with Retry-After 20 s; records the keys sent."""

    def __init__(self) -> None:
        self.keys: list[str] = []

    def create_video(self, body, idempotency_key=None):
        self.keys.append(idempotency_key)
        if len(self.keys) == 1:
            raise RateLimitError(429, "rate_limit_exceeded", "Too many jobs.", retry_after=20)
        return CreatedVideo(video_id="v-rl", status="waiting")

    def get_video_statuses(self, ids):
        return []


def test_rate_limit_requeues_same_key_and_waits(session_factory, catalog_index):
    reel_id = launched(session_factory, catalog_index)
    key = reel(session_factory, reel_id).idempotency_key
    clock, client = Clock(), RateLimitedOnce()
    worker = Worker(session_factory, client, settings(), name="w", index_provider=lambda: catalog_index,
                    clock=clock)
    assert worker.run_once().requeued == 1
    assert reel(session_factory, reel_id).status == "queued"
    worker.run_once()
    assert len(client.keys) == 1  # Retry-After not over yet
    clock.offset = 21.0
    worker.run_once()
    assert client.keys == [key, key]
    assert reel(session_factory, reel_id).video_id == "v-rl"
    assert [e for e in events_of(session_factory, reel_id) if e[0] != e[1]] == [
        ("draft", "queued"), ("queued", "submitting"), ("submitting", "queued"), ("queued", "submitting"),
        ("submitting", "pending")]


# ---------------------------------------------------------------------- caps


def test_concurrency_cap_oldest_first(session_factory, catalog_index, sandbox_factory):
    server = sandbox_factory(render_media=False, time_scale=1.0)
    ids = [launched(session_factory, catalog_index, title=f"r{i}") for i in range(5)]
    worker = make_worker(session_factory, server, catalog_index, heygen_concurrency=2)
    assert worker.run_once().submitted == 2
    statuses = [reel(session_factory, i).status for i in ids]
    assert statuses[:2] != ["queued", "queued"] and all(s in ("pending", "processing") for s in statuses[:2])
    assert statuses[2:] == ["queued"] * 3
    assert worker.run_once().submitted == 0
    assert stats(server)["videos_created"] == 2


def test_per_owner_cap(session_factory, catalog_index, sandbox_factory):
    server = sandbox_factory(render_media=False, time_scale=1.0)
    ana = [launched(session_factory, catalog_index, owner="ana") for _ in range(3)]
    ben = [launched(session_factory, catalog_index, owner="ben") for _ in range(2)]
    worker = make_worker(session_factory, server, catalog_index, per_owner_cap=1)
    assert worker.run_once().submitted == 2
    active = {i for i in ana + ben if reel(session_factory, i).status != "queued"}
    assert active == {ana[0], ben[0]}


# ---------------------------------------------------------------------- polling


def _pending_rows(session_factory, count: int) -> list[int]:
    with session_factory() as session:
        reels = [Reel(title=f"p{i}", owner="ops", status="pending", attempt=1, video_id=f"{i:032x}",
                      submitted_at=datetime.now(UTC)) for i in range(count)]
        session.add_all(reels)
        session.commit()
        return [r.id for r in reels]


@pytest.mark.parametrize("count, calls", [(100, 1), (250, 3)])
def test_polling_uses_one_status_call_per_hundred(session_factory, catalog_index, sandbox_factory, count, calls):
    server = sandbox_factory(render_media=False)
    _pending_rows(session_factory, count)
    report = make_worker(session_factory, server, catalog_index).run_once()
    assert report.polled == count and report.polled_calls == calls
    assert stats(server)["requests"].get("GET /v3/videos/statuses") == calls


def test_not_found_fails_only_after_grace(session_factory, catalog_index, sandbox_factory):
    server = sandbox_factory(render_media=False)
    [reel_id] = _pending_rows(session_factory, 1)
    clock = Clock()
    worker = make_worker(session_factory, server, catalog_index, clock=clock)
    worker.run_once()
    assert reel(session_factory, reel_id).status == "pending"
    clock.offset = lifecycle.NOT_FOUND_GRACE_S + 1
    worker.run_once()
    gone = reel(session_factory, reel_id)
    assert gone.status == "failed" and gone.failure_code == "video_not_found"


# ---------------------------------------------------------------------- lease


class NoCalls:
    """A client that must not be used."""

    def __getattr__(self, name):
        raise AssertionError(f"unexpected HeyGen call {name}")


def test_lease_one_worker_acts_and_takeover_after_expiry(session_factory, catalog_index):
    clock = Clock()
    first = Worker(session_factory, NoCalls(), settings(), name="first", clock=clock)
    second = Worker(session_factory, NoCalls(), settings(), name="second", clock=clock)
    assert first.run_once().acted
    reel_id = launched(session_factory, catalog_index)
    assert not second.run_once().acted  # first holds the lease; second must not claim
    assert reel(session_factory, reel_id).status == "queued"
    clock.offset = 20.0
    assert first.acquire_lease()  # renewal by the holder
    clock.offset = 45.0  # 25 s after renewal: still held
    assert not second.acquire_lease()
    clock.offset = 51.0  # 31 s after renewal: expired
    assert second.acquire_lease() and not first.acquire_lease()
    with session_factory() as session:
        assert session.get(WorkerLease, "worker").holder == "second"
    second.release_lease()
    assert first.acquire_lease()


def test_start_stop_thread_submits(session_factory, catalog_index, sandbox_factory):
    server = sandbox_factory(render_media=False)
    reel_id = launched(session_factory, catalog_index)
    worker = make_worker(session_factory, server, catalog_index)
    worker.start()
    try:
        deadline = time.time() + 60
        while time.time() < deadline and reel(session_factory, reel_id).status != "completed":
            time.sleep(0.1)
    finally:
        worker.stop()
    assert not worker.running and reel(session_factory, reel_id).status == "completed"
    with session_factory() as session:
        assert session.get(WorkerLease, "worker").holder is None


def test_events_are_ordered_for_every_reel(session_factory, catalog_index, sandbox_factory):
    server = sandbox_factory(render_media=False)
    ids = [launched(session_factory, catalog_index, title=f"r{i}") for i in range(4)]
    knobs(server, fail_next=1)
    worker = make_worker(session_factory, server, catalog_index)
    for reel_id in ids:
        run_until(worker, session_factory, reel_id)
    with session_factory() as session:
        events = session.scalars(select(ReelEvent).order_by(ReelEvent.id)).all()
    assert [e.at for e in events] == sorted(e.at for e in events)
    for reel_id in ids:
        assert_history_consistent(session_factory, reel_id)
    assert stats(server)["videos_created"] == 4


def test_command_line_once_loads_catalog_and_submits(db_url, session_factory, catalog_index, sandbox_factory,
                                                     monkeypatch, tmp_path, capsys):


    server = sandbox_factory(render_media=False)
    reel_id = launched(session_factory, catalog_index)
    monkeypatch.setenv("DATABASE_URL", db_url)
    monkeypatch.setenv("DATA_DIR", str(tmp_path))
    monkeypatch.delenv("HEYGEN_API_KEY", raising=False)
    assert jobs_main.main(["--once"]) == jobs_main.STARTUP_FAILED
    assert "--base-url" in capsys.readouterr().err
    assert jobs_main.main(["--once", "--base-url", server.url]) == 0
    assert reel(session_factory, reel_id).status in ("pending", "processing", "completed")
    assert stats(server)["videos_created"] == 1
