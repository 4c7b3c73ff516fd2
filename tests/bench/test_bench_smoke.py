"""Every benchmark in bench/ still runs: each script at its ``--small`` size exits 0 and prints its figures.

Timing targets are not asserted here (speed is measured by the benchmarks themselves and recorded in
bench/README.md). The scripts run concurrently in subprocesses to keep this module short.
"""

from __future__ import annotations

import os
import subprocess
import sys
import time
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]

#: script → figures it must print (``name: value`` lines).
EXPECTED = {
    "catalog_loading": ["minimum_calls", "cold_calls", "warm_calls", "restart_same_port_calls",
                        "restart_new_port_calls", "RESULT"],
    "catalog_filtering": ["page_median_1x", "floor_median_1x", "ratio_1x", "page_median_2x", "ratio_2x", "RESULT"],
    "status_board": ["sqlite_tick_expired_median", "sqlite_floor_median", "sqlite_ratio_expired",
                     "sqlite_heygen_calls_from_3_sessions", "sqlite_worker_status_calls",
                     "sqlite_naive_poller_calls", "RESULT"],
    "launch": ["default_launch_median", "default_submit_overhead_mean", "default_overhead_per_launch",
               "normal_overhead_per_launch", "heygen_calls", "RESULT"],
    "memory": ["rss_after_first_session", "rss_with_2_sessions", "rss_peak", "RESULT"],
    "batch": ["rows", "preview_median", "launch", "tick_median", "floor_median", "tick_ratio", "RESULT"],
    "webhook_memory": ["rss_before", "rss_after", "rss_growth", "statuses", "RESULT"],
    "archive": ["archive_median", "floor_median", "throughput_ratio", "rss_growth_large", "rss_growth_small",
                "RESULT"],
    "own_media": ["check_5s", "check_10min", "check_2h", "ratio_2h_to_10min", "upload_rss_delta_mb", "RESULT"],
    "browser": ["sqlite_1k_data", "sqlite_1k_s1_voices_language", "sqlite_1k_s1_voices_gender",
                "sqlite_1k_s1_voices_search", "sqlite_1k_s1_compose_estimate", "sqlite_1k_s1_switch_voices_compose",
                "sqlite_1k_s1_switch_compose_status", "sqlite_1k_s1_switch_status_voices", "sqlite_1k_s1_status_tick",
                "sqlite_1k_s1_status_db_to_cell", "sqlite_1k_s1_app_usage", "sqlite_1k_s1_floor_usage", "RESULT"],
    "takeover": ["lease_seconds", "poll_interval_seconds", "sigterm_takeover", "sigkill_takeover", "RESULT"],
}


@pytest.fixture(scope="module")
def runs(tmp_path_factory) -> dict[str, tuple[int, str, str]]:
    """``{script: (exit code, stdout, stderr tail)}`` of every benchmark run once with ``--small``."""
    env = {k: v for k, v in os.environ.items()
           if k not in ("HEYGEN_API_KEY", "DATABASE_URL", "HTTP_CACHE_URL", "HEYGEN_BASE_URL", "DATA_DIR")}
    procs = {}
    for name in EXPECTED:
        out = tmp_path_factory.mktemp(name)
        procs[name] = (
            subprocess.Popen([sys.executable, str(ROOT / "bench" / f"{name}.py"), "--small"], cwd=ROOT, env=env,
                             stdout=open(out / "out.txt", "w"), stderr=open(out / "err.txt", "w")),  # noqa: SIM115
            out,
        )
    deadline = time.monotonic() + 480
    results = {}
    for name, (proc, out) in procs.items():
        try:
            code = proc.wait(timeout=max(deadline - time.monotonic(), 1))
        except subprocess.TimeoutExpired:
            proc.kill()
            code = -9
        results[name] = (code, (out / "out.txt").read_text(), (out / "err.txt").read_text()[-3000:])
    return results


@pytest.mark.parametrize("script", list(EXPECTED))
def test_benchmark_runs_and_prints_its_figures(runs, script: str) -> None:
    code, stdout, stderr = runs[script]
    assert code == 0, f"bench/{script}.py --small exited {code}:\n{stderr}"
    printed = {line.split(":", 1)[0] for line in stdout.splitlines() if ": " in line}
    missing = [name for name in EXPECTED[script] if name not in printed]
    assert not missing, f"bench/{script}.py did not print {missing}:\n{stdout}"


def test_catalog_loading_counts_are_exact(runs) -> None:
    """The call counts are deterministic (not timings), so the cache behaviour is checked here too."""
    _, stdout, _ = runs["catalog_loading"]
    figures = dict(line.split(": ", 1) for line in stdout.splitlines() if ": " in line)
    assert figures["cold_calls"].split()[0] == figures["minimum_calls"].split()[0]
    assert figures["warm_calls"].split()[0] == "0"
    assert figures["restart_same_port_calls"].split()[0] == "0"
