"""Browser latency at team scale: click → updated page in Chromium, app vs a floor app, 1/10/30 sessions.

Two servers run side by side on one database: ``streamlit run app.py`` (sandbox mode) and the floor
app ``bench/_floor_app.py`` (bare pages drawing the same tables from the same frames), both started by
``bench/_browser_app.py`` with the same catalog (the real one × ``--multiplier``, 25× = 58,150 voices).
One headless Chromium (Debian's ``/usr/bin/chromium``, sync Playwright) holds one measuring page per
server plus background sessions (own browser contexts, spread over Voices, Compose and Status; Status
tabs tick every 5 s). Each figure is the time from the input event to the DOM showing its result, both
read in the page's clock (:mod:`_browser_js`):

1. Voices: ``voices_language`` (add Spanish with Enter / remove it with Backspace), ``voices_gender``
   (toggle Female), ``voices_search`` (three letters then Enter / clear then Enter); the result is
   the "N of M voices" caption *and* the grid holding N rows.
2. ``status_tick``: a rendering reel is set to ``failed`` in the database; the result is its row
   showing "failed". ``tick`` is measured from the browser's timer message (the work of one refresh);
   ``db_to_cell`` from the database commit (it includes waiting for the 5 s timer).
3. ``compose_estimate``: a new script typed (and committed with Ctrl+Enter) → the "Estimated length" metric
   changes; timed from the first input event.
4. ``switch_voices_compose``, ``switch_compose_status``, ``switch_status_voices``: a page link click →
   the new page's marker (estimate metric, a board row, the voices caption with its grid).

App and floor samples alternate (A, B, B, A, …); the status tick is measured on both pages at once
(one database change). The app's and the floor's process trees are sampled for CPU and RSS.
Phases: each database (SQLite; PostgreSQL with ``--postgres URL``) × each board size. Targets: p50 ≤
1.15× floor per interaction; p95 ≤ 250 ms with 30 sessions; RSS ≤ 600 MB with 30 sessions; tick at the
largest board ≤ 1.3× floor. Misses are reported, never an error: the script exits non-zero only when it
cannot run. ``--small``: real catalog, 1,000 reels, 1 session, SQLite, 2 samples (1 status change).
"""

from __future__ import annotations

import json
import os
import random
import re
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request
from dataclasses import dataclass, field
from pathlib import Path

import _browser_js as js
from _browser_data import StatusChanger, drop_postgres_schema, populate, postgres_schema_url
from _common import ROOT, figure, parser
from memory import RssSampler

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                 "--disable-background-networking", "--disable-component-update", "--disable-sync",
                 "--disable-renderer-backgrounding", "--disable-background-timer-throttling",
                 "--disable-backgrounding-occluded-windows"]
MB = 1024 * 1024
WAIT_MS = 180_000
CAPTION = ("[data-testid='stCaptionContainer']", r"^\s*[\d,]+ of [\d,]+ voices")
ESTIMATE = ("[data-testid='stMetric']", "Estimated length")
BOARD_ROW = ("[data-testid='stDataFrame'] tr", "spring campaign")
SCRIPTS = ("A short line.", " ".join(["Our spring campaign brings every product to your door."] * 8))
SEARCHES = ("ann", "mar", "lin", "son")


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _die_with_parent() -> None:
    """In the child, before exec: get SIGTERM when the benchmark dies, even by SIGKILL (Linux), so a
    killed run (the smoke test's time limit) leaves no server behind on a shared machine."""
    if sys.platform == "linux":
        import ctypes
        import signal

        ctypes.CDLL(None, use_errno=True).prctl(1, signal.SIGTERM)  # 1 = PR_SET_PDEATHSIG


class Server:
    """``bench/_browser_app.py SCRIPT`` on a free port, on the phase's database; stopped by :meth:`stop`."""

    def __init__(self, name: str, script: str, data_dir: Path, db_url: str, multiplier: int) -> None:
        self.name, self.port = name, free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        env = {k: v for k, v in os.environ.items() if not k.startswith("HEYGEN_")}
        for key in ("HTTP_CACHE_URL", "WEBHOOK_PUBLIC_URL"):
            env.pop(key, None)
        env.update({"DATA_DIR": str(data_dir), "DATABASE_URL": db_url, "SANDBOX_PORT": "0", "WORKER_MODE": "off",
                    "PYTHONUNBUFFERED": "1"})
        data_dir.mkdir(parents=True, exist_ok=True)
        self.log_path = data_dir / "server.log"
        self._log = self.log_path.open("wb")
        self.proc = subprocess.Popen([sys.executable, str(ROOT / "bench" / "_browser_app.py"), script, str(self.port),
                                      str(multiplier)], cwd=ROOT, env=env, stdout=self._log, stderr=subprocess.STDOUT,
                                     preexec_fn=_die_with_parent)
        self.sampler: RssSampler | None = None

    def wait(self, timeout_s: float = 300) -> None:
        deadline = time.monotonic() + timeout_s
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError(f"the {self.name} server exited:\n{self.log_path.read_text()[-3000:]}")
            try:
                with urllib.request.urlopen(f"{self.url}/_stcore/health", timeout=2) as resp:
                    if resp.status == 200:
                        self.sampler = RssSampler(self.proc.pid, interval_s=0.2)
                        self.sampler.start()
                        return
            except OSError:
                time.sleep(0.3)
        raise TimeoutError(f"the {self.name} server did not start")

    def cpu_seconds(self) -> float:
        """User + system CPU seconds of the process tree so far."""
        import psutil

        total = 0.0
        root = psutil.Process(self.proc.pid)
        for proc in [root, *root.children(recursive=True)]:
            try:
                t = proc.cpu_times()
                total += t.user + t.system
            except psutil.Error:
                pass
        return total

    def stop(self) -> None:
        if self.sampler is not None:
            self.sampler.stop_event.set()
        self.proc.terminate()
        try:
            self.proc.wait(timeout=20)
        except subprocess.TimeoutExpired:
            self.proc.kill()
        self._log.close()


@dataclass
class Target:
    """One server and its measuring page."""

    name: str
    server: Server
    page: object = None
    state: dict = field(default_factory=dict)
    background: list = field(default_factory=list)


def wait_idle(page, timeout_ms: int = WAIT_MS) -> None:
    page.wait_for_selector("[data-testid='stApp'][data-test-connection-state='CONNECTED']", state="attached",
                           timeout=timeout_ms)
    page.wait_for_selector("[data-testid='stApp'][data-test-script-state='notRunning']", state="attached",
                           timeout=timeout_ms)


def open_session(browser, target: Target, path: str, marker: tuple[str, str]):
    context = browser.new_context(viewport={"width": 1440, "height": 1000}, timezone_id="UTC")
    context.add_init_script(js.INIT)
    page = context.new_page()
    page.set_default_timeout(WAIT_MS)
    page.goto(f"{target.server.url}{path}", wait_until="domcontentloaded")
    page.locator(marker[0]).filter(has_text=re.compile(marker[1])).first.wait_for(state="attached", timeout=180_000)
    wait_idle(page, 180_000)
    return page


def measure(page, action, *, start_event: str | None, start_key: str | None = None, marker: tuple[str, str],
            changed: bool = False, grid_count: bool = False) -> dict:
    """Arm, run ``action``, wait for the result; returns :data:`_browser_js.READ`'s dict."""
    wait_idle(page)
    page.evaluate(js.ARM, {"startEvent": start_event, "startKey": start_key, "sel": marker[0], "re": marker[1],
                           "changed": changed, "gridCount": grid_count})
    action()
    page.wait_for_function(js.DONE, timeout=WAIT_MS, polling=50)
    return page.evaluate(js.READ)


def _ms(r: dict) -> float:
    return r["done"] - r["start"]


# --------------------------------------------------------------------------- interactions (one sample each)


def voices_language(t: Target) -> float:
    page, on = t.page, t.state.get("lang", False)
    box = page.locator(".st-key-v_lang input")
    if not on:
        box.click()
        box.fill("Spanish")
        page.get_by_role("option").first.wait_for(state="attached")
        r = measure(page, lambda: page.keyboard.press("Enter"), start_event="keydown", start_key="Enter",
                    marker=CAPTION, changed=True, grid_count=True)
    else:
        box.click()
        r = measure(page, lambda: page.keyboard.press("Backspace"), start_event="keydown", start_key="Backspace",
                    marker=CAPTION, changed=True, grid_count=True)
    page.keyboard.press("Escape")
    t.state["lang"] = not on
    return _ms(r)


def voices_gender(t: Target) -> float:
    page = t.page
    button = page.locator(".st-key-v_gender button").filter(has_text=re.compile(r"^Female"))
    r = measure(page, button.click, start_event="pointerdown", marker=CAPTION, changed=True, grid_count=True)
    return _ms(r)


def voices_search(t: Target) -> float:
    page, n = t.page, t.state.get("search", 0)
    box = page.locator(".st-key-v_q input")
    box.click()
    page.keyboard.press("Control+A")
    if n % 2 == 0:
        page.keyboard.type(SEARCHES[(n // 2) % len(SEARCHES)])
    else:
        page.keyboard.press("Backspace")
    r = measure(page, lambda: page.keyboard.press("Enter"), start_event="keydown", start_key="Enter",
                marker=CAPTION, changed=True, grid_count=True)
    t.state["search"] = n + 1
    return _ms(r)


def compose_estimate(t: Target) -> float:
    page, n = t.page, t.state.get("script", 0)
    area = page.locator(t.state["script_box"])

    def edit() -> None:  # from the first input event: the page may save while typing or on Ctrl+Enter
        area.fill(SCRIPTS[(n + 1) % 2])
        area.press("Control+Enter")

    r = measure(page, edit, start_event="input", marker=ESTIMATE, changed=True)
    t.state["script"] = n + 1
    return _ms(r)


def _switch(to: str, marker: tuple[str, str], grid_count: bool = False):
    def go(t: Target) -> float:
        page = t.page
        link = page.locator(f"a[data-testid='stPageLink-NavLink'][href^='{to}']").first
        return _ms(measure(page, link.click, start_event="pointerdown", marker=marker, grid_count=grid_count))
    return go


VOICES = {"voices_language": voices_language, "voices_gender": voices_gender, "voices_search": voices_search}
SWITCHES = {"switch_voices_compose": _switch("Compose", ESTIMATE),
            "switch_compose_status": _switch("Status", BOARD_ROW),
            "switch_status_voices": _switch("Voices", CAPTION, grid_count=True)}


def alternate(targets: list[Target], fns: dict, runs: int, results: dict) -> None:
    """``runs`` samples of each interaction on each target, alternating the target order."""
    for name, fn in fns.items():
        for i in range(runs):
            order = targets if i % 2 == 0 else targets[::-1]
            for t in order:
                results.setdefault(name, {}).setdefault(t.name, []).append(fn(t))


def status_ticks(targets: list[Target], changer: StatusChanger, runs: int, results: dict, rng: random.Random) -> None:
    """``runs`` database changes; both measuring pages (on /Status) watch for the changed row at once."""
    for _ in range(runs):
        for t in targets:
            wait_idle(t.page)
        time.sleep(rng.uniform(0.3, 4.7))  # a random point of the 5 s refresh cycle
        reel_id = changer.next_id
        marker = ("[data-testid='stDataFrame'] tr", rf"^\s*Reel {reel_id} · spring campaign\s*failed")
        for t in targets:
            t.page.evaluate(js.ARM, {"startEvent": None, "startKey": None, "sel": marker[0], "re": marker[1],
                                     "changed": False, "gridCount": False})
        changer.change()
        changed_at = time.time() * 1000
        for t in targets:
            t.page.wait_for_function(js.DONE, timeout=WAIT_MS, polling=50)
            r = t.page.evaluate(js.READ)
            tick = r["done"] - r["lastSend"] if r["lastSend"] is not None else float("nan")
            results.setdefault("status_tick", {}).setdefault(t.name, []).append(tick)
            results.setdefault("status_db_to_cell", {}).setdefault(t.name, []).append(
                r["origin"] + r["done"] - changed_at)


# --------------------------------------------------------------------------- one phase


def pct(values: list[float], q: float) -> float:
    """The ``q`` quantile (0–1) with linear interpolation; NaN for no values."""
    v = sorted(x for x in values if x == x)
    if not v:
        return float("nan")
    k = (len(v) - 1) * q
    lo, hi = int(k), min(int(k) + 1, len(v) - 1)
    return v[lo] + (v[hi] - v[lo]) * (k - lo)


def open_background(browser, targets: list[Target], total: int, draft: int) -> None:
    """Open background sessions until each target has ``total - 1`` (Voices, Compose, Status in turn)."""
    pages = [("/Voices", CAPTION), (f"/Compose?c_reel={draft}", ESTIMATE), ("/Status", BOARD_ROW)]
    for t in targets:
        while len(t.background) < total - 1:
            i = len(t.background)
            path, marker = pages[i % 3]
            if t.name == "floor" and path.startswith("/Compose"):
                path = "/Compose"
            t.background.append(open_session(browser, t, path, marker))


def run_phase(browser, label: str, db_url: str, tmp: Path, *, reels: int, active: int, events_per_reel: int,
              multiplier: int, levels: list[int], runs: int, tick_runs: int, interactions: set[str],
              phases: dict, save) -> dict:
    started = time.monotonic()
    data = populate(db_url, reels, active, events_per_reel)
    figure(f"{label}_data", f"{reels:,} reels ({active:,} rendering), {data['events']:,} events, "
           f"loaded in {time.monotonic() - started:.0f} s")
    servers = [Server("app", "app.py", tmp / f"{label}-app", db_url, multiplier),
               Server("floor", str(ROOT / "bench" / "_floor_app.py"), tmp / f"{label}-floor", db_url, multiplier)]
    targets = [Target(s.name, s) for s in servers]
    changer = StatusChanger(db_url, active)
    rng = random.Random(5)
    phase: dict = phases.setdefault(label, {"reels": reels, "events": data["events"], "levels": {}})
    try:
        for s in servers:
            s.wait()
        for t in targets:  # the first page run of each server builds its tables
            t.page = open_session(browser, t, "/Voices", CAPTION)
        for level in levels:
            open_background(browser, targets, level, data["draft"])
            for t in targets:
                t.server.sampler.peak = t.server.sampler.last
            cpu0 = {t.name: t.server.cpu_seconds() for t in targets}
            wall0 = time.monotonic()
            results: dict = {}
            if interactions & set(VOICES):
                for t in targets:
                    t.page.goto(f"{t.server.url}/Voices")
                    t.page.locator(CAPTION[0]).filter(has_text=re.compile(CAPTION[1])).first.wait_for(state="attached")
                alternate(targets, {k: v for k, v in VOICES.items() if k in interactions}, runs, results)
            if "compose_estimate" in interactions or interactions & set(SWITCHES):
                for t in targets:
                    t.state["script_box"] = (f".st-key-c_r{data['draft']}_s1_script textarea" if t.name == "app"
                                             else ".st-key-f_script textarea")
                    t.page.goto(f"{t.server.url}/Compose")
                    if t.name == "app":  # opened from the drafts list, so this tab remembers it
                        t.page.locator(f".st-key-c_open_{data['draft']} button:visible").click()
                    t.page.locator(ESTIMATE[0]).first.wait_for(state="attached")
                if "compose_estimate" in interactions:
                    alternate(targets, {"compose_estimate": compose_estimate}, runs, results)
                if interactions & set(SWITCHES):
                    for t in targets:  # Compose → Voices first, untimed, in the same session (it keeps the draft)
                        t.page.locator("a[data-testid='stPageLink-NavLink'][href^='Voices']").first.click()
                        marker = t.page.locator(CAPTION[0]).filter(has_text=re.compile(CAPTION[1]))
                        marker.first.wait_for(state="attached")
                    for _ in range(runs):
                        alternate(targets, SWITCHES, 1, results)
            if "status_tick" in interactions:
                for t in targets:
                    t.page.goto(f"{t.server.url}/Status")
                    t.page.locator(BOARD_ROW[0]).filter(has_text="spring campaign").first.wait_for(state="attached")
                status_ticks(targets, changer, tick_runs, results, rng)
            wall = time.monotonic() - wall0
            usage = {t.name: {"cpu_pct": 100 * (t.server.cpu_seconds() - cpu0[t.name]) / wall,
                              "rss_peak_mb": t.server.sampler.peak / MB, "rss_mb": t.server.sampler.last / MB}
                     for t in targets}
            phase["levels"][level] = {"results": results, "usage": usage}
            report(label, level, results, usage)
            save()
    except Exception:
        for t in targets:
            if t.page is not None:
                t.page.screenshot(path=str(Path(tempfile.gettempdir()) / f"bench-browser-failed-{label}-{t.name}.png"))
                print(f"screenshot: {tempfile.gettempdir()}/bench-browser-failed-{label}-{t.name}.png; server log tail:\n"
                      f"{t.server.log_path.read_text(errors='replace')[-2000:]}", file=sys.stderr)
        raise
    finally:
        changer.close()
        for t in targets:
            for page in ([t.page] if t.page else []) + t.background:
                page.context.close()
        for s in servers:
            s.stop()
    return phase


def report(label: str, level: int, results: dict, usage: dict) -> None:
    for name, by in results.items():
        app, floor = by.get("app", []), by.get("floor", [])
        a50, f50 = pct(app, 0.5), pct(floor, 0.5)
        figure(f"{label}_s{level}_{name}", f"app p50 {a50:.0f} ms p95 {pct(app, 0.95):.0f} ms · floor p50 {f50:.0f} ms "
               f"p95 {pct(floor, 0.95):.0f} ms · p50 ratio {a50 / f50:.2f} (n={len(app)})")
    for name, u in usage.items():
        figure(f"{label}_s{level}_{name}_usage", f"CPU {u['cpu_pct']:.0f} % of one core, RSS {u['rss_mb']:.0f} MB "
               f"(peak {u['rss_peak_mb']:.0f} MB)")


def verdicts(all_phases: dict, largest: int) -> list[str]:
    """Targets missed, as short texts (empty list: all met)."""
    misses = []
    for label, phase in all_phases.items():
        for level, lv in phase["levels"].items():
            for name, by in lv["results"].items():
                if name == "status_db_to_cell":
                    continue
                ratio = pct(by["app"], 0.5) / pct(by["floor"], 0.5)
                limit = 1.3 if name == "status_tick" and phase["reels"] == largest else 1.15
                if ratio > limit:
                    misses.append(f"{label} s{level} {name} p50 {ratio:.2f}× floor (≤ {limit})")
                if level >= 30 and pct(by["app"], 0.95) > 250:
                    misses.append(f"{label} s{level} {name} p95 {pct(by['app'], 0.95):.0f} ms (≤ 250)")
            if level >= 30 and lv["usage"]["app"]["rss_peak_mb"] > 600:
                misses.append(f"{label} s{level} RSS {lv['usage']['app']['rss_peak_mb']:.0f} MB (≤ 600)")
    return misses


ORDER = ["voices_language", "voices_gender", "voices_search", "compose_estimate", "switch_voices_compose",
         "switch_compose_status", "switch_status_voices", "status_tick", "status_db_to_cell"]


def markdown(phases: dict) -> str:
    """The results as Markdown tables, one per phase: interactions × session counts, floor beside each figure."""
    out = []
    for label, phase in phases.items():
        levels = list(phase["levels"])
        out.append(f"**{label}** ({phase['reels']:,} reels, {phase['events']:,} events). "
                   "Each cell: app p50 / p95 ms (floor p50 / p95) → p50 ratio.\n")
        out.append("| Interaction | " + " | ".join(f"{n} session{'s' * (n != 1)}" for n in levels) + " |")
        out.append("|---|" + "---|" * len(levels))
        names = [n for n in ORDER if any(n in phase["levels"][lv]["results"] for lv in levels)]
        for name in names:
            cells = []
            for lv in levels:
                by = phase["levels"][lv]["results"].get(name)
                if not by:
                    cells.append("–")
                    continue
                a, f = by["app"], by["floor"]
                cells.append(f"{pct(a, .5):.0f} / {pct(a, .95):.0f} ({pct(f, .5):.0f} / {pct(f, .95):.0f}) → "
                             f"{pct(a, .5) / pct(f, .5):.2f}")
            out.append(f"| {name} | " + " | ".join(cells) + " |")
        usage = []
        for lv in levels:
            u = phase["levels"][lv]["usage"]
            usage.append(f"app {u['app']['cpu_pct']:.0f} % CPU, {u['app']['rss_peak_mb']:.0f} MB "
                         f"(floor {u['floor']['cpu_pct']:.0f} %, {u['floor']['rss_peak_mb']:.0f} MB)")
        out.append("| CPU (one core = 100 %), peak RSS | " + " | ".join(usage) + " |")
        out.append("")
    return "\n".join(out)


def main() -> int:
    p = parser(__doc__.splitlines()[0])
    p.add_argument("--postgres", metavar="URL", help="also run on this PostgreSQL server (a fresh schema is used)")
    p.add_argument("--no-sqlite", action="store_true", help="skip the SQLite phases")
    p.add_argument("--sizes", default="10000:tick,100000:all",
                   help="board sizes and what to measure there, e.g. 10000:tick,100000:all")
    p.add_argument("--sessions", default="1,10,30", help="session counts, e.g. 1,10,30")
    p.add_argument("--runs", type=int, default=10, help="samples per interaction and server (even)")
    p.add_argument("--tick-runs", type=int, default=10, help="status changes per level")
    p.add_argument("--multiplier", type=int, default=25, help="catalog multiplier for the Voices interactions")
    p.add_argument("--only", help="measure only these interactions (comma-separated names), for profiling")
    p.add_argument("--json", metavar="PATH", help="write every sample here")
    p.add_argument("--markdown", metavar="PATH", help="write the results tables (Markdown) here")
    p.add_argument("--keep", metavar="DIR", help="make the temporary folder (logs, screenshots) inside DIR")
    args = p.parse_args()
    if args.small:
        args.sizes, args.sessions, args.runs, args.tick_runs, args.multiplier = "1000:all", "1", 2, 1, 1
    args.runs += args.runs % 2  # even: every toggled filter ends where it started
    levels = [int(x) for x in args.sessions.split(",")]
    sizes = [(int(n), kind) for n, kind in (part.split(":") for part in args.sizes.split(","))]
    everything = {"status_tick", "compose_estimate", *VOICES, *SWITCHES}
    if args.only:
        everything &= set(args.only.split(","))
    from playwright.sync_api import sync_playwright

    figure("machine", f"{os.cpu_count()} cores; load average {' '.join(f'{x:.2f}' for x in os.getloadavg())}")
    phases: dict = {}

    def save() -> None:  # after every level, so an interrupted run keeps what it measured
        if args.json:
            Path(args.json).write_text(json.dumps(phases, indent=1))
        if args.markdown:
            Path(args.markdown).write_text(markdown(phases))
    with tempfile.TemporaryDirectory(prefix="bench-browser-", dir=args.keep) as tmp, sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        try:
            dbs = [] if args.no_sqlite else ["sqlite"]
            dbs += ["postgresql"] if args.postgres else []
            for db in dbs:
                for reels, kind in sizes:
                    label = f"{db}_{reels // 1000}k"
                    schema = None
                    if db == "sqlite":
                        url = f"sqlite:///{Path(tmp) / label / 'reels.db'}"
                    else:
                        url, schema = postgres_schema_url(args.postgres)
                    try:
                        run_phase(
                            browser, label, url, Path(tmp) / label, reels=reels, active=min(1_000, reels // 10),
                            events_per_reel=10, multiplier=args.multiplier, levels=levels, runs=args.runs,
                            tick_runs=args.tick_runs, interactions=everything if kind == "all" else everything & {"status_tick"},
                            phases=phases, save=save)
                    finally:
                        if schema:
                            drop_postgres_schema(args.postgres, schema)
        finally:
            browser.close()
    figure("load_average_after", " ".join(f"{x:.2f}" for x in os.getloadavg()))
    save()
    misses = verdicts(phases, max(n for n, _ in sizes))
    for miss in misses:
        figure("miss", miss)
    figure("RESULT", "PASS" if not misses else f"MISS ({len(misses)} targets missed)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
