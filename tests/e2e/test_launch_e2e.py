"""Launch in a real browser: the Status board, open before the launch in its own tab, follows the reel from
draft through queued/rendering to completed without a reload, and the Videos page plays the MP4."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import BrowserContext, Page, expect
from sqlalchemy import create_engine, text

from tests.e2e.conftest import AppServer, open_page, snap
from tests.e2e.reel_steps import MEDIA_READY_JS, USER, launch_button, open_reel, seed_ready_reel

TITLE = "E2E launch reel"
QUEUED_MESSAGE = "Queued — the worker will submit it to HeyGen within a few seconds."

#: Records every distinct state of the board's counters, so the states between two looks are not lost.
WATCH_COUNTERS_JS = """() => {
    window.__e2eNoReload = true;
    window.__e2eCounters = [];
    const read = () => {
        const out = {};
        for (const m of document.querySelectorAll('[data-testid="stMain"] [data-testid="stMetric"]')) {
            const label = m.querySelector('[data-testid="stMetricLabel"]');
            const value = m.querySelector('[data-testid="stMetricValue"]');
            if (label && value) out[label.innerText.trim()] = value.innerText.trim();
        }
        const key = JSON.stringify(out);
        const seen = window.__e2eCounters;
        if (Object.keys(out).length && (!seen.length || JSON.stringify(seen[seen.length - 1]) !== key)) seen.push(out);
    };
    read();
    new MutationObserver(read).observe(document.body, {subtree: true, childList: true, characterData: true});
}"""

@pytest.fixture(scope="module")
def app_env() -> dict[str, str]:
    """Renders slow enough (~10 s from launch) that the board, refreshing every 5 s from a 2 s cache,
    is sure to show the reel while it is queued or rendering."""
    return {"SANDBOX_TIME_SCALE": "0.6"}


def counter(page: Page, label: str):
    """The value of the Status page's counter ``label`` ("Queued", "Rendering", "Completed", …)."""
    return (page.get_by_test_id("stMain").get_by_test_id("stMetric")
            .filter(has=page.get_by_test_id("stMetricLabel").get_by_text(label, exact=True))
            .get_by_test_id("stMetricValue"))


def reel_history(server: AppServer, reel_id: int) -> list[str]:
    """The statuses reel ``reel_id`` went through, oldest first, from the app's database."""
    engine = create_engine(f"sqlite:///{server.data_dir / 'reels.db'}")
    try:
        with engine.connect() as conn:
            rows = conn.execute(text("SELECT to_status FROM reel_events WHERE reel_id = :r ORDER BY id"), {"r": reel_id})
            return [r.to_status for r in rows]
    finally:
        engine.dispose()


def test_launch_status_board_follows_the_reel_and_videos_plays_it(
        page: Page, context: BrowserContext, app_server: AppServer) -> None:
    open_page(page, app_server, "/Compose", user=USER)  # starts the app: database, sandbox, worker
    reel_id = seed_ready_reel(app_server, TITLE)

    # The Status board in its own tab, opened before the launch and never reloaded.
    board = context.new_page()
    open_page(board, app_server, "/Status", user=USER)
    expect(counter(board, "Drafts")).to_have_text("1")
    expect(counter(board, "Completed")).to_have_text("0")
    board.evaluate(WATCH_COUNTERS_JS)
    snap(board, "launch-01-board-before")

    open_reel(page, app_server, reel_id)
    expect(launch_button(page, reel_id)).to_be_enabled()
    launch_button(page, reel_id).click()
    expect(page.get_by_text(QUEUED_MESSAGE)).to_be_visible()
    expect(launch_button(page, reel_id)).to_be_disabled()  # a launched reel is no longer editable
    snap(page, "launch-02-queued", focus=page.locator(".st-key-c_estimate"))

    # The board moves on by itself: the draft leaves, the reel finishes.
    expect(counter(board, "Drafts")).to_have_text("0", timeout=60_000)
    expect(counter(board, "Completed")).to_have_text("1", timeout=120_000)
    expect(counter(board, "Queued")).to_have_text("0")
    expect(counter(board, "Rendering")).to_have_text("0")
    expect(counter(board, "Failed")).to_have_text("0")
    snap(board, "launch-03-board-completed")
    assert board.evaluate("window.__e2eNoReload === true"), "the Status page was reloaded"
    seen = board.evaluate("window.__e2eCounters")
    assert any(s.get("Queued") == "1" or s.get("Rendering") == "1" for s in seen), (
        f"the board never showed the reel queued or rendering: {seen}")
    assert seen[-1].get("Completed") == "1", seen
    history = reel_history(app_server, reel_id)
    assert "queued" in history and history[-1] == "completed", history
    assert history.index("queued") < history.index("completed"), history

    # The Videos page plays the finished MP4.
    page.get_by_test_id("stSidebar").get_by_role("link", name="Videos").click()
    expect(page).to_have_url(re.compile(r"/Videos"))
    expect(page.get_by_test_id("stMain").get_by_role("heading", name=TITLE)).to_be_visible(timeout=60_000)
    video = page.get_by_test_id("stMain").locator("video").first
    expect(video).to_be_attached(timeout=60_000)
    media = video.evaluate(MEDIA_READY_JS)
    assert media["error"] is None, media
    assert media["duration"] > 0, media
    assert media["width"] > 0, media
    played = video.evaluate("""async (v) => {
        v.muted = true; const start = v.currentTime; await v.play();
        const deadline = Date.now() + 20000;
        while (v.currentTime <= start && !v.error && Date.now() < deadline) await new Promise(r => setTimeout(r, 100));
        v.pause(); return {start, now: v.currentTime, error: v.error && v.error.code};
    }""")
    assert played["error"] is None and played["now"] > played["start"], played
    snap(page, "launch-04-video")
