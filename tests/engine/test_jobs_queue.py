"""Queue priority on SQLite and PostgreSQL: interactive launches first, batch rows fairly by owner.

The expected orders are written out by hand from the rule in :mod:`core.jobs.queue`, and the
worker's claim (against the real sandbox) is checked to send in exactly that order.
"""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import select

from core.jobs import lifecycle
from core.jobs.queue import queue_order, queue_positions
from core.models import Reel, utcnow
from tests.engine.test_jobs_lifecycle import make_reel
from tests.engine.test_jobs_worker import make_worker
from tests.people import person

ANA = person("ana")

T0 = utcnow() - timedelta(hours=1)


def queued(session_factory, owner: str, priority: str, minute: int, *, status: str = "queued") -> int:
    """A reel of ``owner`` queued ``minute`` minutes after T0 (no HeyGen call)."""
    return make_reel(session_factory, owner=owner, status=status, priority=priority,
                     queued_at=T0 + timedelta(minutes=minute), idempotency_key=f"k-{owner}-{priority}-{minute}")


def test_interactive_goes_before_any_batch_and_batch_alternates_by_owner(session_factory):
    # A large batch of ana's, then two of bob's, then one interactive launch of carl's, last of all.
    ana = [queued(session_factory, "ana", "batch", m) for m in range(6)]
    bob = [queued(session_factory, "bob", "batch", m) for m in (10, 11)]
    carl = queued(session_factory, "carl", "interactive", 20)
    with session_factory() as session:
        order = [item.id for item in queue_order(session)]
        positions = queue_positions(session)
    # carl first; then rank 1 of each owner (ana's older), rank 2 of each, then the rest of ana's.
    expected = [carl, ana[0], bob[0], ana[1], bob[1], ana[2], ana[3], ana[4], ana[5]]
    assert order == expected
    assert positions == {reel_id: n for n, reel_id in enumerate(expected, start=1)}


def test_owners_already_at_heygen_wait_for_the_others(session_factory):
    for m in range(3):  # ana already has three batch reels rendering
        queued(session_factory, "ana", "batch", m, status="processing")
    queued(session_factory, "bob", "interactive", 1, status="processing")  # interactive ones do not count
    ana = [queued(session_factory, "ana", "batch", m) for m in (5, 6)]
    bob = [queued(session_factory, "bob", "batch", m) for m in (30, 31, 32, 33)]
    with session_factory() as session:
        order = [item.id for item in queue_order(session)]
        limited = [item.id for item in queue_order(session, limit=3)]
    # fair keys: bob 1,2,3,4 ; ana 3+1=4, 3+2=5 → bob0, bob1, bob2, then (4) ana0 is older than bob3.
    assert order == [bob[0], bob[1], bob[2], ana[0], bob[3], ana[1]]
    assert limited == order[:3]


def test_launch_records_the_priority_and_refuses_an_unknown_one(session_factory, catalog_index):
    reel_id = make_reel(session_factory)
    with session_factory() as session, pytest.raises(ValueError, match="interactive or batch"):
        lifecycle.launch(session, reel_id, actor=ANA, index=catalog_index, priority="urgent")
    with session_factory() as session:
        assert lifecycle.launch(session, reel_id, actor=ANA, index=catalog_index, priority="batch").ok
        assert session.scalar(select(Reel.priority).where(Reel.id == reel_id)) == "batch"
        assert session.scalar(select(Reel.status).where(Reel.id == reel_id)) == "queued"


def test_the_worker_claims_in_queue_order_within_the_concurrency(session_factory, sandbox_factory, catalog_index):
    server = sandbox_factory(render_media=False)
    ana = [queued(session_factory, "ana", "batch", m) for m in range(5)]
    bob = queued(session_factory, "bob", "batch", 8)
    carl = queued(session_factory, "carl", "interactive", 9)
    worker = make_worker(session_factory, server, catalog_index, heygen_concurrency=3)
    report = worker.run_once()
    assert report.submitted == 3
    with session_factory() as session:
        sent = set(session.scalars(select(Reel.id).where(Reel.status != "queued")).all())
        left = [item.id for item in queue_order(session)]
    assert sent == {carl, ana[0], bob}
    assert left == ana[1:]


def test_a_large_batch_leaves_one_slot_for_a_launch_from_compose(session_factory, sandbox_factory, catalog_index):
    server = sandbox_factory(render_media=False, time_scale=50.0)  # renders outlast the test: slots stay taken
    batch = [queued(session_factory, "ana", "batch", m) for m in range(6)]
    worker = make_worker(session_factory, server, catalog_index, heygen_concurrency=4)
    assert worker.run_once().submitted == 3  # 4 slots: batch rows fill 3
    assert worker.run_once().submitted == 0  # the fourth stays free while only batch rows wait
    launched = queued(session_factory, "carl", "interactive", 30)
    assert worker.run_once().submitted == 1
    with session_factory() as session:
        statuses = dict(session.execute(select(Reel.id, Reel.status)).all())
    assert statuses[launched] != "queued"
    assert [statuses[i] != "queued" for i in batch] == [True, True, True, False, False, False]
