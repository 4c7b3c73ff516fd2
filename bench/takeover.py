"""Worker takeover time: how long reels wait when the active worker stops, by SIGTERM or by SIGKILL.

Two ``python -m core.jobs`` processes (the active worker and a standby) share one SQLite database
and one sandbox. The active one is stopped with SIGTERM (what systemd and containers send), and
later its successor with SIGKILL (a crash); the figure is the time from the signal to the
``acquired_at`` of the new lease holder, in seconds. Defaults are the shipped settings
(``WORKER_LEASE_SECONDS=30``, ``POLL_INTERVAL_SECONDS=5``); ``--small`` uses 3 s and 0.5 s.
Documented bound: SIGTERM ≤ one poll, SIGKILL ≤ lease + one poll (the standby wakes when the
dead holder's lease expires, so in practice about the lease time).
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from _common import ROOT, SANDBOX_KEY, SandboxProcess, figure, parser

from core.db import make_engine, make_session_factory, migrate
from core.models import WorkerLease


def _lease(factory) -> WorkerLease | None:
    with factory() as session:
        return session.get(WorkerLease, "worker")


def _worker(url: str, db_url: str, folder: Path, n: int, lease_s: float, poll_s: float) -> subprocess.Popen:
    env = {k: v for k, v in os.environ.items() if not k.startswith("HEYGEN_") and k != "HTTP_CACHE_URL"}
    env.update({"DATABASE_URL": db_url, "DATA_DIR": str(folder / f"w{n}"), "WORKER_LEASE_SECONDS": str(lease_s),
                "POLL_INTERVAL_SECONDS": str(poll_s), "WORKER_MODE": "external", "WEBHOOK_PORT": "0"})
    log = folder / f"worker-{n}.log"
    proc = subprocess.Popen([sys.executable, "-m", "core.jobs", "--base-url", url, "--api-key", SANDBOX_KEY],
                            cwd=ROOT, env=env, stdout=log.open("wb"), stderr=subprocess.STDOUT)
    _wait(lambda: "started against" in log.read_text(errors="replace"), 120)  # migrated, key checked: standing by
    return proc


def _wait(condition, timeout_s: float):
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        value = condition()
        if value:
            return value
        time.sleep(0.02)
    raise RuntimeError("timed out")


def _holder_proc(lease: WorkerLease, procs: list[subprocess.Popen]) -> subprocess.Popen:
    return next(p for p in procs if f":{p.pid}:" in lease.holder)


def _stop_and_measure(factory, procs, sig: int, timeout_s: float) -> float:
    lease = _wait(lambda: (row := _lease(factory)) and row.holder and row, timeout_s)
    active = _holder_proc(lease, procs)
    time.sleep(1.0)  # let the standby settle into its polling
    os.kill(active.pid, sig)
    sent = time.time()
    new = _wait(lambda: (row := _lease(factory)) and row.holder not in (None, lease.holder) and row, timeout_s)
    active.wait(30)
    procs.remove(active)
    return new.acquired_at.timestamp() - sent


def main() -> None:
    args = parser(__doc__).parse_args()
    lease_s, poll_s = (3.0, 0.5) if args.small else (30.0, 5.0)
    with tempfile.TemporaryDirectory() as tmp, SandboxProcess(time_scale=0.05, render_media=False) as sandbox:
        folder = Path(tmp)
        db_url = f"sqlite:///{folder / 'reels.db'}"
        engine = make_engine(db_url)
        migrate(engine)
        factory = make_session_factory(engine)
        procs = [_worker(sandbox.url, db_url, folder, n, lease_s, poll_s) for n in (1, 2)]
        try:
            sigterm = _stop_and_measure(factory, procs, signal.SIGTERM, lease_s * 3 + 60)
            procs.append(_worker(sandbox.url, db_url, folder, 3, lease_s, poll_s))  # the next standby
            sigkill = _stop_and_measure(factory, procs, signal.SIGKILL, lease_s * 3 + 60)
        finally:
            for proc in procs:
                proc.kill()
                proc.wait(10)
            engine.dispose()
    figure("lease_seconds", lease_s)
    figure("poll_interval_seconds", poll_s)
    figure("sigterm_takeover", f"{sigterm:.2f} s")
    figure("sigkill_takeover", f"{sigkill:.2f} s")
    figure("RESULT", f"SIGTERM {sigterm:.2f} s (bound {poll_s:g} s), SIGKILL {sigkill:.2f} s "
                     f"(bound {lease_s + poll_s:g} s)")


if __name__ == "__main__":
    main()
