"""Metrics after a real sandbox run, scraped over loopback: the numbers match what happened."""

from __future__ import annotations

import dataclasses
import time

import pytest
import requests
from prometheus_client.parser import text_string_to_metric_families

from core.config import SANDBOX_API_KEY, Settings
from core.heygen import HeyGenClient, NetworkError
from core.jobs import lifecycle as generation
from core.jobs.metrics import Metrics, endpoint_template
from core.jobs.worker import Worker
from core.models import Reel, WorkerLease, utcnow
from tests.engine.test_jobs_lifecycle import make_reel
from tests.people import ADMIN


def samples(text: str) -> dict[tuple[str, tuple], float]:
    """``{(sample name, sorted labels): value}`` of a Prometheus text exposition."""
    out = {}
    for family in text_string_to_metric_families(text):
        for sample in family.samples:
            out[(sample.name, tuple(sorted(sample.labels.items())))] = sample.value
    return out


def scrape(url: str) -> dict[tuple[str, tuple], float]:
    response = requests.get(url, timeout=10)
    assert response.status_code == 200
    assert response.headers["Content-Type"].startswith("text/plain")
    return samples(response.text)


@pytest.mark.parametrize(("path", "label"), [
    ("/v3/videos/abc123", "/v3/videos/{id}"), ("/v3/videos/statuses", "/v3/videos/statuses"),
    ("/v3/avatars/looks/Abigail_x", "/v3/avatars/looks/{id}"), ("/v3/users/me", "/v3/users/me"),
    ("/v3/webhooks/endpoints/ep_1/rotate-secret", "/v3/webhooks/endpoints/{id}/rotate-secret"),
])
def test_endpoint_labels_hide_ids(path: str, label: str) -> None:
    assert endpoint_template(path) == label


def test_scrape_after_a_sandbox_run_matches_what_happened(sandbox, session_factory, catalog_index) -> None:
    reels, injected_429 = 4, 2
    requests.post(f"{sandbox.url}/_sandbox/faults", json={"spec": f"POST /v3/videos:429={injected_429}x"},
                  timeout=10).raise_for_status()
    metrics = Metrics(account="sandbox")
    client = HeyGenClient(SANDBOX_API_KEY, base_url=sandbox.url, cache_location=None, max_retries=0,
                          observer=metrics)
    settings = dataclasses.replace(Settings(), poll_interval_s=0.01, lease_seconds=30.0)
    worker = Worker(session_factory, client, settings, index_provider=lambda: catalog_index, metrics=metrics)
    metrics.watch_database(session_factory, lease_seconds=30.0, holder=lambda: worker.name)
    ids = [make_reel(session_factory, owner=f"o{i}") for i in range(reels)]
    with session_factory() as session:
        for reel_id in ids:
            assert generation.launch(session, reel_id, actor=ADMIN, index=catalog_index).ok
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        worker.run_once()
        with session_factory() as session:
            if all(session.get(Reel, i).status == "completed" for i in ids):
                break
        time.sleep(0.05)
    server = metrics.serve(0)
    try:
        got = scrape(f"http://127.0.0.1:{server.server_port}/metrics")
    finally:
        server.shutdown()
    stats = requests.get(f"{sandbox.url}/_sandbox/stats", timeout=10).json()

    assert got[("reelstudio_reels", (("status", "completed"),))] == reels
    assert got[("reelstudio_reels", (("status", "queued"),))] == 0
    assert got[("reelstudio_queue_depth", ())] == 0
    assert got[("reelstudio_in_flight_reels", (("account", "sandbox"),))] == 0
    assert got[("reelstudio_render_seconds_count", ())] == reels
    assert got[("reelstudio_heygen_rate_limited_total", (("endpoint", "/v3/videos"),))] == injected_429
    post = (("endpoint", "/v3/videos"), ("method", "POST"))
    assert got[("reelstudio_heygen_requests_total", (*post, ("status_code", "429")))] == injected_429
    assert got[("reelstudio_heygen_requests_total", (*post, ("status_code", "200")))] == reels
    assert stats["requests"]["POST /v3/videos"] == reels + injected_429
    polled = sum(v for (name, labels), v in got.items() if name == "reelstudio_heygen_requests_total"
                 and ("endpoint", "/v3/videos/statuses") in labels)
    assert polled == stats["requests"].get("GET /v3/videos/statuses", 0)
    assert got[("reelstudio_worker_lease_holder", (("holder", worker.name),))] == 1
    assert got[("reelstudio_worker_lease_held", ())] == 1
    assert got[("reelstudio_worker_cycle_seconds_count", ())] >= 1
    assert got[("reelstudio_heygen_reachable", ())] == 1


def test_transport_retries_and_replays_are_counted(sandbox) -> None:
    requests.post(f"{sandbox.url}/_sandbox/faults", json={"spec": "GET /v3/users/me:429=2x"},
                  timeout=10).raise_for_status()
    metrics = Metrics()
    client = HeyGenClient(SANDBOX_API_KEY, base_url=sandbox.url, cache_location=None, max_retries=2,
                          observer=metrics)
    client.get_current_user()
    body = {"type": "studio", "title": "m", "scenes": [{"type": "avatar_video", "input": {
        "type": "avatar", "avatar_id": "Abigail_expressive_2024112501", "script": "Hello.",
        "voice_id": "cef3bc4e0a84424cafcde6f2cf466c97"}}]}
    client.create_video(body, idempotency_key="metrics-replay-1")
    client.create_video(body, idempotency_key="metrics-replay-1")
    got = samples(metrics.exposition().decode())
    me = (("endpoint", "/v3/users/me"), ("method", "GET"))
    assert got[("reelstudio_heygen_requests_total", (*me, ("status_code", "429")))] == 2
    assert got[("reelstudio_heygen_requests_total", (*me, ("status_code", "200")))] == 1
    assert got[("reelstudio_heygen_retries_total", (("endpoint", "/v3/users/me"), ("reason", "rate_limited")))] == 2
    assert got[("reelstudio_heygen_idempotent_replays_total", ())] == 1


def test_no_answer_marks_heygen_unreachable() -> None:
    metrics = Metrics()
    client = HeyGenClient(SANDBOX_API_KEY, base_url="http://127.0.0.1:9", cache_location=None, max_retries=0,
                          observer=metrics)
    with pytest.raises(NetworkError):
        client.get_current_user()
    got = samples(metrics.exposition().decode())
    assert got[("reelstudio_heygen_reachable", ())] == 0
    assert got[("reelstudio_heygen_network_errors_total", (("endpoint", "/v3/users/me"),))] == 1


def test_database_gauges(session_factory) -> None:
    metrics = Metrics(account="live")
    metrics.watch_database(session_factory)
    for status in ("queued", "queued", "processing", "draft"):
        make_reel(session_factory, status=status)
    with session_factory() as session:
        session.add(WorkerLease(name="worker", holder="w-1", acquired_at=utcnow(), expires_at=utcnow()))
        session.commit()
    got = samples(metrics.exposition().decode())
    assert got[("reelstudio_queue_depth", ())] == 2
    assert got[("reelstudio_reels", (("status", "draft"),))] == 1
    assert got[("reelstudio_in_flight_reels", (("account", "live"),))] == 1
    assert not any(name == "reelstudio_worker_lease_holder" for name, _ in got)  # expired: nobody holds it
    assert got[("reelstudio_render_seconds_count", ())] == 0
