"""Stopping and starting ``python -m core.jobs``: SIGTERM and SIGINT release the lease, bad keys refuse to start.

SIGTERM is what systemd and container runtimes send. With a 30-second lease a standby can only
take over before the old lease would have expired if the stopping worker released it, which is
what these tests check (from the lease row's times, not from a stopwatch).
"""

from __future__ import annotations

import signal
import subprocess
import sys
import time

import pytest

from core.models import WorkerLease
from tests.e2e.conftest import free_port
from tests.reliability.soak import PROJECT_ROOT, WorkerProcess

LEASE_S = 30.0


def _lease(session_factory) -> WorkerLease | None:
    with session_factory() as session:
        return session.get(WorkerLease, "worker")


def _wait(condition, timeout_s: float, what: str):
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        value = condition()
        if value:
            return value
        time.sleep(0.1)
    raise AssertionError(f"timed out waiting for {what}")


@pytest.mark.slow
@pytest.mark.parametrize("sig", [signal.SIGTERM, signal.SIGINT], ids=["sigterm", "sigint"])
@pytest.mark.parametrize("with_port", [False, True], ids=["loop", "webhook-port"])
def test_a_stopped_worker_releases_its_lease_and_the_standby_takes_over_at_once(
        db_url, session_factory, sandbox_factory, tmp_path, sig, with_port):
    server = sandbox_factory(render_media=False)
    args = ("--webhook-port", str(free_port())) if with_port else ()
    first = WorkerProcess(1, server.url, db_url, tmp_path, poll_s=0.5, lease_s=LEASE_S, args=args)
    standby = None
    try:
        held = _wait(lambda: (lease := _lease(session_factory)) and lease.holder and lease, 60, "a lease holder")
        assert f":{first.pid}:" in held.holder
        standby = WorkerProcess(2, server.url, db_url, tmp_path, poll_s=0.5, lease_s=LEASE_S)
        time.sleep(2.0)  # the standby is up and standing by
        assert f":{first.pid}:" in _lease(session_factory).holder
        old_expiry = _lease(session_factory).expires_at
        first.proc.send_signal(sig)
        assert first.proc.wait(20) == 0
        new = _wait(lambda: (lease := _lease(session_factory)) and lease.holder
                    and f":{standby.pid}:" in lease.holder and lease, 20, "the standby to take over")
        assert new.acquired_at < old_expiry  # released, not expired
        log = first.log_path.read_text()
        assert f"{signal.Signals(sig).name} received" in log
    finally:
        first.stop()
        if standby is not None:
            standby.stop()


def _start_worker(args: list[str], env: dict[str, str]) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "core.jobs", *args], cwd=PROJECT_ROOT, env=env,
                          capture_output=True, text=True, timeout=60)


def test_a_worker_with_a_wrong_key_refuses_to_start_in_one_sentence(sandbox_factory, tmp_path):
    server = sandbox_factory(render_media=False)
    env = {"PATH": "/usr/bin:/bin", "DATA_DIR": str(tmp_path), "PYTHONUNBUFFERED": "1"}
    result = _start_worker(["--base-url", server.url, "--api-key", "not-the-key"], env)
    assert result.returncode == 2
    lines = [line for line in result.stderr.splitlines() if "Reel Studio worker:" in line]
    assert lines == ["Reel Studio worker: HeyGen did not accept the API key (GET /v3/users/me was refused); "
                     "check HEYGEN_API_KEY or --api-key."]
    assert "not-the-key" not in result.stderr + result.stdout


def test_a_worker_with_an_unreachable_database_refuses_to_start(sandbox_factory, tmp_path):
    server = sandbox_factory(render_media=False)
    env = {"PATH": "/usr/bin:/bin", "DATA_DIR": str(tmp_path), "PYTHONUNBUFFERED": "1",
           "DATABASE_URL": f"postgresql+psycopg://nobody:s3cret@127.0.0.1:{free_port()}/reels"}
    result = _start_worker(["--base-url", server.url], env)
    assert result.returncode == 2
    lines = [line for line in result.stderr.splitlines() if "Reel Studio worker:" in line]
    assert len(lines) == 1 and "The database could not be opened or migrated" in lines[0], result.stderr
    assert "s3cret" not in result.stderr + result.stdout
