"""Compose in a real browser: a three-scene reel with three looks and three voices, an empty script that
blocks the launch until it is written, listening to a scene, and the estimated cost."""

from __future__ import annotations

import re

from playwright.sync_api import Page, expect

from tests.e2e.conftest import AppServer, key_button, snap
from tests.e2e.reel_steps import (
    MEDIA_READY_JS,
    SCENES,
    launch_button,
    new_reel,
    scene_expander,
    set_scene,
    write_script,
)

EMPTY_SCRIPT = "The script is empty — write what the avatar should say."

def test_compose_three_scenes_empty_script_blocks_launch_listen_and_cost(page: Page, app_server: AppServer) -> None:
    reel_id = new_reel(page, app_server)
    launch = launch_button(page, reel_id)
    expect(launch).to_be_disabled()  # a new draft has nothing in it yet
    snap(page, "compose-01-new-draft")

    # Three scenes, each with its own look and voice; scene 2's script is left empty.
    for n, scene in enumerate(SCENES, start=1):
        set_scene(page, reel_id, n, scene, script=n != 2)
    for n, scene in enumerate(SCENES, start=1):
        expect(page.get_by_text(f"Scene {n} · {scene.look_name} · {scene.voice_name}", exact=True)).to_be_visible()
    assert len({s.look_id for s in SCENES}) == 3 and len({s.voice_id for s in SCENES}) == 3

    # The empty script is a to-do in the checklist (not a red error: scene 2's script was never visited),
    # and Launch stays disabled.
    expect(page.locator(".st-key-c_estimate").get_by_text(re.compile(r"Scene 2:\W*the script is empty"))).to_be_visible()
    expect(page.locator(".st-key-c_estimate").get_by_text("1 thing to do before launch")).to_be_visible()
    expect(scene_expander(page, 2).get_by_text(EMPTY_SCRIPT)).to_have_count(0)
    expect(launch).to_be_disabled()
    for n in (1, 3):
        expect(scene_expander(page, n).get_by_text(EMPTY_SCRIPT)).to_have_count(0)
    snap(page, "compose-02-empty-script-blocks-launch", focus=page.locator(".st-key-c_estimate"))

    # Writing it clears the problem and enables Launch.
    write_script(page, reel_id, 2, SCENES[1].script)
    expect(scene_expander(page, 2).get_by_text(EMPTY_SCRIPT)).to_have_count(0)
    expect(page.locator(".st-key-c_launch_bar").get_by_text("Ready to launch")).to_be_visible()
    expect(launch).to_be_enabled()
    snap(page, "compose-03-ready", focus=page.locator(".st-key-c_estimate"))

    # The estimate shows a dollar figure above zero.
    cost = page.locator(".st-key-c_launch_bar [data-testid='stMetric']").filter(has_text="Estimated cost")
    expect(cost.get_by_test_id("stMetricValue")).to_have_text(re.compile(r"^\$\d[\d,]*\.\d\d$"))
    assert cost.get_by_test_id("stMetricValue").inner_text() != "$0.00"
    expect(page.locator(".st-key-c_launch_bar [data-testid='stMetric']").filter(has_text="Scenes ready")
           .get_by_test_id("stMetricValue")).to_have_text("3 of 3")

    # Listen to scene 1: its speech preview appears as an <audio> with a real duration.
    scene1 = scene_expander(page, 1)
    audios_before = scene1.locator("audio").count()
    key_button(page, f"c_r{reel_id}_s1_listen").click()
    expect(scene1.get_by_text(re.compile(r"^Preview of this scene as written: \d+\.\d s"))).to_be_visible(
        timeout=60_000)
    expect(scene1.locator("audio")).to_have_count(audios_before + 1)
    media = scene1.locator("audio").last.evaluate(MEDIA_READY_JS)
    assert media["error"] is None and media["duration"] > 0, media
    # The estimate now times scene 1 from the preview.
    expect(page.locator(f".st-key-c_r{reel_id}_s1_listen")).to_have_count(0)
    snap(page, "compose-04-listened", focus=scene1.locator("audio").last)
