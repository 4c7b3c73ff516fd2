"""The sidebar in live mode names the HeyGen host it really talks to (``HEYGEN_BASE_URL``)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from streamlit.testing.v1 import AppTest

from core.runtime import reset_runtime
from core.sandbox import SandboxConfig, start_in_thread

ROOT = Path(__file__).resolve().parents[2]
KEY = "live-test-key-0000"


@pytest.fixture
def live_against_sandbox(tmp_path) -> Iterator[str]:
    server = start_in_thread(SandboxConfig(api_keys=(KEY,), time_scale=0.01, state_dir=tmp_path / "sandbox"))
    mp = pytest.MonkeyPatch()
    for name, value in {"DATA_DIR": str(tmp_path / "data"), "HEYGEN_API_KEY": KEY, "HEYGEN_BASE_URL": server.url,
                        "WORKER_MODE": "off"}.items():
        mp.setenv(name, value)
    for name in ("DATABASE_URL", "HTTP_CACHE_URL"):
        mp.delenv(name, raising=False)
    reset_runtime()
    yield server.url
    reset_runtime()
    mp.undo()
    server.stop()


def test_the_live_badge_names_the_configured_base_url(live_against_sandbox):
    at = AppTest.from_file(str(ROOT / "app.py"), default_timeout=30).run()
    assert not at.exception, at.exception
    host = live_against_sandbox.removeprefix("http://")
    helps = [getattr(el, "help", None) or getattr(getattr(el, "proto", None), "help", "") for el in at.sidebar]
    assert f"Connected to {host} with this workspace's API key." in helps, helps
    assert not any("api.heygen.com" in (h or "") for h in helps)
