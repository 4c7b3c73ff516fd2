"""``streamlit run asgi.py``: ``/readyz`` fails while the replica's database is wrong, and the log says why once;
SIGTERM of a replica with an embedded worker releases the worker's lease.

``/_stcore/health`` keeps answering 200 in both cases (it only says the process lives), which is
why a load balancer must probe ``/readyz``.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
import urllib.error
import urllib.request
from pathlib import Path

import pytest

from tests.e2e.conftest import free_port, wait_until_ok

ROOT = Path(__file__).resolve().parents[2]


def _get(url: str) -> tuple[int, dict | str]:
    try:
        with urllib.request.urlopen(url, timeout=20) as resp:
            body = resp.read().decode()
            status = resp.status
    except urllib.error.HTTPError as exc:
        body, status = exc.read().decode(), exc.code
    try:
        return status, json.loads(body)
    except ValueError:
        return status, body


def _replica(tmp_path: Path, database_url: str):
    port = free_port()
    env = {k: v for k, v in os.environ.items() if not k.startswith("HEYGEN_")}
    env.update({"DATA_DIR": str(tmp_path / "data"), "DATABASE_URL": database_url, "WORKER_MODE": "off",
                "SANDBOX_PORT": "0", "PYTHONUNBUFFERED": "1"})
    env.pop("HTTP_CACHE_URL", None)
    log_path = tmp_path / "replica.log"
    log = log_path.open("wb")
    proc = subprocess.Popen([sys.executable, "-m", "streamlit", "run", "asgi.py", "--server.headless", "true",
                             "--server.port", str(port), "--browser.gatherUsageStats", "false"],
                            cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT)
    return proc, log, log_path, f"http://127.0.0.1:{port}"


def _stop(proc, log) -> None:
    proc.terminate()
    try:
        proc.wait(15)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait(10)
    log.close()


@pytest.mark.slow
def test_a_replica_with_a_wrong_database_url_is_not_ready_and_says_why_in_one_log_line(tmp_path):
    bad_url = f"postgresql+psycopg://reels:s3cret@127.0.0.1:{free_port()}/reels"
    proc, log, log_path, url = _replica(tmp_path, bad_url)
    try:
        wait_until_ok(f"{url}/_stcore/health", proc=proc)
        for _ in range(3):  # repeated probes do not repeat the log line
            status, body = _get(f"{url}/readyz")
            assert status == 503
        assert body["ready"] is False
        assert body["reason"].startswith("The database could not be opened or migrated")
        assert _get(f"{url}/_stcore/health")[0] == 200  # Streamlit's own check cannot tell
    finally:
        _stop(proc, log)
    text = log_path.read_text()
    lines = [line for line in text.splitlines() if "could not be opened" in line]
    assert len(lines) == 1, text
    assert "s3cret" not in text


@pytest.mark.slow
def test_a_replica_with_a_working_database_is_ready(tmp_path):
    proc, log, _, url = _replica(tmp_path, f"sqlite:///{tmp_path / 'reels.db'}")
    try:
        wait_until_ok(f"{url}/_stcore/health", proc=proc)
        status, body = _get(f"{url}/readyz")
        assert (status, body) == (200, {"ready": True, "checks": {"database": "ok", "migrations": "ok"},
                                        "reason": None})
    finally:
        _stop(proc, log)


@pytest.mark.slow
def test_sigterm_of_a_replica_with_an_embedded_worker_releases_the_lease(tmp_path):
    from core.db import make_engine, make_session_factory
    from core.models import WorkerLease

    db_url = f"sqlite:///{tmp_path / 'reels.db'}"
    port = free_port()
    env = {k: v for k, v in os.environ.items() if not k.startswith("HEYGEN_")}
    env.update({"DATA_DIR": str(tmp_path / "data"), "DATABASE_URL": db_url, "WORKER_MODE": "embedded",
                "SANDBOX_PORT": "0", "POLL_INTERVAL_SECONDS": "0.5", "PYTHONUNBUFFERED": "1"})
    env.pop("HTTP_CACHE_URL", None)
    with (tmp_path / "embedded.log").open("wb") as out:
        proc = subprocess.Popen([sys.executable, "-m", "streamlit", "run", "asgi.py", "--server.headless", "true",
                                 "--server.port", str(port)], cwd=ROOT, env=env, stdout=out, stderr=subprocess.STDOUT)
        engine = make_engine(db_url)
        try:
            wait_until_ok(f"http://127.0.0.1:{port}/_stcore/health", proc=proc)
            assert _get(f"http://127.0.0.1:{port}/readyz")[0] == 200  # builds the runtime: the worker starts
            factory = make_session_factory(engine)

            def holder():
                with factory() as session:
                    lease = session.get(WorkerLease, "worker")
                    return lease.holder if lease is not None else None

            deadline = time.monotonic() + 60
            while holder() is None and time.monotonic() < deadline:
                time.sleep(0.2)
            assert holder() is not None and f":{proc.pid}:" in holder()
            proc.send_signal(signal.SIGTERM)
            proc.wait(30)
            assert holder() is None  # released on the way out, not left to expire
        finally:
            if proc.poll() is None:
                proc.kill()
                proc.wait(10)
            engine.dispose()
