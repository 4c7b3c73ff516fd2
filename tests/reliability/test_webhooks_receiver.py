"""Webhooks under stress, on SQLite and PostgreSQL: rejected deliveries, duplicates racing polling.

tests/engine/test_jobs_webhooks.py covers the receiver's unit behaviour (missing/wrong signature →
401 before parsing, valid → applied, repeat → no-op, unknown type or video → ignored, the
sandbox's signed delivery end to end). Here: when every delivery is rejected, polling alone
still finishes every reel; when every delivery arrives twice while the worker polls too, each
reel still completes exactly once.
"""

from __future__ import annotations

import json
import socket
import threading
import time
from collections.abc import Iterator

import pytest
import requests
import uvicorn
from sqlalchemy import select

from core.config import SANDBOX_API_KEY
from core.heygen import HeyGenClient
from core.jobs.webhooks import create_app, sign
from core.models import Reel, ReelEvent
from tests.engine.test_jobs_worker import make_worker
from tests.reliability.soak import SoakReport, check_reels, make_reels

REELS = 4


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@pytest.fixture
def receiver(session_factory, sandbox_factory) -> Iterator[tuple]:
    """(sandbox, client, receiver URL, secret): a receiver registered at the sandbox as a webhook endpoint."""
    server = sandbox_factory(render_media=False, webhook_timeout_s=30)
    client = HeyGenClient(SANDBOX_API_KEY, base_url=server.url, cache_location=None)
    port = _free_port()
    url = f"http://127.0.0.1:{port}/webhooks/heygen"
    endpoint = client.create_webhook_endpoint(url)
    app = uvicorn.Server(uvicorn.Config(create_app(session_factory, endpoint.secret, client),
                                        host="127.0.0.1", port=port, log_level="warning"))
    thread = threading.Thread(target=app.run, daemon=True)
    thread.start()
    while not app.started:
        time.sleep(0.01)
    yield server, client, url, endpoint.secret
    app.should_exit = True
    thread.join(10)


def _poll_until_done(worker, session_factory, reel_ids, *, cycles=400) -> None:
    for _ in range(cycles):
        worker.run_once()
        with session_factory() as session:
            statuses = session.scalars(select(Reel.status).where(Reel.id.in_(reel_ids))).all()
        if all(s in ("completed", "failed") for s in statuses):
            return
        time.sleep(0.05)
    raise AssertionError(f"not finished: {statuses}")


def _completions(session_factory, reel_id) -> list[str]:
    with session_factory() as session:
        return list(session.scalars(select(ReelEvent.actor).where(
            ReelEvent.reel_id == reel_id, ReelEvent.to_status == "completed", ReelEvent.from_status != "completed")))


def assert_histories_complete(session_factory, reel_ids) -> None:
    report = SoakReport(db="", reels=len(reel_ids), fault_rate=0.0, kills_planned=0)
    check_reels(session_factory, reel_ids, report)
    assert report.lost == [] and report.not_terminal == [] and report.duplicate_video_ids == 0


def _knobs(server, **values) -> None:
    requests.post(f"{server.url}/_sandbox/faults", json=values, timeout=10).raise_for_status()


def _wait_deliveries(server, at_least: int) -> dict:
    for _ in range(200):
        stats = requests.get(f"{server.url}/_sandbox/stats", timeout=10).json()
        if stats["webhook_deliveries"] + stats.get("webhook_failures", 0) >= at_least:
            return stats
        time.sleep(0.05)
    return stats


def test_rejected_deliveries_leave_polling_to_finish_every_reel(receiver, session_factory, catalog_index):
    server, _, _, _ = receiver
    _knobs(server, webhook_bad_signature=True)
    reel_ids = make_reels(session_factory, catalog_index, REELS, seed=21)
    worker = make_worker(session_factory, server, catalog_index)
    _poll_until_done(worker, session_factory, reel_ids)
    stats = _wait_deliveries(server, REELS)
    assert stats["webhook_deliveries"] + stats.get("webhook_failures", 0) >= REELS  # HeyGen did try
    for reel_id in reel_ids:
        assert _completions(session_factory, reel_id) == ["w1"]  # polling, never the forged deliveries
    assert_histories_complete(session_factory, reel_ids)


def test_duplicate_deliveries_racing_polling_complete_each_reel_once(receiver, session_factory, catalog_index):
    server, _, url, secret = receiver
    _knobs(server, webhook_duplicate=True)
    reel_ids = make_reels(session_factory, catalog_index, REELS, seed=22)
    worker = make_worker(session_factory, server, catalog_index)
    _poll_until_done(worker, session_factory, reel_ids)
    _wait_deliveries(server, 2 * REELS)
    for reel_id in reel_ids:
        assert len(_completions(session_factory, reel_id)) == 1
    assert_histories_complete(session_factory, reel_ids)
    # After the fact: an unsigned "fail" for a finished reel is refused; a signed one changes nothing.
    with session_factory() as session:
        video_id = session.get(Reel, reel_ids[0]).video_id
    body = json.dumps({"event_type": "avatar_video.fail",
                       "event_data": {"video_id": video_id, "msg": "forged"}}).encode()
    assert requests.post(url, data=body, timeout=10).status_code == 401
    signed = requests.post(url, data=body, headers={"Signature": sign(body, secret)}, timeout=10)
    assert signed.status_code == 200 and signed.json()["result"] == "unchanged"
    with session_factory() as session:
        assert session.get(Reel, reel_ids[0]).status == "completed"
