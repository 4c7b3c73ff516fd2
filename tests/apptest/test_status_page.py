"""Status page: the board, its URL-bound filters, retry/cancel by row selection, CSV export, stuck flags."""

from __future__ import annotations

import csv
import io
import json
from datetime import timedelta

import pyarrow as pa
import pytest
from sqlalchemy import select
from streamlit.runtime.media_file_manager import MediaFileManager

from core.board.history import CSV_COLUMNS
from core.models import Reel, utcnow
from tests.apptest.reel_states import make_reel
from ui.text import plain

PAGE = "pages/4_Status.py"

# title, status, owner, days ago
SEED = [
    ("Spring launch teaser", "completed", "Ana", 0),
    ("Onboarding part 1", "failed", "Ana", 0),
    ("Onboarding part 2", "queued", "Ana", 0),
    ("Quarterly update", "processing", "Bruno", 0),
    ("Old webinar recap", "completed", "Bruno", 3),
    ("Safety briefing", "cancelled", "Chen", 0),
    ("Draft idea", "draft", "Chen", 0),
    ("Frozen render", "processing", "Chen", 0),
]
FAILURE = ("INSUFFICIENT_CREDIT", "Your HeyGen balance is too low for this render.")


@pytest.fixture(scope="module")
def seeded(app_runtime):
    """The worker is stopped (it would submit the queued reels); then reels in every state are created."""
    if app_runtime.worker is not None:
        app_runtime.worker.stop()
    ids = {}
    with app_runtime.session_factory() as session:
        for title, status, owner, days in SEED:
            ago = timedelta(days=days, minutes=5) if title != "Frozen render" else timedelta(hours=2)
            reel = make_reel(session, title, status, owner=owner, ago=ago,
                             failure=FAILURE if status == "failed" else None)
            ids[title] = reel.id
    return ids


def _table(at):
    assert not at.exception, at.exception
    return at.dataframe[0].value


def _titles(at) -> set[str]:
    return set(_table(at)["title"])


def _status_of(app_runtime, reel_id: int) -> str:
    with app_runtime.session_factory() as session:
        return session.execute(select(Reel.status).where(Reel.id == reel_id)).scalar_one()


def test_board_shows_every_reel_with_status_stage_and_failure_reason(open_page, seeded):
    at = open_page(PAGE)
    table = _table(at)
    assert set(table["title"]) == {t for t, *_ in SEED}
    row = table.set_index("title").loc["Onboarding part 1"]
    assert list(row["status_tags"]) == ["failed"]
    assert row["failure"] == f"{FAILURE[1]} ({FAILURE[0]})"
    done = table.set_index("title").loc["Spring launch teaser"]
    assert done["progress"] == 1.0 and done["video"].endswith(".mp4")
    assert {m.label: m.value for m in at.metric}["Failed"] == "1"


def test_stuck_reel_is_flagged(open_page, seeded):
    at = open_page(PAGE)
    table = _table(at).set_index("title")
    assert list(table.loc["Frozen render", "status_tags"]) == ["processing", "stuck"]
    assert table.loc["Frozen render", "stage"].startswith("⚠️ Stuck")
    assert list(table.loc["Quarterly update", "status_tags"]) == ["processing"]
    assert any("Frozen render" in w.value for w in at.warning)


@pytest.mark.parametrize(("query", "expected"), [
    ({"s_status": ["failed", "queued"]}, lambda t, s, o, d: s in ("failed", "queued")),
    ({"s_owner": "Bruno"}, lambda t, s, o, d: o == "Bruno"),
    ({"s_q": "onboarding"}, lambda t, s, o, d: "onboarding" in t.lower()),
    ({"s_from": str((utcnow() - timedelta(days=1)).date())}, lambda t, s, o, d: d == 0),
    ({"s_to": str((utcnow() - timedelta(days=2)).date())}, lambda t, s, o, d: d >= 3),
    ({"s_status": ["completed"], "s_owner": "Bruno"}, lambda t, s, o, d: s == "completed" and o == "Bruno"),
], ids=["status", "owner", "text", "from", "to", "status+owner"])
def test_filters_from_the_url_narrow_to_exactly_the_matching_reels(open_page, seeded, query, expected):
    at = open_page(PAGE, query=query)
    want = {t for t, s, o, d in SEED if expected(t, s, o, d)}
    assert want, "each case must match something"
    assert _titles(at) == want


def test_no_match_says_so(open_page, seeded):
    at = open_page(PAGE, query={"s_q": "no such reel"})
    assert not at.exception
    assert not at.dataframe
    assert any("No reel matches" in i.value for i in at.info)


def _select(at, titles: list[str]):
    table = _table(at)
    rows = [int(i) for i in table.index[table["title"].isin(titles)]]
    at.session_state["s_table"] = {"selection": {"rows": rows, "columns": [], "cells": []}}
    at.run()
    assert not at.exception, at.exception


def test_retry_a_selected_failed_reel_queues_it_again(open_page, seeded, app_runtime):
    at = open_page(PAGE, query={"s_status": ["failed"]})
    _select(at, ["Onboarding part 1"])
    retry = at.button(key="s_retry")
    assert not retry.disabled and at.button(key="s_cancel").disabled
    retry.click().run()
    assert not at.exception, at.exception
    assert _status_of(app_runtime, seeded["Onboarding part 1"]) == "queued"
    assert any("attempt 2" in t.value for t in at.toast)


def test_cancel_a_selected_queued_reel(open_page, seeded, app_runtime):
    at = open_page(PAGE, query={"s_q": "Onboarding part 2"})
    _select(at, ["Onboarding part 2"])
    at.button(key="s_cancel").click().run()
    assert not at.exception, at.exception
    assert _status_of(app_runtime, seeded["Onboarding part 2"]) == "cancelled"
    assert list(_table(at).set_index("title").loc["Onboarding part 2", "status_tags"]) == ["cancelled"]


def test_someone_elses_reels_cannot_be_retried_or_cancelled(open_page, seeded, app_runtime):
    with app_runtime.session_factory() as session:
        make_reel(session, "Ana's failed one", "failed", owner="Ana")
        make_reel(session, "Ana's queued one", "queued", owner="Ana")
    at = open_page(PAGE, user="Zoe", query={"s_status": ["failed", "queued"]})
    _select(at, ["Ana's failed one", "Ana's queued one"])
    retry, cancel = at.button(key="s_retry"), at.button(key="s_cancel")
    assert retry.disabled and cancel.disabled
    assert retry.help == plain("Only Ana (owner) or an admin can retry this reel.")
    assert cancel.help == plain("Only Ana (owner) or an admin can cancel this reel.")


def test_csv_export_holds_the_filtered_reels(open_page, seeded, monkeypatch):
    makers = []
    original = MediaFileManager.add_deferred

    def record(self, data_callable, *args, **kwargs):
        makers.append(data_callable)
        return original(self, data_callable, *args, **kwargs)

    monkeypatch.setattr(MediaFileManager, "add_deferred", record)
    at = open_page(PAGE, query={"s_owner": "Bruno"})
    assert not at.exception
    assert makers, "the Export CSV button registers its file"
    lines = list(csv.DictReader(io.StringIO(makers[-1]().decode("utf-8"))))
    assert {line["title"] for line in lines} == {t for t, s, o, d in SEED if o == "Bruno"}
    assert {line["owner"] for line in lines} == {"Bruno"}
    by_title = {line["title"]: line for line in lines}
    assert by_title["Old webinar recap"]["status"] == "completed"
    assert by_title["Old webinar recap"]["video_url"].endswith(".mp4")
    assert list(lines[0]) == list(CSV_COLUMNS.values())


def test_history_charts_render(open_page, seeded):
    at = open_page(PAGE)
    assert not at.exception
    assert len(at.get("vega_lite_chart")) == 2


def test_the_owner_can_cancel_their_own_reel(open_page, seeded, app_runtime):
    with app_runtime.session_factory() as session:
        rid = make_reel(session, "Zed's queued one", "queued", owner="Zed").id
    at = open_page(PAGE, user="Zed", query={"s_status": ["queued"]})
    _select(at, ["Zed's queued one"])
    assert not at.button(key="s_cancel").disabled
    at.button(key="s_cancel").click().run()
    assert _status_of(app_runtime, rid) == "cancelled"


def test_a_selected_finished_reel_offers_watch(open_page, seeded):
    at = open_page(PAGE)
    _select(at, ["Spring launch teaser"])
    links = [p for p in at.get("page_link") if p.proto.label == "Watch it on Videos"]
    assert len(links) == 1 and links[0].proto.query_string == f"vid_reel={seeded['Spring launch teaser']}"
    _select(at, ["Onboarding part 1"])
    assert not [p for p in at.get("page_link") if p.proto.label == "Watch it on Videos"]


def test_queued_reels_say_they_wait_for_the_worker_and_untitled_reels_read_as_in_compose(open_page, app_runtime,
                                                                                        seeded):
    with app_runtime.session_factory() as session:
        untitled = make_reel(session, "", "draft", owner="Dora").id
        make_reel(session, "Waiting line", "queued", owner="Dora")
    app_runtime.boards.expire()  # the board's shared read is 2 s old by the next tick
    at = open_page(PAGE)
    table = _table(at).set_index("title")
    assert table.loc["Waiting line", "stage"] == "Queued — sent on the worker's next cycle"
    assert f"Untitled reel #{untitled}" in table.index  # as Compose names it
    assert not any("slots are busy" in c.value for c in at.caption)  # 2 rendering of 10 slots


def _charts(node) -> list:
    """Every Vega-Lite chart in the page tree (AppTest has no typed accessor for them)."""
    found = [node] if getattr(node, "type", "") in ("arrow_vega_lite_chart", "vega_lite_chart") else []
    for child in getattr(node, "children", {}).values():
        found.extend(_charts(child))
    return found


def _launched_bars(at) -> int:
    """Reels counted as launched in the history chart (its data as the browser gets it)."""
    chart = _charts(at._tree)[0].proto
    spec = json.loads(chart.spec)
    assert spec["encoding"]["y"]["axis"]["format"] == "d"  # whole reels, never 0.5
    # Side by side on a band axis, never stacked: one reel launched and finished reads 1 and 1, not 2.
    assert "xOffset" in spec["encoding"] and spec["encoding"]["x"]["type"] == "ordinal"
    assert spec["encoding"]["y"]["stack"] is None
    raw = chart.datasets[0].data.data if chart.datasets else chart.data.data
    data = pa.ipc.open_stream(raw).read_all().to_pandas()
    return int(data.loc[data["event"] == "launched", "reels"].sum())


def test_history_follows_the_board_without_waiting_for_its_cache(open_page, app_runtime, seeded):
    at = open_page(PAGE)
    before = _launched_bars(at)
    with app_runtime.session_factory() as session:
        make_reel(session, "Just launched", "queued", owner="Eli")
    app_runtime.boards.expire()  # the board's shared read is 2 s old by the next tick
    at.run()  # what that tick does (the history cache itself is 30 s)
    assert _launched_bars(at) == before + 1
