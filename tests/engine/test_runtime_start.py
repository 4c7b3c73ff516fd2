"""Building the runtime: a failed start stops what it started, a damaged cache does not stop the start,
and the embedded metrics port serves /metrics over loopback."""

from __future__ import annotations

import dataclasses
import socket
import threading

import pytest
import requests

from core import runtime as runtime_module
from core.config import Settings
from core.runtime import StartupError, build_runtime
from core.sandbox.server import port_is_free


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def settings_for(tmp_path, **overrides) -> Settings:
    base = {"data_dir": tmp_path, "sandbox_port": free_port(), "sandbox_time_scale": 0.01,
            "worker_mode": "off", "poll_interval_s": 0.1}
    return dataclasses.replace(Settings(), **{**base, **overrides})


def sandbox_threads() -> int:
    return sum(1 for t in threading.enumerate() if t.name == "heygen-sandbox" and t.is_alive())


def test_a_failed_start_stops_the_sandbox_it_started(tmp_path, monkeypatch) -> None:
    def broken(*args, **kwargs):
        raise RuntimeError("boom")

    monkeypatch.setattr(runtime_module, "BoardStore", broken)
    settings = settings_for(tmp_path)
    before = sandbox_threads()
    for _ in range(3):
        with pytest.raises(RuntimeError, match="boom"):
            build_runtime(settings)
    assert sandbox_threads() == before
    assert port_is_free(settings.sandbox_port)


def test_damaged_cache_file_does_not_stop_the_start(tmp_path) -> None:
    settings = settings_for(tmp_path)
    (tmp_path / "http_cache_sandbox.sqlite").write_bytes(b"garbage" * 1000)
    runtime = build_runtime(settings)
    try:
        assert runtime.catalog.get().index is not None
        assert "damaged" in runtime.client.cache_warning
    finally:
        runtime.stop()


def test_embedded_metrics_port_serves_metrics(tmp_path) -> None:
    port = free_port()
    runtime = build_runtime(settings_for(tmp_path, metrics_port=port, worker_mode="embedded"))
    try:
        runtime.client.get_current_user()
        text = requests.get(f"http://127.0.0.1:{port}/metrics", timeout=10).text
        assert 'reelstudio_reels{status="draft"} 0.0' in text
        assert 'reelstudio_heygen_requests_total{endpoint="/v3/users/me",method="GET",status_code="200"}' in text
    finally:
        runtime.stop()
    with pytest.raises(requests.ConnectionError):
        requests.get(f"http://127.0.0.1:{port}/metrics", timeout=5)


def test_metrics_port_in_use_is_one_sentence(tmp_path) -> None:
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        before = sandbox_threads()
        with pytest.raises(StartupError, match="METRICS_PORT"):
            build_runtime(settings_for(tmp_path, metrics_port=taken.getsockname()[1]))
        assert sandbox_threads() == before
