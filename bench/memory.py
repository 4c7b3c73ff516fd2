"""Peak memory of the app: ``streamlit run app.py`` (sandbox mode, fresh DATA_DIR) with the catalog
loaded and N browser sessions on the Voices page.

The server's process tree (Streamlit, the in-process sandbox and worker threads, any ffmpeg child)
is sampled with psutil every 100 ms; the figure is the peak of the summed RSS. Sessions are headless
Chromium pages driven by Playwright (Debian's /usr/bin/chromium), each its own browser context, opened
one after another on ``/Voices`` and kept open; each waits until the voices table is drawn. Target:
peak ≤ 400 MB with 10 sessions. ``--small``: 2 sessions.
"""

from __future__ import annotations

import contextlib
import socket
import subprocess
import sys
import tempfile
import threading
import time
import urllib.request
from pathlib import Path

from _common import ROOT, bench_env, figure, parser

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
                 "--disable-component-update", "--disable-sync", "--no-first-run"]
MB = 1024 * 1024


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


class RssSampler(threading.Thread):
    """Samples the summed RSS of a process and its descendants; ``peak`` and ``last`` in bytes."""

    def __init__(self, pid: int, interval_s: float = 0.1) -> None:
        super().__init__(daemon=True)
        import psutil

        self.root = psutil.Process(pid)
        self.interval_s = interval_s
        self.peak = self.last = 0
        self.stop_event = threading.Event()

    def sample(self) -> int:
        import psutil

        total = 0
        try:
            procs = [self.root, *self.root.children(recursive=True)]
        except psutil.Error:
            return 0
        for proc in procs:
            with contextlib.suppress(psutil.Error):
                total += proc.memory_info().rss
        return total

    def run(self) -> None:
        while not self.stop_event.is_set():
            self.last = self.sample()
            self.peak = max(self.peak, self.last)
            self.stop_event.wait(self.interval_s)


def wait_healthy(url: str, proc: subprocess.Popen, timeout_s: float = 90) -> None:
    deadline = time.time() + timeout_s
    while time.time() < deadline:
        if proc.poll() is not None:
            raise RuntimeError(f"streamlit exited with {proc.returncode}")
        try:
            with urllib.request.urlopen(f"{url}/_stcore/health", timeout=2) as resp:
                if resp.read().strip() == b"ok":
                    return
        except OSError:
            pass
        time.sleep(0.3)
    raise TimeoutError("streamlit did not become healthy")


def main() -> int:
    args = parser(__doc__.splitlines()[0]).parse_args()
    sessions = 2 if args.small else 10
    from playwright.sync_api import sync_playwright

    with tempfile.TemporaryDirectory(prefix="bench-memory-") as tmp:
        port = free_port()
        url = f"http://127.0.0.1:{port}"
        log = open(Path(tmp) / "streamlit.log", "w")  # noqa: SIM115
        proc = subprocess.Popen(
            [sys.executable, "-m", "streamlit", "run", "app.py", "--server.headless", "true",
             "--server.port", str(port), "--server.address", "127.0.0.1", "--server.fileWatcherType", "none",
             "--browser.gatherUsageStats", "false", "--global.developmentMode", "false"],
            cwd=ROOT, env=bench_env(Path(tmp) / "data"), stdout=log, stderr=subprocess.STDOUT)
        sampler = RssSampler(proc.pid)
        try:
            wait_healthy(url, proc)
            sampler.start()
            time.sleep(0.5)
            idle = sampler.last
            timings = []
            after_first = 0
            with sync_playwright() as pw:
                browser = pw.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
                pages = []
                for i in range(sessions):
                    context = browser.new_context(viewport={"width": 1440, "height": 1000})
                    page = context.new_page()
                    start = time.perf_counter()
                    page.goto(f"{url}/Voices", wait_until="domcontentloaded")
                    page.wait_for_selector("[data-testid='stDataFrame']", timeout=180_000)
                    timings.append(time.perf_counter() - start)
                    pages.append(page)
                    if i == 0:
                        time.sleep(0.5)
                        after_first = sampler.last
                time.sleep(3)  # all sessions open and idle (the Voices page has no timer)
                with_sessions = sampler.last
                browser.close()
        finally:
            sampler.stop_event.set()
            proc.terminate()
            try:
                proc.wait(timeout=15)
            except subprocess.TimeoutExpired:
                proc.kill()
            log.close()

    figure("sessions", f"{sessions} Chromium pages on /Voices (first {timings[0]:.1f} s incl. catalog load; "
           f"others median {sorted(timings[1:])[len(timings[1:]) // 2] if len(timings) > 1 else 0:.1f} s)")
    figure("rss_idle_server", f"{idle / MB:.0f} MB (started, no session)")
    figure("rss_after_first_session", f"{after_first / MB:.0f} MB (catalog loaded)")
    figure(f"rss_with_{sessions}_sessions", f"{with_sessions / MB:.0f} MB")
    figure("rss_peak", f"{sampler.peak / MB:.0f} MB")
    ok = sampler.peak <= 400 * MB
    figure("RESULT", f"peak {sampler.peak / MB:.0f} MB (target ≤ 400 MB) {'PASS' if ok else 'MISS'}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
