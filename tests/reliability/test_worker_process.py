"""`python -m core.worker --webhook-port P` as a real process over loopback: its endpoints, its metrics
after a sandbox run, its JSON logs, and the attacks that used to work against its port."""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
import time
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
import requests
from prometheus_client.parser import text_string_to_metric_families

from core.db import make_engine, make_session_factory
from core.jobs.webhooks import RATE_LIMIT, sign
from core.models import Reel
from tests.reliability.soak import make_reels

ROOT = Path(__file__).resolve().parents[2]
KEY = f"sk_PROC_{uuid.uuid4().hex}{uuid.uuid4().hex[:8]}"
SECRET = f"whsec_{uuid.uuid4().hex}"
REELS = 3


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


class WorkerProcess:
    """The worker command with its own SQLite database, JSON logs on stderr and the port ``url``."""

    def __init__(self, tmp_path: Path, sandbox_url: str, **env: str) -> None:
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.db_url = f"sqlite:///{tmp_path / 'reels.db'}"
        self.log_path = tmp_path / "worker.log"
        full_env = {k: v for k, v in os.environ.items() if not k.startswith(("HEYGEN_", "WEBHOOK_", "LOG_"))}
        full_env.update({"DATA_DIR": str(tmp_path), "DATABASE_URL": self.db_url, "HEYGEN_API_KEY": KEY,
                         "HEYGEN_WEBHOOK_SECRET": SECRET, "LOG_FORMAT": "json", "POLL_INTERVAL_SECONDS": "0.2",
                         "PYTHONUNBUFFERED": "1", **env})
        self._log = self.log_path.open("wb")
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "core.worker", "--webhook-port", str(self.port), "--base-url", sandbox_url],
            cwd=ROOT, env=full_env, stdout=self._log, stderr=subprocess.STDOUT)
        deadline = time.monotonic() + 90
        while time.monotonic() < deadline:
            assert self.proc.poll() is None, self.log_path.read_text()
            try:
                if requests.get(f"{self.url}/healthz", timeout=2).status_code == 200:
                    return
            except requests.ConnectionError:
                time.sleep(0.2)
        raise TimeoutError("the worker did not serve /healthz")

    def log_lines(self) -> list[dict]:
        return [json.loads(line) for line in self.log_path.read_text().splitlines() if line.startswith("{")]

    def stop(self) -> None:
        self.proc.terminate()
        try:
            self.proc.wait(timeout=20)
        except subprocess.TimeoutExpired:
            self.proc.kill()
        self._log.close()


@pytest.fixture
def worker(tmp_path, sandbox_factory) -> Iterator[tuple[WorkerProcess, object]]:
    sandbox = sandbox_factory(api_keys=(KEY,), render_media=False, time_scale=0.02)
    process = WorkerProcess(tmp_path, sandbox.url)
    yield process, sandbox
    process.stop()


def metric_samples(text: str) -> dict[tuple[str, tuple], float]:
    return {(s.name, tuple(sorted(s.labels.items()))): s.value
            for family in text_string_to_metric_families(text) for s in family.samples}


def deliver(url: str, body: bytes, **headers: str) -> requests.Response:
    return requests.post(f"{url}/webhooks/heygen", data=body, timeout=30,
                         headers={"Content-Type": "application/json", "Heygen-Signature": sign(body, SECRET),
                                  **headers})


def test_endpoints_metrics_and_json_logs_after_a_sandbox_run(worker, catalog_index) -> None:
    process, sandbox = worker
    ready = requests.get(f"{process.url}/readyz", timeout=10)
    deadline = time.monotonic() + 30
    while ready.status_code != 200 and time.monotonic() < deadline:  # the first cycle takes the lease
        time.sleep(0.3)
        ready = requests.get(f"{process.url}/readyz", timeout=10)
    assert ready.status_code == 200, ready.text
    assert ready.json()["checks"] == {"database": "ok", "migrations": "ok", "lease": "held", "heygen": "ok"}

    requests.post(f"{sandbox.url}/_sandbox/faults", json={"spec": "POST /v3/videos:429=2x"},
                  timeout=10).raise_for_status()
    factory = make_session_factory(make_engine(process.db_url))
    ids = make_reels(factory, catalog_index, REELS, seed=7)
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline:
        with factory() as session:
            if all(session.get(Reel, i).status == "completed" for i in ids):
                break
        time.sleep(0.3)
    got = metric_samples(requests.get(f"{process.url}/metrics", timeout=10).text)
    stats = requests.get(f"{sandbox.url}/_sandbox/stats", timeout=10).json()
    assert got[("reelstudio_reels", (("status", "completed"),))] == REELS
    assert got[("reelstudio_render_seconds_count", ())] == REELS
    assert got[("reelstudio_heygen_rate_limited_total", (("endpoint", "/v3/videos"),))] == 2
    posts = sum(v for (name, labels), v in got.items()
                if name == "reelstudio_heygen_requests_total" and ("endpoint", "/v3/videos") in labels)
    assert posts == stats["requests"]["POST /v3/videos"] == REELS + 2
    assert got[("reelstudio_worker_lease_held", ())] == 1
    assert got[("reelstudio_ready", ())] == 1

    lines = process.log_lines()
    submitted = [line for line in lines if line["event"].startswith("reel ") and "submitted" in line["event"]]
    assert {line["reel_id"] for line in submitted} == set(ids)
    assert all(line["video_id"] and line["attempt"] == 1 and line["actor"] for line in submitted)
    assert any(line.get("heygen_request_id", "").startswith("req_") for line in lines)
    raw = process.log_path.read_text()
    assert KEY[4:-4] not in raw and SECRET[6:-4] not in raw


def test_webhook_attacks_are_refused(worker) -> None:
    process, _ = worker
    chunks = (b"x" * 1024 * 1024 for _ in range(64))  # 64 MiB, chunked, no Content-Length
    assert requests.post(f"{process.url}/webhooks/heygen", data=chunks, timeout=60).status_code == 413

    deep = b'{"event_type": "avatar_video.success", "event_data": ' + b"[" * 50_000 + b"]" * 50_000 + b"}"
    answer = deliver(process.url, deep)
    assert answer.status_code == 400 and "nested" in answer.json()["error"]

    body = json.dumps({"event_type": "avatar_video.success", "event_id": "evt_1",
                       "event_data": {"video_id": "nope"}}).encode()
    assert deliver(process.url, body, **{"Heygen-Event-Id": "evt_1"}).json()["result"] == "ignored"
    assert deliver(process.url, body, **{"Heygen-Event-Id": "evt_1"}).json()["result"] == "replayed"
    stale = deliver(process.url, body, **{"Heygen-Timestamp": str(int(time.time()) - 3600)})
    assert stale.status_code == 400
    names = [line for line in process.log_lines() if line["event"].startswith("webhook delivery")]
    assert names and "heygen-signature" in names[-1]["event"] and sign(body, SECRET) not in names[-1]["event"]
    assert requests.get(f"{process.url}/healthz", timeout=10).text == "ok"


def test_chunked_body_is_refused_before_it_ends(worker) -> None:
    """The receiver answers 413 once 256 KiB have arrived, while the client is still sending."""
    process, _ = worker
    with socket.create_connection(("127.0.0.1", process.port)) as sock:
        sock.sendall(b"POST /webhooks/heygen HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n")
        chunk = b"x" * (300 * 1024)
        sock.sendall(f"{len(chunk):x}\r\n".encode() + chunk + b"\r\n")  # no terminating chunk: not finished
        sock.settimeout(20)
        assert sock.recv(4096).startswith(b"HTTP/1.1 413")


def test_forwarded_for_does_not_reset_the_rate_limit(worker) -> None:
    process, _ = worker
    statuses = [requests.post(f"{process.url}/webhooks/heygen", data=b"{}", timeout=10,
                              headers={"X-Forwarded-For": f"203.0.113.{n % 250}"}).status_code
                for n in range(RATE_LIMIT + 1)]
    assert statuses[-1] == 429 and statuses.count(429) == 1


def test_half_open_connections_are_dropped(worker) -> None:
    process, _ = worker
    sockets = []
    for n in range(80):
        sock = socket.create_connection(("127.0.0.1", process.port))
        sock.sendall(b"POST /webhooks/heygen HTTP/1.1\r\nHost: x\r\n" if n % 2 else b"")
        sock.settimeout(30)
        sockets.append(sock)
    try:
        for sock in sockets:
            try:
                while sock.recv(1024):
                    pass  # read until the server closes the connection
            except ConnectionResetError:
                pass
            except TimeoutError:
                pytest.fail("a half-open connection was kept for 30 s")
        assert requests.get(f"{process.url}/healthz", timeout=10).status_code == 200
    finally:
        for sock in sockets:
            sock.close()
