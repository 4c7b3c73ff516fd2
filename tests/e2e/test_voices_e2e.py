"""Voices in a real browser: filters through the widgets, the URL carries them, a reload restores
them, and a selected voice's HeyGen preview plays.

The table is a canvas grid (no DOM text), so what it shows is checked through the "N of 2,326
voices" caption against a count computed here straight from the sandbox catalog, and by selecting
rows (the selection puts the row's ``voice_id`` into the URL as ``v_voice``).
"""

from __future__ import annotations

import re
from urllib.parse import parse_qs, urlparse

import pytest
from playwright.sync_api import Page, expect

from core.catalog.normalise import locales_for, normalise_gender, normalise_language
from core.sandbox.catalog import load_sandbox_catalog
from tests.e2e.conftest import AppServer, open_page, snap, wait_for_app_run

#: The grid's geometry (Streamlit's e2e utilities): header and rows are 35 px, the row marker 30 px wide.
ROW_PX = 35
MARKER_X = 15


@pytest.fixture(scope="module")
def expected_ids() -> set[str]:
    """Spanish, female voices offering the es-MX accent, computed from the raw sandbox catalog with the
    normalisation rules only (not the page's table or filter code)."""
    return {
        v["voice_id"] for v in load_sandbox_catalog().voices
        if normalise_language(v["language"]) == "Spanish" and normalise_gender(v["gender"]) == "female"
        and "es-MX" in locales_for(v["language"], v["support_locale"])
    }


def count_caption(page: Page, n: int | str):
    return page.get_by_text(re.compile(rf"^{n} of 2,326 voices"))


def pick_option(page: Page, key: str, typed: str, option: re.Pattern) -> None:
    """Type into the multiselect ``key`` and click the option matching ``option``."""
    box = page.locator(f".st-key-{key} input")
    box.click()
    box.fill(typed)
    page.get_by_role("option", name=option).click()
    page.keyboard.press("Escape")


def select_row(page: Page, row: int) -> None:
    """Click the row marker of data row ``row`` (0-based) of the voices grid."""
    page.get_by_test_id("stDataFrame").click(position={"x": MARKER_X, "y": ROW_PX * (row + 1) + ROW_PX // 2})


def selected_voice(page: Page) -> str:
    expect(page).to_have_url(re.compile(r"[?&]v_voice=[0-9A-Za-z_-]+"))
    return parse_qs(urlparse(page.url).query)["v_voice"][0]


def test_filters_narrow_the_table_live_in_the_url_and_survive_a_reload(
        page: Page, app_server: AppServer, expected_ids: set[str]) -> None:
    assert len(expected_ids) > 5  # the check below means something only with a real subset
    open_page(page, app_server, "/Voices")
    expect(count_caption(page, "2,326")).to_be_visible()
    snap(page, "voices-01-unfiltered")

    pick_option(page, "v_lang", "Spanish", re.compile(r"^Spanish \(\d+\)$"))
    expect(count_caption(page, r"1\d\d")).to_be_visible()  # 106 Spanish voices
    page.locator(".st-key-v_gender").get_by_role("button", name=re.compile(r"^Female")).click()
    expect(page.locator(".st-key-v_gender").get_by_role("button", name=re.compile(r"^Female"))).to_have_attribute(
        "aria-pressed", "true")
    pick_option(page, "v_accent", "Mexico", re.compile(r"^Spanish \(Mexico\)"))
    expect(count_caption(page, len(expected_ids))).to_be_visible()
    wait_for_app_run(page)
    expect(count_caption(page, r"[\d,]+")).to_have_count(1)
    snap(page, "voices-02-filtered")

    # The URL carries every filter as its raw value, never a label with a count.
    for param in ("v_lang", "v_gender", "v_accent"):
        expect(page).to_have_url(re.compile(rf"[?&]{param}="))
    query = parse_qs(urlparse(page.url).query)
    assert (query["v_lang"], query["v_gender"], query["v_accent"]) == (["Spanish"], ["female"], ["es-MX"])

    # Rows the grid shows are matching voices: the first and the last one visible without scrolling.
    seen: list[str] = []
    for row in (0, 10):
        select_row(page, row)
        if seen:
            expect(page).not_to_have_url(re.compile(rf"v_voice={seen[-1]}"))
        voice_id = selected_voice(page)
        assert voice_id in expected_ids, f"row {row} shows {voice_id}, which is not a Spanish es-MX female voice"
        expect(page.locator(".st-key-v_detail")).to_be_visible()
        seen.append(voice_id)
    assert len(set(seen)) == 2

    # A reload restores the same view: the caption and the widgets' selections.
    page.reload()
    wait_for_app_run(page, 120_000)
    expect(count_caption(page, len(expected_ids))).to_be_visible()
    expect(page.locator(".st-key-v_lang [data-tag]")).to_have_count(1)
    expect(page.locator(".st-key-v_lang")).to_contain_text("Spanish")
    expect(page.locator(".st-key-v_accent [data-tag]")).to_have_count(1)
    expect(page.locator(".st-key-v_accent")).to_contain_text("Mexico")
    pressed = page.locator(".st-key-v_gender button[aria-pressed='true']")
    expect(pressed).to_have_count(1)
    expect(pressed).to_contain_text("Female")
    snap(page, "voices-03-reloaded")


def test_a_selected_voice_preview_plays(page: Page, app_server: AppServer, expected_ids: set[str]) -> None:
    # Plain links with raw values work, and stay in the address bar (a copy or a reload keeps them).
    open_page(page, app_server, "/Voices?v_lang=Spanish&v_gender=female&v_accent=es-MX")
    expect(count_caption(page, len(expected_ids))).to_be_visible()
    wait_for_app_run(page)
    query = parse_qs(urlparse(page.url).query)
    assert (query["v_lang"], query["v_gender"], query["v_accent"]) == (["Spanish"], ["female"], ["es-MX"])
    select_row(page, 0)
    assert selected_voice(page) in expected_ids
    detail = page.locator(".st-key-v_detail")
    expect(detail.get_by_text("HeyGen preview")).to_be_visible()
    audio = detail.locator("audio").first
    expect(audio).to_be_attached()
    snap(page, "voices-04-detail")

    result = audio.evaluate(
        """async (a) => {
            if (a.readyState < 1) {
                await new Promise((ok, bad) => {
                    a.addEventListener('loadedmetadata', ok, {once: true});
                    a.addEventListener('error', () => bad(new Error('media error ' + (a.error && a.error.code))),
                                       {once: true});
                    a.load();
                });
            }
            const start = a.currentTime;
            await a.play();
            const deadline = Date.now() + 20000;
            while (a.currentTime <= start && !a.error && Date.now() < deadline) {
                await new Promise(r => setTimeout(r, 100));
            }
            const out = {start, now: a.currentTime, duration: a.duration, error: a.error && a.error.code,
                         paused: a.paused};
            a.pause();
            return out;
        }""")
    assert result["error"] is None, result
    assert result["duration"] > 0, result
    assert result["now"] > result["start"], f"the preview did not advance: {result}"
    snap(page, "voices-05-playing")
