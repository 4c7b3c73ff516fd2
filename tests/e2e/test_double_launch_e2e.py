"""Double launches in a real browser: a double-click on Launch, plus a second tab pressing Launch on the
same reel at the same moment, make exactly one HeyGen video (the sandbox's own count says so)."""

from __future__ import annotations

import time

from playwright.sync_api import BrowserContext, Page, expect
from sqlalchemy import create_engine, text

from tests.e2e.conftest import AppServer, open_page, snap
from tests.e2e.reel_steps import USER, launch_button, open_reel, seed_ready_reel

QUEUED_MESSAGE = "Queued — the worker will submit it to HeyGen within a few seconds."
ALREADY = "Already launched: This reel was already launched"


def reel_state(server: AppServer, reel_id: int) -> tuple[str, int]:
    """``(status, number of attempts)`` of the reel in the app's database."""
    engine = create_engine(f"sqlite:///{server.data_dir / 'reels.db'}")
    try:
        with engine.connect() as conn:
            status = conn.execute(text("SELECT status FROM reels WHERE id = :r"), {"r": reel_id}).scalar_one()
            attempts = conn.execute(text("SELECT COUNT(*) FROM reel_attempts WHERE reel_id = :r"),
                                    {"r": reel_id}).scalar_one()
            return status, attempts
    finally:
        engine.dispose()


def wait_for_status(server: AppServer, reel_id: int, wanted: set[str], timeout_s: float = 120.0) -> str:
    """Poll the database until the reel reaches one of ``wanted`` (the worker runs in the app process)."""
    deadline = time.monotonic() + timeout_s
    status = ""
    while time.monotonic() < deadline:
        status, _ = reel_state(server, reel_id)
        if status in wanted:
            return status
        time.sleep(0.5)
    raise AssertionError(f"reel {reel_id} is still {status!r} after {timeout_s:.0f} s (wanted {sorted(wanted)})")


def videos_created(server: AppServer) -> int:
    """How many videos HeyGen (the app's in-process sandbox) has been asked to make, from its own stats."""
    return server.sandbox_stats()["videos_created"]


def assert_one_video_for(server: AppServer, reel_id: int, videos_before: int) -> None:
    """Once the reel is rendered: one attempt recorded, and exactly one more video at the sandbox."""
    assert wait_for_status(server, reel_id, {"completed", "failed"}) == "completed"
    _, attempts = reel_state(server, reel_id)
    assert attempts == 1, f"{attempts} launch attempts recorded"
    stats = server.sandbox_stats()
    assert stats["videos_created"] - videos_before == 1, stats


def test_double_click_makes_one_video(page: Page, app_server: AppServer) -> None:
    open_page(page, app_server, "/Compose", user=USER)  # starts the app: database, sandbox, worker
    before = videos_created(app_server)
    reel_id = seed_ready_reel(app_server, "E2E double click")
    open_reel(page, app_server, reel_id)
    expect(launch_button(page, reel_id)).to_be_enabled()

    launch_button(page, reel_id).dblclick()
    # The person who double-clicked sees their launch, not "already launched".
    expect(page.get_by_text(QUEUED_MESSAGE)).to_be_visible()
    expect(page.get_by_text(ALREADY)).to_have_count(0)
    expect(launch_button(page, reel_id)).to_be_disabled()
    snap(page, "double-launch-01-double-click", focus=page.locator(".st-key-c_estimate"))
    assert_one_video_for(app_server, reel_id, before)


def test_second_tab_and_double_click_make_one_video(page: Page, context: BrowserContext,
                                                    app_server: AppServer) -> None:
    open_page(page, app_server, "/Compose", user=USER)
    before = videos_created(app_server)
    reel_id = seed_ready_reel(app_server, "E2E two tabs")
    other = context.new_page()  # a second tab on the same reel, same person
    open_reel(page, app_server, reel_id)
    open_reel(other, app_server, reel_id)
    expect(launch_button(page, reel_id)).to_be_enabled()
    expect(launch_button(other, reel_id)).to_be_enabled()

    # Both tabs at once: a double-click in the first, a click in the second (still drawn enabled).
    launch_button(page, reel_id).dblclick()
    launch_button(other, reel_id).click()

    # Exactly one tab queued it; the other was told it is already launched.
    for tab in (page, other):
        expect(tab.get_by_text(QUEUED_MESSAGE).or_(tab.get_by_text(ALREADY))).to_be_visible()
    queued = [tab.get_by_text(QUEUED_MESSAGE).count() for tab in (page, other)]
    assert sorted(queued) == [0, 1], f"tabs showing the queued message: {queued}"
    snap(page, "double-launch-02-first-tab", focus=page.locator(".st-key-c_estimate"))
    snap(other, "double-launch-03-second-tab", focus=other.locator(".st-key-c_estimate"))
    assert_one_video_for(app_server, reel_id, before)
