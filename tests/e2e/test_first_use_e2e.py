"""What a first-time user meets in the browser: one-click previews, search as you type, keyboard row
selection, a menu whose focus never looks like the current page, text saved while typing, a launch bar
that stays in reach, and both main pages at 390 px wide (tools/screenshots.py keeps their pictures in
docs/screenshots/).
"""

from __future__ import annotations

import re
from urllib.parse import parse_qs, urlparse

import pytest
from playwright.sync_api import Browser, Page, expect

from tests.e2e.conftest import AppServer, open_page, snap, wait_for_app_run
from tests.e2e.reel_steps import launch_button, open_reel, scene_expander, seed_ready_reel
from tests.e2e.test_voices_e2e import MARKER_X, ROW_PX, count_caption

NARROW = {"width": 390, "height": 844}
#: The Voices grid's columns before Play: the row marker and the 150 px Voice column.
PLAY_X = MARKER_X + 15 + 150 + 40


def _query(page: Page) -> dict[str, list[str]]:
    return parse_qs(urlparse(page.url).query)


def test_play_is_one_click_and_a_selected_voice_comes_into_view(page: Page, app_server: AppServer) -> None:
    open_page(page, app_server, "/Voices?v_lang=Spanish&v_accent=es-MX")
    player = page.locator(".st-key-v_player")
    expect(player).to_contain_text("Play plays a preview here")
    grid = page.get_by_test_id("stDataFrame")
    grid.click(position={"x": PLAY_X, "y": ROW_PX + ROW_PX // 2})  # ▶ Play in the first row
    audio = player.locator("audio")
    expect(audio).to_have_count(1)
    assert audio.evaluate("a => a.autoplay") is True
    assert "v_voice" not in _query(page)  # playing does not open the details
    # Selecting a row scrolls its details into the window.
    grid.click(position={"x": MARKER_X, "y": ROW_PX * 3 + ROW_PX // 2})
    detail = page.locator(".st-key-v_detail")
    expect(detail).to_be_visible()
    expect(detail).to_be_in_viewport()


def test_search_applies_while_typing_and_space_selects_a_row(page: Page, app_server: AppServer) -> None:
    open_page(page, app_server, "/Voices")
    box = page.locator(".st-key-v_q input")
    box.click()
    box.press_sequentially("es-MX", delay=80)  # no Enter, no blur
    expect(page).to_have_url(re.compile(r"[?&]v_q=es-MX"), timeout=15_000)
    expect(count_caption(page, r"\d+")).to_be_visible()
    assert "2,326 of" not in page.get_by_text(re.compile(r"of 2,326 voices")).inner_text()
    # Keyboard: focus a cell, move down, Space selects that row (as Shift+Space does in the grid).
    page.get_by_test_id("stDataFrame").click(position={"x": MARKER_X + 100, "y": ROW_PX + ROW_PX // 2})
    page.keyboard.press("ArrowDown")
    page.keyboard.press("Space")
    expect(page).to_have_url(re.compile(r"[?&]v_voice=\w+"))
    expect(page.locator(".st-key-v_detail")).to_be_visible()


def test_a_focused_menu_link_looks_unlike_the_current_page(page: Page, app_server: AppServer) -> None:
    open_page(page, app_server, "/Voices")
    menu = page.get_by_test_id("stSidebar").get_by_test_id("stPageLink-NavLink")
    current, other = menu.filter(has_text="Voices"), menu.filter(has_text="Avatars")
    other.focus()
    page.keyboard.press("Shift+Tab")
    page.keyboard.press("Tab")  # keyboard focus, so :focus-visible applies
    look = "e => [getComputedStyle(e).backgroundColor, getComputedStyle(e).boxShadow, getComputedStyle(e).outlineStyle]"
    focused, here = other.evaluate(look), current.evaluate(look)
    assert focused[0] == "rgba(0, 0, 0, 0)" and focused[2] == "solid", focused  # a ring, no fill
    assert here[1] != "none" and here[0] != "rgba(0, 0, 0, 0)", here  # the current page: fill and a bar


def test_script_typed_without_leaving_the_box_survives_a_reload(page: Page, app_server: AppServer) -> None:
    open_page(page, app_server, "/")  # the first run migrates the database
    reel_id = seed_ready_reel(app_server, "Autosave check")
    open_reel(page, app_server, reel_id)
    # The voice picker matches the typed name, not look-alike letters ("Allison", not Ally or Derya).
    picker = page.locator(f".st-key-c_r{reel_id}_s2_voice input")
    picker.click()
    picker.fill("Allison")
    options = page.get_by_role("option")
    expect(options.first).to_be_visible()
    assert all("allison" in o.lower() for o in options.all_inner_texts()), options.all_inner_texts()
    page.keyboard.press("Escape")
    area = page.locator(f".st-key-c_r{reel_id}_s1_script textarea")
    area.click()
    page.keyboard.press("End")
    page.keyboard.type(" Typed, not blurred.", delay=30)
    expect(area).to_be_focused()
    page.wait_for_timeout(2500)  # the autosave pause (1 s) plus the save's rerun
    wait_for_app_run(page)
    expect(area).to_be_focused()  # saving did not take the caret away
    page.reload()
    wait_for_app_run(page, 120_000)
    expect(page.locator(f".st-key-c_r{reel_id}_s1_script textarea")).to_have_value(re.compile(r"Typed, not blurred\.$"))


@pytest.fixture
def narrow(browser: Browser):
    context = browser.new_context(viewport=NARROW)
    page = context.new_page()
    page.set_default_timeout(30_000)
    yield page
    context.close()


def test_voices_at_390_px_show_the_table_on_the_first_screen(narrow: Page, app_server: AppServer) -> None:
    open_page(narrow, app_server, "/Voices?v_lang=Spanish&v_accent=es-MX")
    expect(narrow.locator(".st-key-v_filters details")).not_to_have_attribute("open", "")
    grid = narrow.get_by_test_id("stDataFrame")
    expect(grid).to_be_in_viewport()
    box = grid.bounding_box()
    assert box["y"] + 200 < NARROW["height"], box  # the table starts in the first screen, 5+ rows visible
    narrow.locator(".st-key-v_filters summary").click()  # the filters are one tap away
    expect(narrow.locator(".st-key-v_lang")).to_be_visible()
    narrow.locator(".st-key-v_filters summary").click()
    snap(narrow, "first-use-voices-390")


def test_compose_at_390_px_keeps_the_title_wide_and_launch_in_reach(narrow: Page, app_server: AppServer) -> None:
    open_page(narrow, app_server, "/")
    reel_id = seed_ready_reel(app_server, "Narrow reel")
    open_reel(narrow, app_server, reel_id)
    title = narrow.locator(f".st-key-c_r{reel_id}_title input")
    assert title.bounding_box()["width"] > 300
    scene3 = scene_expander(narrow, 3)
    scene3.scroll_into_view_if_needed()
    narrow.locator(f".st-key-c_r{reel_id}_s3_script textarea").scroll_into_view_if_needed()
    expect(launch_button(narrow, reel_id)).to_be_in_viewport()  # the sticky launch bar came along
    expect(launch_button(narrow, reel_id)).to_be_enabled()
    snap(narrow, "first-use-compose-390")
