"""Persistence under ``state_dir``, reset, stats, and the ``python -m core.sandbox`` entry point."""

from __future__ import annotations

import subprocess
import sys

import requests

from core.sandbox import SandboxConfig, start_in_thread
from tests.sandbox.sandbox_support import Api


def test_videos_survive_a_restart(tmp_path) -> None:
    config = dict(state_dir=tmp_path / "state", time_scale=0.01, render_media=False, seed=3)
    first = start_in_thread(SandboxConfig(**config))
    try:
        api = Api(first.url)
        done = api.wait(api.create().json()["data"]["video_id"])
        assert done["status"] == "completed"
    finally:
        first.stop()
    second = start_in_thread(SandboxConfig(**config))
    try:
        again = Api(second.url).get(f"/v3/videos/{done['id']}").json()["data"]
        assert again["status"] == "completed" and again["duration"] == done["duration"]
        assert Api(second.url).create().json()["data"]["video_id"] != done["id"]  # same seed, no id clash
    finally:
        second.stop()


def test_seed_makes_video_ids_reproducible(sandbox_factory) -> None:
    ids = [Api(sandbox_factory(seed=42, time_scale=1000).url).create().json()["data"]["video_id"] for _ in range(2)]
    assert ids[0] == ids[1]


def test_stats_count_requests_by_template_and_reset_clears(sandbox) -> None:
    api = Api(sandbox.url)
    video_id = api.create().json()["data"]["video_id"]
    api.get(f"/v3/videos/{video_id}")
    api.get("/v3/videos/" + "0" * 32)
    stats = api.stats()
    assert stats["requests"]["POST /v3/videos"] == 1 and stats["requests"]["GET /v3/videos/{video_id}"] == 2
    assert stats["videos_created"] == 1 and sum(stats["videos_by_status"].values()) == 1
    assert set(stats) >= {"requests", "videos_created", "videos_by_status", "idempotent_replays", "webhook_deliveries"}
    assert requests.post(sandbox.url + "/_sandbox/reset", timeout=5).status_code == 200
    assert api.get(f"/v3/videos/{video_id}").status_code == 404
    assert api.stats()["videos_created"] == 0


def test_cli_help_lists_the_options() -> None:
    out = subprocess.run([sys.executable, "-m", "core.sandbox", "--help"], capture_output=True, text=True,
                         check=True).stdout
    for option in ("--port", "--api-key", "--time-scale", "--faults", "--seed", "--balance", "--state-dir"):
        assert option in out
