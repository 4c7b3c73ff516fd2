"""A batch in a real browser: a 50-row CSV in, 50 reels completed in the sandbox, the results file out."""

from __future__ import annotations

import csv
import io
import time

import pytest
from playwright.sync_api import Page, expect
from sqlalchemy import create_engine, text

from core.db import make_engine, make_session_factory, session_scope
from core.reels.batches import save_as_template
from core.reels.drafts import create_reel
from core.reels.validation import SceneInput
from tests.e2e.conftest import AppServer, key_button, open_page, snap
from tests.e2e.reel_steps import SCENES, USER
from tests.people import signed_in

ROWS = 50


@pytest.fixture(scope="module")
def app_env() -> dict[str, str]:
    """Fast renders and room for many reels in flight, so 50 reels finish in well under a minute."""
    return {"SANDBOX_TIME_SCALE": "0.01", "HEYGEN_CONCURRENCY": "20", "POLL_INTERVAL_SECONDS": "0.5"}


def _seed_template(server: AppServer) -> int:
    engine = make_engine(f"sqlite:///{server.data_dir / 'reels.db'}")
    try:
        with session_scope(make_session_factory(engine)) as session:
            reel = create_reel(session, actor=signed_in(session, USER), title="Welcome {{ first_name }}", scenes=[
                SceneInput(position=n, avatar_id=s.look_id, voice_id=s.voice_id,
                           script=("Hi {{ first_name }}, welcome to {{ team }}. " if n == 1 else "") + s.script)
                for n, s in enumerate(SCENES, start=1)])
            return save_as_template(session, reel.id, actor=signed_in(session, USER)).id
    finally:
        engine.dispose()


def _statuses(server: AppServer) -> dict[str, int]:
    engine = create_engine(f"sqlite:///{server.data_dir / 'reels.db'}")
    try:
        with engine.connect() as conn:
            rows = conn.execute(text("SELECT status, count(*) FROM reels WHERE batch_id IS NOT NULL GROUP BY status"))
            return dict(rows.all())
    finally:
        engine.dispose()


def test_a_spreadsheet_becomes_a_batch_of_completed_reels_and_a_results_file(page: Page, app_server: AppServer):
    open_page(page, app_server, "/", user=USER)  # the first run migrates the database
    template_id = _seed_template(app_server)
    open_page(page, app_server, f"/Batches?b_template={template_id}", user=USER)
    sheet = "first_name,team\n" + "\n".join(f"Person {i},Team {i % 4}" for i in range(1, ROWS + 1)) + "\n"
    page.locator(".st-key-b_file input[type=file]").set_input_files(
        files=[{"name": "people.csv", "mimeType": "text/csv", "buffer": sheet.encode()}])
    ready = page.get_by_test_id("stMetric").filter(has_text="Ready").get_by_test_id("stMetricValue")
    expect(ready).to_have_text(str(ROWS), timeout=60_000)
    snap(page, "batches-preview")
    page.locator(".st-key-b_confirm label").click()
    expect(key_button(page, "b_go")).to_be_enabled()
    key_button(page, "b_go").click()
    expect(page.get_by_text(f"{ROWS} reels queued.")).to_be_visible(timeout=60_000)
    deadline = time.monotonic() + 180
    while time.monotonic() < deadline and _statuses(app_server).get("completed", 0) < ROWS:
        time.sleep(1)
    assert _statuses(app_server) == {"completed": ROWS}
    assert app_server.sandbox_stats()["videos_created"] == ROWS
    page.reload()
    open_page(page, app_server, "/Batches", user=USER)
    with page.expect_download() as download:
        key_button(page, "b_csv").click()
    rows = list(csv.DictReader(io.StringIO(download.value.path().read_text(encoding="utf-8-sig"))))
    assert [r["first_name"] for r in rows] == [f"Person {i}" for i in range(1, ROWS + 1)]
    assert {r["status"] for r in rows} == {"completed"} and all(r["video_id"] for r in rows)
    snap(page, "batches-done")
