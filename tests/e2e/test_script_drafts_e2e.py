"""Drafting in a real browser: a topic becomes three sandbox variations side by side, one fills the draft's
scenes, a scene's history shows the diff and restores the earlier text, and the reel launches."""

from __future__ import annotations

import re

from playwright.sync_api import Page, expect

from tests.e2e.conftest import AppServer, key_button, open_page, snap, wait_for_app_run
from tests.e2e.reel_steps import SCENES, USER, launch_button, open_reel, scene_expander, seed_ready_reel

TOPIC = "Booking a table in our app in under a minute"


def test_topic_to_three_variations_to_filled_scenes_history_and_launch(page: Page, app_server: AppServer) -> None:
    open_page(page, app_server, "/Compose", user=USER)  # starts the app: database, sandbox, worker
    reel_id = seed_ready_reel(app_server, "E2E drafted reel")
    open_reel(page, app_server, reel_id)
    page.get_by_text("Draft from a topic", exact=True).click()
    topic = page.locator(f".st-key-sd_r{reel_id}_topic textarea")
    topic.fill(TOPIC)
    topic.press("Control+Enter")
    wait_for_app_run(page)
    key_button(page, f"sd_r{reel_id}_ask").click()
    cards = [page.locator(f".st-key-sd_r{reel_id}_variation_{n}") for n in range(3)]
    for card in cards:
        expect(card).to_be_visible(timeout=60_000)
        expect(card.get_by_text("sandbox draft")).to_be_visible()
        expect(card.get_by_text(re.compile(r"^about \d+ s · \$\d+\.\d\d · 3 scenes"))).to_be_visible()
    chosen = cards[1].get_by_test_id("stText").first.inner_text()
    snap(page, "drafts-01-three-variations", focus=cards[0])
    page.set_viewport_size({"width": 390, "height": 844})
    snap(page, "drafts-02-variations-390px", focus=cards[0])
    page.set_viewport_size({"width": 1280, "height": 900})

    key_button(page, f"sd_r{reel_id}_use_1").click()
    script = page.locator(f".st-key-c_r{reel_id}_s1_script textarea")
    expect(script).to_have_value(chosen)
    expect(cards[0]).to_have_count(0)  # the variations are used up

    history = page.locator(f"[class*='st-key-sd_r{reel_id}_history_']").first
    expect(history).to_contain_text("History (2)")
    history.get_by_text("History (2)").click()
    code = scene_expander(page, 1).get_by_test_id("stCode")
    expect(code).to_contain_text(f"+ {SCENES[0].script}")
    expect(code).to_contain_text(f"- {chosen[:30]}")
    snap(page, "drafts-03-history-diff", focus=code)
    page.set_viewport_size({"width": 390, "height": 844})
    snap(page, "drafts-04-history-390px", focus=code)
    page.set_viewport_size({"width": 1280, "height": 900})
    scene_expander(page, 1).get_by_role("button", name="Restore this version").click()
    expect(script).to_have_value(SCENES[0].script)
    expect(scene_expander(page, 1).get_by_text("History (3)")).to_be_visible()

    launch_button(page, reel_id).click()
    expect(page.get_by_text("Queued — the worker will submit it to HeyGen")).to_be_visible(timeout=60_000)

