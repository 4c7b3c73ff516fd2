"""Resident memory of the standalone worker while oversized webhook bodies arrive.

Starts ``python -m core.jobs --webhook-port P`` (SQLite, against an in-process sandbox), reads its RSS
with psutil, sends four chunked uploads without ``Content-Length`` (64 MiB each; 4 MiB with ``--small``)
to ``POST /webhooks/heygen`` and reads the RSS again. Each upload must be refused with 413 after the
first 256 KiB; the figure is the RSS growth. Prints ``rss_before``, ``rss_after``, ``rss_growth``,
``statuses`` and ``RESULT``.
"""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from _common import ROOT, parser

TARGET_GROWTH_MB = 50.0


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def main() -> int:
    args = parser(__doc__.splitlines()[0]).parse_args()
    import psutil
    import requests

    from core.config import SANDBOX_API_KEY
    from core.sandbox import SandboxConfig, start_in_thread

    upload_mib = 4 if args.small else 64
    sandbox = start_in_thread(SandboxConfig(api_keys=(SANDBOX_API_KEY,), render_media=False))
    data_dir = Path(tempfile.mkdtemp(prefix="bench-webhook-"))
    port = free_port()
    env = {k: v for k, v in os.environ.items() if not k.startswith(("HEYGEN_", "WEBHOOK_", "DATABASE_"))}
    env.update({"DATA_DIR": str(data_dir), "HEYGEN_WEBHOOK_SECRET": "whsec_bench", "LOG_LEVEL": "WARNING"})
    proc = subprocess.Popen([sys.executable, "-m", "core.jobs", "--webhook-port", str(port),
                             "--base-url", sandbox.url], cwd=ROOT, env=env,
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 90
        while True:
            try:
                requests.get(f"{url}/healthz", timeout=2)
                break
            except requests.ConnectionError:
                if time.monotonic() > deadline or proc.poll() is not None:
                    raise SystemExit("the worker did not start") from None
                time.sleep(0.2)
        time.sleep(1.0)  # let the first cycle (catalog load) settle
        worker = psutil.Process(proc.pid)
        before = worker.memory_info().rss / 2**20
        statuses = []
        for _ in range(4):
            chunks = (b"x" * 2**20 for _ in range(upload_mib))
            try:
                statuses.append(requests.post(f"{url}/webhooks/heygen", data=chunks, timeout=120).status_code)
            except requests.ConnectionError:
                statuses.append("closed")
        after = worker.memory_info().rss / 2**20
    finally:
        proc.terminate()
        proc.wait(timeout=20)
        sandbox.stop()
    growth = after - before
    print(f"upload_size: {upload_mib} MiB x 4")
    print(f"rss_before: {before:.1f} MB")
    print(f"rss_after: {after:.1f} MB")
    print(f"rss_growth: {growth:.1f} MB")
    print(f"statuses: {statuses}")
    ok = growth <= TARGET_GROWTH_MB and all(s == 413 for s in statuses)
    print(f"RESULT: {'met' if ok else 'missed'} (growth ≤ {TARGET_GROWTH_MB:.0f} MB, every upload 413)")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
