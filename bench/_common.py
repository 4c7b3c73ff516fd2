"""Shared building blocks for the benchmarks in bench/: paths, argument parsing, sandbox stats, timing.

Every benchmark is a plain script (``.venv/bin/python bench/<name>.py [--small]``) that prints its
figures as ``name: value`` lines and ends with a ``RESULT`` line; ``--small`` is the quick CI size.
"""

from __future__ import annotations

import argparse
import hashlib
import math
import os
import statistics
import sys
import time
from collections.abc import Callable
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

SANDBOX_KEY = "sandbox-local-key"


def parser(description: str) -> argparse.ArgumentParser:
    """An argument parser with ``--small`` (quick CI run) already added."""
    p = argparse.ArgumentParser(description=description)
    p.add_argument("--small", action="store_true", help="quick run that only proves the benchmark still works")
    return p


def sandbox_stats(url: str) -> dict[str, int]:
    """Request counts per ``"METHOD /template"`` from the sandbox's ``GET /_sandbox/stats``."""
    import requests

    return dict(requests.get(f"{url}/_sandbox/stats", timeout=10).json()["requests"])


def stats_delta(before: dict[str, int], after: dict[str, int]) -> dict[str, int]:
    """Per-endpoint request counts between two :func:`sandbox_stats` snapshots (non-zero only)."""
    keys = set(before) | set(after)
    return {k: after.get(k, 0) - before.get(k, 0) for k in sorted(keys) if after.get(k, 0) != before.get(k, 0)}


def ceil_div(a: int, b: int) -> int:
    """⌈a / b⌉ for non-negative integers."""
    return math.ceil(a / b)


def alternate(runs: int, a: Callable[[], None], b: Callable[[], None], *, warmup: int = 1) -> tuple[list, list]:
    """Time ``a`` and ``b`` alternately (A, B, B, A, …) ``runs`` times each; returns seconds lists.

    Alternating in one process cancels most of the drift of a shared, noisy machine.
    """
    ta, tb = rotate(runs, [a, b], warmup=warmup)
    return ta, tb


def rotate(runs: int, fns: list[Callable[[], None]], *, warmup: int = 1) -> list[list[float]]:
    """Time every function ``runs`` times, interleaved (order reversed on odd rounds); seconds per function."""
    for _ in range(warmup):
        for fn in fns:
            fn()
    times: list[list[float]] = [[] for _ in fns]
    for i in range(runs):
        order = list(range(len(fns))) if i % 2 == 0 else list(reversed(range(len(fns))))
        for k in order:
            start = time.perf_counter()
            fns[k]()
            times[k].append(time.perf_counter() - start)
    return times


def ms(seconds: float) -> str:
    """Seconds → ``"12.3 ms"``."""
    return f"{seconds * 1000:.1f} ms"


def median(values: list[float]) -> float:
    """The median (0.0 for no values)."""
    return statistics.median(values) if values else 0.0


def figure(name: str, value: object) -> None:
    """Print one figure as ``name: value`` (flushed, so a parent process sees it at once)."""
    print(f"{name}: {value}", flush=True)


def machine() -> str:
    """``"2 cores, 23 GiB RAM"`` for the results table."""
    try:
        import psutil

        mem = f", {psutil.virtual_memory().total / 2**30:.0f} GiB RAM"
    except ImportError:
        mem = ""
    return f"{os.cpu_count()} cores{mem}"


def bench_env(data_dir: Path, **extra: str) -> dict[str, str]:
    """Environment for a sandbox-mode app on a fresh ``data_dir`` (no key, SQLite, free sandbox port)."""
    env = {k: v for k, v in os.environ.items()
           if k not in ("HEYGEN_API_KEY", "DATABASE_URL", "HTTP_CACHE_URL", "HEYGEN_BASE_URL")}
    env.update({"DATA_DIR": str(data_dir), "SANDBOX_PORT": "0", **extra})
    return env


def quiet() -> None:
    """Silence Streamlit's bare-mode warnings and the sandbox's access log so figures stay readable."""
    import logging

    try:
        import streamlit.logger

        streamlit.logger.set_log_level("error")
    except ImportError:
        pass
    for name in ("uvicorn", "uvicorn.access", "uvicorn.error", "core", "httpx", "alembic"):
        logging.getLogger(name).setLevel(logging.ERROR)


class SandboxProcess:
    """The sandbox in its own process, so its request handling does not compete with the code under
    measurement for this process's GIL (HeyGen is remote in production). Use as a context manager.

    ``config`` holds :class:`core.sandbox.SandboxConfig` fields (JSON-able values; paths as strings).
    """

    def __init__(self, **config) -> None:
        import json
        import subprocess

        self.proc = subprocess.Popen(
            [sys.executable, "-c", _SANDBOX_CHILD, json.dumps(config)], cwd=ROOT,
            stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True)
        self.url = self.proc.stdout.readline().strip()
        if not self.url.startswith("http"):
            self.stop()
            raise RuntimeError("the sandbox process did not start")

    def stop(self) -> None:
        """End the sandbox process (closing its stdin ends it; killed after 10 s)."""
        if self.proc.poll() is None:
            try:
                self.proc.stdin.close()
                self.proc.wait(timeout=10)
            except Exception:
                self.proc.kill()
                self.proc.wait()

    def __enter__(self) -> SandboxProcess:
        return self

    def __exit__(self, *exc) -> None:
        self.stop()


_SANDBOX_CHILD = """
import json, logging, sys
from pathlib import Path
logging.disable(logging.CRITICAL)
from core.sandbox import SandboxConfig, start_in_thread
config = json.loads(sys.argv[1])
if config.get("state_dir"):
    config["state_dir"] = Path(config["state_dir"])
config["api_keys"] = tuple(config.get("api_keys", ("sandbox-local-key",)))
server = start_in_thread(SandboxConfig(**config))
print(server.url, flush=True)
sys.stdin.read()
server.stop()
"""


def synthetic_voices(n_copies: int, voices):
    """``n_copies`` × ``voices`` for benchmarks: copy 0 keeps ids; later copies get unique ids of the
    same kind (32-hex stays 32-hex; others become 20-char ids) and the same other fields."""
    from core.catalog.tables import is_starfish_id

    out = list(voices)
    for k in range(1, n_copies):
        for v in voices:
            digest = hashlib.md5(f"{v.voice_id}:{k}".encode(), usedforsecurity=False).hexdigest()
            new_id = digest if is_starfish_id(v.voice_id) else "x" + digest[:19]
            out.append(v.model_copy(update={"voice_id": new_id}))
    return out
