"""Steps shared by the end-to-end reel tests: the catalog choices, composing through the Compose page,
and seeding a ready draft straight into the app's database (for tests about what happens after it).
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from playwright.sync_api import Page, expect

from core.access.users import actor_for, local_user
from core.db import make_engine, make_session_factory, session_scope
from core.reels.drafts import create_reel
from core.reels.validation import SceneInput
from tests.e2e.conftest import AppServer, key_button, open_page, wait_for_app_run
from ui.identity import os_account_name

USER = "e2e"


@dataclass(frozen=True)
class SceneChoice:
    """One scene: the look and voice (ids and the picker labels typed to find them) and its script."""

    look_id: str
    look_label: str
    voice_id: str
    voice_label: str
    script: str

    @property
    def look_name(self) -> str:
        return self.look_label.split(" · ")[0]

    @property
    def voice_name(self) -> str:
        return self.voice_label.split(" · ")[0]


#: Three different studio looks (Avatar IV capable) and three different Starfish voices (so "Listen" works).
SCENES = (
    SceneChoice("Abigail_expressive_2024112501", "Abigail (Upper Body) · studio avatar · landscape",
                "f8c69e517f424cafaecde32dde57096b", "Allison · English · female",
                "Welcome to Reel Studio. This is the first scene."),
    SceneChoice("Aditya_public_1", "Aditya in Blue blazer · studio avatar · landscape",
                "f38a635bee7a4d1f9b0a654a31d050d2", "Chill Brian · English · male",
                "In the second scene a different avatar speaks with another voice."),
    SceneChoice("Abigail_standing_office_front", "Abigail Office Front · studio avatar · landscape",
                "cef3bc4e0a84424cafcde6f2cf466c97", "Ivy · English · female",
                "And the third scene closes the reel. Thanks for watching."),
)


def seed_ready_reel(server: AppServer, title: str) -> int:
    """Create a complete three-scene draft owned by the app's local user in its database; return its id.

    The app must have run once (its first page run migrates the database).
    """
    engine = make_engine(f"sqlite:///{server.data_dir / 'reels.db'}")
    try:
        with session_scope(make_session_factory(engine)) as session:
            # The app acts as the local (OS account) user when sign-in is not configured, as here.
            actor = actor_for(local_user(session, os_account_name()))
            reel = create_reel(session, actor=actor, title=title, scenes=[
                SceneInput(position=n, avatar_id=s.look_id, voice_id=s.voice_id, script=s.script)
                for n, s in enumerate(SCENES, start=1)])
            return reel.id
    finally:
        engine.dispose()


def open_reel(page: Page, server: AppServer, reel_id: int) -> None:
    """Open draft ``reel_id`` on the Compose page and wait until its editor is drawn."""
    open_page(page, server, f"/Compose?c_reel={reel_id}", user=USER)
    expect(launch_button(page, reel_id)).to_be_visible()


def launch_button(page: Page, reel_id: int):
    return key_button(page, f"c_launch_{reel_id}")


def new_reel(page: Page, server: AppServer) -> int:
    """Start a new draft with the "New reel" button; return its id (from ``?c_reel=``)."""
    open_page(page, server, "/Compose", user=USER)
    key_button(page, "c_new").click()
    expect(page).to_have_url(re.compile(r"[?&]c_reel=\d+"))
    reel_id = int(re.search(r"[?&]c_reel=(\d+)", page.url).group(1))
    expect(launch_button(page, reel_id)).to_be_visible()
    return reel_id


def choose(page: Page, key: str, typed: str, label: str) -> None:
    """Pick ``label`` in the searchable selectbox ``key`` after typing ``typed``."""
    box = page.locator(f".st-key-{key} input")
    box.click()
    box.fill(typed)
    page.get_by_role("option", name=label, exact=True).click()
    expect(box).to_have_value(label)


def write_script(page: Page, reel_id: int, n: int, text: str) -> None:
    """Type scene ``n``'s script and commit it (Ctrl+Enter, as a person leaving the field would)."""
    area = page.locator(f".st-key-c_r{reel_id}_s{n}_script textarea")
    area.fill(text)
    area.press("Control+Enter")
    wait_for_app_run(page)


def scene_expander(page: Page, n: int):
    return page.get_by_test_id("stExpander").filter(
        has=page.get_by_text(re.compile(rf"^Scene {n} · "))).first


def set_scene(page: Page, reel_id: int, n: int, scene: SceneChoice, *, script: bool = True) -> None:
    """Choose scene ``n``'s look and voice through the pickers and (optionally) write its script."""
    choose(page, f"c_r{reel_id}_s{n}_look", scene.look_name, scene.look_label)
    expect(scene_expander(page, n).get_by_text(re.compile(rf"^Scene {n} · {re.escape(scene.look_name)} · ")))\
        .to_be_visible()
    choose(page, f"c_r{reel_id}_s{n}_voice", scene.voice_name, scene.voice_label)
    expect(page.get_by_text(f"Scene {n} · {scene.look_name} · {scene.voice_name}", exact=True)).to_be_visible()
    if script:
        write_script(page, reel_id, n, scene.script)


#: Resolves when an <audio>/<video> element has its metadata: {duration, error, width, src}.
MEDIA_READY_JS = """async (el) => {
    if (el.readyState < 1 || !(el.duration > 0)) {
        await new Promise((ok, bad) => {
            const t = setTimeout(() => bad(new Error('no metadata within 30 s')), 30000);
            el.addEventListener('loadedmetadata', () => { clearTimeout(t); ok(); }, {once: true});
            el.addEventListener('error', () => { clearTimeout(t); bad(new Error('media error ' + (el.error && el.error.code))); },
                                {once: true});
            if (el.readyState < 1) el.load();
        });
    }
    return {duration: el.duration, error: el.error && el.error.code, width: el.videoWidth, src: el.currentSrc};
}"""
