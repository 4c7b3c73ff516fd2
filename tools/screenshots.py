"""Take the README's screenshots of every page, reproducibly.

    .venv/bin/python tools/screenshots.py [--out docs/screenshots]

1. Starts ``streamlit run app.py`` in sandbox mode on a fresh temporary DATA_DIR (no HeyGen key,
   no DATABASE_URL or HTTP_CACHE_URL; a fast sandbox; PER_OWNER_CAP=1 so a second reel of one owner
   waits in the queue).
2. Opens the home page once, which builds the app's runtime (database, sandbox, embedded worker).
3. Seeds realistic content through the product's own functions against the same database:
   reels with real catalog voices and looks (core.reels), launched with core.jobs.lifecycle.launch;
   the embedded worker and the sandbox render them. One render fails with HeyGen's observed
   insufficient-credit reason (sandbox knob ``POST /_sandbox/faults``), one stays rendering, one
   stays queued behind it, one 3-scene reel stays a draft (created first, so the renders count as
   new since Ana last looked). Team annotations on a few voices.
4. Opens each page in headless Chromium (Playwright, 1440×1000, user "Ana") and saves
   home, voices, avatars, compose, status, videos and settings PNGs (full page), plus the first screen
   of Voices and Compose in a 390 px wide window (voices-390, compose-390).
The server is stopped at the end, whatever happens.
"""

from __future__ import annotations

import argparse
import json
import os
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from playwright.sync_api import Page, sync_playwright  # noqa: E402

from core.access.actor import Actor  # noqa: E402
from core.catalog.index import CatalogIndex  # noqa: E402
from core.config import load_settings  # noqa: E402
from core.db import make_engine, make_session_factory, session_scope  # noqa: E402
from core.heygen.types import AvatarLook, Voice  # noqa: E402
from core.jobs.lifecycle import launch  # noqa: E402
from core.models import Reel  # noqa: E402
from core.reels.drafts import create_reel  # noqa: E402
from core.reels.validation import SceneInput  # noqa: E402

CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
                 "--disable-component-update", "--disable-sync", "--no-first-run"]
USER = "Ana"


def _as(name: str) -> Actor:
    """The seeding actor for reels shown as made by ``name``."""
    return Actor(name, verified=True, role="admin")

# Real ids from the vendored 2026 catalog: (avatar look, voice).
ABIGAIL, ALLISON = "Abigail_expressive_2024112501", "f8c69e517f424cafaecde32dde57096b"
ADRIAN, PATRICK = "Adrian_public_20240312", "7e157ec62c9c45f1adca12faae72c86f"
ADRIANA, CAMILA = "Adriana_Business_Front_public", "6ce26db0cb6f4e7881b85452619f7f19"
ADITYA, BRIAN = "Aditya_public_1", "f38a635bee7a4d1f9b0a654a31d050d2"
SPANISH_VOICES = {CAMILA: (["warm", "onboarding"], "adult", True, "Our default for Spanish onboarding."),
                  "689f48196a9a43c4bbbb67c14fdbb4c6": (["news"], "adult", True, ""),
                  "626ca51acb2e496f8dcee8d7591fda3c": (["narration"], "senior", False, "Too slow for ads.")}


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def wait_until(check, what: str, timeout_s: float = 120.0) -> None:
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        try:
            if check():
                return
        except OSError:
            pass
        time.sleep(0.5)
    raise TimeoutError(f"{what} did not happen within {timeout_s:.0f} s")


def start_app(data_dir: Path, port: int, sandbox_port: int) -> subprocess.Popen:
    env = {k: v for k, v in os.environ.items()
           if not k.startswith("HEYGEN_") and k not in ("DATABASE_URL", "HTTP_CACHE_URL", "WEBHOOK_PUBLIC_URL")}
    env.update(DATA_DIR=str(data_dir), SANDBOX_PORT=str(sandbox_port), SANDBOX_TIME_SCALE="0.1",
               POLL_INTERVAL_SECONDS="1", WORKER_MODE="embedded", PER_OWNER_CAP="1", PYTHONUNBUFFERED="1")
    log = (data_dir / "streamlit.log").open("wb")
    return subprocess.Popen(
        [sys.executable, "-m", "streamlit", "run", "app.py", "--server.headless", "true",
         "--server.port", str(port), "--browser.gatherUsageStats", "false"],
        cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT)


def sandbox_faults(sandbox_url: str, **knobs) -> None:
    req = urllib.request.Request(f"{sandbox_url}/_sandbox/faults", data=json.dumps(knobs).encode(),
                                 headers={"Content-Type": "application/json"}, method="POST")
    urllib.request.urlopen(req, timeout=10).close()


def catalog_index() -> CatalogIndex:
    """The catalog the sandbox serves (the vendored HeyGen dumps), as the app sees it."""
    from core.sandbox.catalog import load_sandbox_catalog

    catalog = load_sandbox_catalog()
    return CatalogIndex([Voice.model_validate(v) for v in catalog.voices],
                        [AvatarLook.model_validate(lk) for lk in catalog.looks])


class Seeder:
    """Creates and launches reels in the app's database, and waits for the worker to move them."""

    def __init__(self, db_url: str, sandbox_url: str) -> None:
        self.factory = make_session_factory(make_engine(db_url))
        self.sandbox_url = sandbox_url
        self.index = catalog_index()

    def reel(self, owner: str, title: str, scenes: list[tuple[str, str, str]], *, go: bool = True,
             **settings) -> int:
        inputs = [SceneInput(position=n, avatar_id=look, voice_id=voice, script=script)
                  for n, (look, voice, script) in enumerate(scenes, start=1)]
        with session_scope(self.factory) as session:
            reel_id = create_reel(session, actor=_as(owner), title=title, scenes=inputs, **settings).id
        if go:
            with session_scope(self.factory) as session:
                result = launch(session, reel_id, actor=_as(owner), index=self.index)
            if not result.ok:
                raise RuntimeError(f"launching {title!r} failed: {result.message}")
        return reel_id

    def status(self, reel_id: int) -> str:
        with session_scope(self.factory) as session:
            return session.get(Reel, reel_id).status

    def wait(self, reel_ids: list[int], statuses: tuple[str, ...]) -> None:
        wait_until(lambda: all(self.status(r) in statuses for r in reel_ids), f"reels {reel_ids} → {statuses}")

    def annotate(self) -> None:
        from core.catalog.annotations import save_annotation

        with session_scope(self.factory) as session:
            for voice_id, (tags, age, approved, notes) in SPANISH_VOICES.items():
                save_annotation(session, voice_id, tags=tags, age_group=age, approved=approved, notes=notes,
                                actor=_as(USER))


def seed(seeder: Seeder) -> dict[str, int]:
    """The board the screenshots show; returns the ids the pages select."""
    seeder.annotate()
    draft = seeder.reel(USER, "Customer story: Northwind", [
        (ABIGAIL, ALLISON, "Northwind ships forty thousand parcels a day. Here is how they keep customers informed."),
        (ADITYA, BRIAN, "Every delivery update is now a short personal video, made in minutes."),
        (ADRIANA, CAMILA, "Y ahora también en español, con la misma calidad.")], go=False)
    sandbox_faults(seeder.sandbox_url, fail_next=1, failure_code="MOVIO_PAYMENT_INSUFFICIENT_CREDIT",
                   failure_message="Insufficient credit. This operation requires 'plan_credit' or 'api' credits.")
    failed = seeder.reel(USER, "Holiday sale – 4K hero", [
        (ABIGAIL, ALLISON, "Our holiday sale starts today: thirty percent off every annual plan."),
        (ADRIAN, PATRICK, "Offer ends on the thirty-first."),
        (ABIGAIL, ALLISON, "Happy holidays from all of us.")], resolution="4k")
    seeder.wait([failed], ("failed",))
    done = [
        seeder.reel(USER, "Spring launch teaser", [
            (ABIGAIL, ALLISON, "Spring is here, and so is the new Reel Studio. Let me show you around."),
            (ADRIAN, PATRICK, "Pick a voice, choose a look, write a line. That is all it takes."),
            (ABIGAIL, ALLISON, "Launch it, and your video is ready before your coffee is.")]),
        seeder.reel(USER, "Bienvenida al equipo", [
            (ADRIANA, CAMILA, "¡Hola y bienvenida! En este vídeo te contamos cómo trabajamos."),
            (ADRIANA, CAMILA, "Tu primera semana: herramientas, personas y un café con el equipo."),
            (ADRIANA, CAMILA, "Si tienes dudas, escríbenos en el canal de bienvenida.")]),
        seeder.reel("Chloé", "Q3 results in 60 seconds", [
            (ADITYA, BRIAN, "Revenue grew twelve percent this quarter, led by our subscription plans."),
            (ADRIAN, PATRICK, "Churn fell for the third quarter in a row."),
            (ADITYA, BRIAN, "Next quarter we double down on onboarding.")], aspect_ratio="9:16", resolution="720p"),
    ]
    seeder.wait(done, ("completed",))
    sandbox_faults(seeder.sandbox_url, stuck_next=1)
    rendering = seeder.reel("Ben", "Product tour – chapter 1", [
        (ADRIAN, PATRICK, "Welcome to the product tour. In chapter one we set up your workspace."),
        (ADITYA, BRIAN, "First, invite your team from the settings page."),
        (ADRIAN, PATRICK, "Next, connect your calendar.")])
    seeder.wait([rendering], ("pending", "processing"))
    seeder.reel("Ben", "Product tour – chapter 2", [
        (ADRIAN, PATRICK, "In chapter two we build your first report."),
        (ADITYA, BRIAN, "Pick a template, then choose the data."),
        (ADRIAN, PATRICK, "Share it with one click.")])
    return {"draft": draft, "completed": done[0]}


def settle(page: Page, selector: str | None = None) -> None:
    """Wait for the script run to finish, for ``selector`` (if given) and for images to load."""
    page.wait_for_selector("[data-testid='stApp'][data-test-script-state='notRunning']", state="attached",
                           timeout=180_000)
    page.wait_for_selector("[data-testid='stSkeleton']", state="detached", timeout=60_000)
    if selector:
        page.wait_for_selector(selector, timeout=60_000)
    page.wait_for_function("Array.from(document.images).every(i => i.complete)", timeout=30_000)
    page.wait_for_timeout(1500)  # charts, fonts and data grids draw after the run
    page.wait_for_selector("[data-testid='stApp'][data-test-script-state='notRunning']", state="attached")


def shoot(page: Page, url: str, out: Path, name: str, selector: str | None = None) -> None:
    sep = "&" if "?" in url else "?"
    page.goto(f"{url}{sep}me={USER}")
    settle(page, selector)
    # Streamlit scrolls inside its main area, so grow the window to the content for a whole-page picture.
    height = page.evaluate("document.querySelector('[data-testid=stMain]').scrollHeight")
    page.set_viewport_size({"width": 1440, "height": max(1000, min(int(height), 4000))})
    page.wait_for_timeout(800)
    page.screenshot(path=str(out / f"{name}.png"), full_page=True)
    page.set_viewport_size({"width": 1440, "height": 1000})
    print(f"saved {out / f'{name}.png'}")


def shoot_narrow(page: Page, url: str, out: Path, name: str) -> None:
    """The first screen of a phone-sized window (390 × 844), as a person on a phone first sees it."""
    sep = "&" if "?" in url else "?"
    page.goto(f"{url}{sep}me={USER}")
    settle(page)
    page.screenshot(path=str(out / f"{name}.png"))
    print(f"saved {out / f'{name}.png'}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=ROOT / "docs" / "screenshots")
    out = parser.parse_args().out.resolve()
    out.mkdir(parents=True, exist_ok=True)
    data_dir = Path(tempfile.mkdtemp(prefix="reel-studio-shots-"))
    port, sandbox_port = free_port(), free_port()
    app = f"http://localhost:{port}"
    proc = start_app(data_dir, port, sandbox_port)
    try:
        wait_until(lambda: urllib.request.urlopen(f"{app}/_stcore/health", timeout=2).status == 200,
                   "the app answering")
        with sync_playwright() as pw:
            browser = pw.chromium.launch(executable_path="/usr/bin/chromium", args=CHROMIUM_ARGS)
            page = browser.new_page(viewport={"width": 1440, "height": 1000})
            page.goto(f"{app}/?me={USER}")  # builds the runtime: database, sandbox, worker
            settle(page)
            settings = load_settings({"DATA_DIR": str(data_dir)})
            ids = seed(Seeder(settings.db_url, f"http://127.0.0.1:{sandbox_port}"))
            shoot(page, app, out, "home")
            shoot(page, f"{app}/Voices?v_lang=Spanish&v_gender=female&v_voice={CAMILA}", out, "voices")
            shoot(page, f"{app}/Avatars?a_gender=female&a_look={ADRIANA}", out, "avatars", "img")
            shoot(page, f"{app}/Compose?c_reel={ids['draft']}", out, "compose")
            shoot(page, f"{app}/Status", out, "status")
            shoot(page, f"{app}/Videos?vid_reel={ids['completed']}", out, "videos", "video")
            shoot(page, f"{app}/Settings", out, "settings")
            phone = browser.new_page(viewport={"width": 390, "height": 844})
            shoot_narrow(phone, f"{app}/Voices?v_lang=Spanish&v_gender=female&v_accent=es-MX", out, "voices-390")
            shoot_narrow(phone, f"{app}/Compose?c_reel={ids['draft']}", out, "compose-390")
            browser.close()
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=15)
        except subprocess.TimeoutExpired:
            proc.kill()
    print(f"server log: {data_dir / 'streamlit.log'}")


if __name__ == "__main__":
    main()
