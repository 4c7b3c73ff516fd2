"""End-to-end fixtures: `streamlit run app.py` in sandbox mode, driven by Playwright in Debian's Chromium.

Each test module gets a fresh data directory, so every run starts from an empty database
and a cold catalog cache. Screenshots of each step go to ``test-artifacts/e2e/``.
"""

from __future__ import annotations

import json
import os
import shutil
import socket
import subprocess
import sys
import time
import urllib.parse
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import pytest
from playwright.sync_api import Page, expect

ROOT = Path(__file__).resolve().parents[2]
ARTIFACTS = ROOT / "test-artifacts" / "e2e"
CHROMIUM_ARGS = [
    "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
    "--disable-background-networking", "--disable-component-update", "--disable-sync",
    "--autoplay-policy=no-user-gesture-required",
]


def pytest_configure(config: pytest.Config) -> None:
    # pytest-playwright 0.10's own base_url fixture trips a pytest 9 deprecation; not ours to fix.
    config.addinivalue_line(
        "filterwarnings", "ignore:Session-scoped fixtures defined as instance methods:pytest.PytestRemovedIn10Warning")


@pytest.hookimpl(tryfirst=True)
def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """Mark every test under tests/e2e as ``e2e`` (before ``-m`` selection runs)."""
    for item in items:
        if "tests/e2e/" in str(item.fspath).replace(os.sep, "/"):
            item.add_marker(pytest.mark.e2e)


def chromium_path() -> str:
    """Debian's Chromium (Playwright cannot download its own browser here)."""
    path = shutil.which("chromium") or shutil.which("chromium-browser")
    if not path:
        raise RuntimeError("Debian's chromium is not installed; `make test` installs it (apt-get install chromium).")
    return path


@pytest.fixture(scope="session")
def browser_type_launch_args(browser_type_launch_args: dict) -> dict:
    return {**browser_type_launch_args, "executable_path": chromium_path(), "args": CHROMIUM_ARGS}


@pytest.fixture(scope="session")
def browser_context_args(browser_context_args: dict) -> dict:
    return {**browser_context_args, "viewport": {"width": 1440, "height": 1000}}


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def wait_until_ok(url: str, timeout_s: float = 60.0, proc: subprocess.Popen | None = None) -> None:
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        if proc is not None and proc.poll() is not None:
            raise RuntimeError(f"the app exited with code {proc.returncode} before it was ready")
        try:
            with urllib.request.urlopen(url, timeout=2) as resp:
                if resp.status == 200:
                    return
        except OSError:
            time.sleep(0.3)
    raise TimeoutError(f"{url} did not answer within {timeout_s} s")


class AppServer:
    """A running `streamlit run app.py` with its own data directory."""

    def __init__(self, data_dir: Path, env_overrides: dict[str, str] | None = None, *, port: int | None = None,
                 extra_args: tuple[str, ...] = ()) -> None:
        self.data_dir = data_dir
        self.port = port or free_port()
        self.url = f"http://localhost:{self.port}"
        # The in-process sandbox starts with the first page run; a port chosen here lets tests read
        # its /_sandbox/stats. (If another process grabs the port first, the runtime falls back to a
        # free one and sandbox_stats() says so.)
        self.sandbox_port = free_port()
        self.sandbox_url = f"http://127.0.0.1:{self.sandbox_port}"
        env = {k: v for k, v in os.environ.items() if not k.startswith("HEYGEN_")}
        env.update({
            "DATA_DIR": str(data_dir), "SANDBOX_PORT": str(self.sandbox_port), "SANDBOX_TIME_SCALE": "0.3",
            "POLL_INTERVAL_SECONDS": "1", "PYTHONUNBUFFERED": "1", "WORKER_MODE": "embedded",
        })
        for key in ("WEBHOOK_PUBLIC_URL", "DATABASE_URL", "HTTP_CACHE_URL", "SANDBOX_ORIGINAL_MEDIA",
                    "SANDBOX_BALANCE_USD", "CATALOG_CACHE_HOURS"):
            env.pop(key, None)
        env.update(env_overrides or {})
        self.log_path = data_dir / "streamlit.log"
        self._log = self.log_path.open("wb")
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "streamlit", "run", "app.py", "--server.headless", "true",
             "--server.port", str(self.port), "--server.fileWatcherType", "none",
             "--browser.gatherUsageStats", "false", "--global.developmentMode", "false",
             "--client.showErrorDetails", "full", *extra_args],
            cwd=ROOT, env=env, stdout=self._log, stderr=subprocess.STDOUT,
        )
        wait_until_ok(f"{self.url}/_stcore/health", proc=self.proc)

    def sandbox_stats(self) -> dict:
        """``GET /_sandbox/stats`` of the app's in-process sandbox (after the first page run)."""
        with urllib.request.urlopen(f"{self.sandbox_url}/_sandbox/stats", timeout=10) as resp:
            return json.load(resp)

    def log_tail(self, lines: int = 60) -> str:
        """The end of the server's output (for failure messages)."""
        try:
            text = self.log_path.read_text(errors="replace")
        except OSError:
            return ""
        return "\n".join(text.splitlines()[-lines:])

    def stop(self) -> None:
        self.proc.terminate()
        try:
            self.proc.wait(timeout=15)
        except subprocess.TimeoutExpired:
            self.proc.kill()
        self._log.close()


@pytest.fixture(scope="module")
def app_env() -> dict[str, str]:
    """Extra environment for this module's app server (override in a test module)."""
    return {}


@pytest.fixture(scope="module")
def app_server(tmp_path_factory: pytest.TempPathFactory, app_env: dict[str, str]) -> Iterator[AppServer]:
    """One `streamlit run app.py` per test module, on a fresh data directory."""
    server = AppServer(tmp_path_factory.mktemp("e2e-data"), app_env)
    yield server
    server.stop()


@pytest.hookimpl(wrapper=True)
def pytest_runtest_makereport(item: pytest.Item, call: pytest.CallInfo):
    """On a failing e2e test, append the app server's last log lines to the report."""
    report = yield
    server = getattr(item, "funcargs", {}).get("app_server")
    if report.failed and isinstance(server, AppServer):
        report.sections.append(("streamlit server log (tail)", server.log_tail()))
    return report


#: Generous waits: the suite must pass on a loaded 2-core machine.
EXPECT_TIMEOUT_MS = 30_000
expect.set_options(timeout=EXPECT_TIMEOUT_MS)


@pytest.fixture
def page(page: Page) -> Page:
    """pytest-playwright's page with generous default timeouts."""
    page.set_default_timeout(EXPECT_TIMEOUT_MS)
    page.set_default_navigation_timeout(60_000)
    return page


def open_page(page: Page, server: AppServer, path: str = "/", *, user: str | None = "e2e",
              timeout_ms: int = 120_000) -> None:
    """Go to ``path`` (e.g. ``/Voices?v_lang=Spanish``) and wait for its first run to finish.

    Without sign-in configured the app serves the local user (the OS account), so ``user`` changes
    nothing (identity never comes from a URL). The first visit of a module builds the runtime and loads
    the catalog, hence the long timeout.
    """
    page.goto(f"{server.url}{path}")
    wait_for_app_run(page, timeout_ms)
    expect(page.get_by_test_id("stSkeleton")).to_have_count(0, timeout=timeout_ms)


def key_button(page: Page, key: str):
    """The button of the widget with ``key``. A button with help text has a hidden twin (drawn to
    measure it), so only the visible one is taken."""
    return page.locator(f".st-key-{key} button:visible")


def wait_for_app_run(page, timeout_ms: int = 60_000) -> None:
    """Wait until the app is connected and no script run is in progress."""
    page.wait_for_selector("[data-testid='stApp'][data-test-connection-state='CONNECTED']",
                           state="attached", timeout=timeout_ms)
    page.wait_for_selector("[data-testid='stApp'][data-test-script-state='notRunning']",
                           state="attached", timeout=timeout_ms)


def snap(page, name: str, focus=None) -> Path:
    """Save a screenshot of the window as a test artifact and return its path.

    Streamlit scrolls inside its main area, so a "full page" is the window: pass ``focus`` (a locator)
    to scroll the part the step is about into view first.
    """
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    path = ARTIFACTS / f"{name}.png"
    if focus is not None:
        focus.scroll_into_view_if_needed()
    page.screenshot(path=str(path), full_page=True)
    return path
