"""Pure formatting of the dashboard: stage text, durations, dimensions, links, URLs, sizes."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, date, datetime, timedelta

import pandas as pd
import pytest
import responses

from core import config
from core.board import history as board_history
from core.board import rows as board_rows
from core.board import text as board_text
from core.board import videos as core_videos
from core.board.rows import BoardRow
from core.board.timing import RenderTimeModel

NOW = datetime(2026, 5, 12, 12, 0, tzinfo=UTC)
MODEL = RenderTimeModel(median_ratio=6.0, p90_ratio=12.0, samples=10, low_ratio=4.0)


def row(status: str, **kw) -> BoardRow:
    base = {name: None for name in BoardRow.__dataclass_fields__}
    base.update(id=1, title="Tour", owner="Ana", status=status, attempt=1, progress=0.0, stuck=False)
    base.update(kw)
    return BoardRow(**base)


@pytest.mark.parametrize(("seconds", "text"), [
    (None, "—"), (0, "0 s"), (44.6, "45 s"), (60, "1 min"), (150, "2 min"), (3600, "1 h"), (3900, "1 h 5 min"),
])
def test_human_duration(seconds, text):
    assert board_text.human_duration(seconds) == text


@pytest.mark.parametrize(("delta", "text"), [
    (timedelta(seconds=10), "just now"), (timedelta(minutes=3), "3 min ago"), (timedelta(hours=5), "5 h ago"),
    (timedelta(days=3), "3 days ago"),
])
def test_human_ago(delta, text):
    assert board_text.human_ago(NOW - delta, NOW) == text
    assert board_text.human_ago(None, NOW) == "never"


def test_status_labels_cover_every_status():
    from core.models import REEL_STATUSES

    assert set(board_text.STATUS_LABELS) == {*REEL_STATUSES, "stuck"} == set(board_text.STATUS_COLORS)
    assert board_text.status_label("pending") == "Pending at HeyGen"
    assert board_text.status_label("weird") == "weird"


def test_stage_text_per_status():
    assert board_text.stage_text(row("draft"), MODEL, NOW) == "Not launched yet"
    assert board_text.stage_text(row("queued"), MODEL, NOW) == "Queued — sent on the worker's next cycle"
    assert board_text.stage_text(row("queued", attempt=2), MODEL, NOW) == "Queued again (attempt 2)"
    assert board_text.stage_text(row("submitting"), MODEL, NOW) == "Sending to HeyGen"
    # 30 s video, 60 s elapsed: 4 × 30 − 60 = 60 s soonest, 12 × 30 − 60 = 300 s latest
    rendering = row("processing", submitted_at=NOW - timedelta(seconds=60), estimated_duration_s=30.0)
    assert board_text.stage_text(rendering, MODEL, NOW) == "Rendering — 1–5 min left"
    late = replace(rendering, submitted_at=NOW - timedelta(seconds=400))
    assert board_text.stage_text(late, MODEL, NOW) == "Rendering — taking longer than usual"
    almost = replace(rendering, submitted_at=NOW - timedelta(seconds=340))
    assert board_text.stage_text(almost, MODEL, NOW) == "Rendering — up to 20 s left"
    fast = replace(rendering, estimated_duration_s=5.0, submitted_at=NOW - timedelta(seconds=5))
    assert board_text.stage_text(fast, MODEL, NOW) == "Rendering — 15–55 s left"
    no_history = RenderTimeModel()
    assert board_text.stage_text(rendering, no_history, NOW) == (
        "Rendering — no finished render yet to time it (HeyGen: often 5–15 min per minute of video)")
    stuck = replace(late, stuck=True, processing_at=NOW - timedelta(minutes=45))
    assert board_text.stage_text(stuck, MODEL, NOW) == "⚠️ Stuck — no result after 45 min"
    assert board_text.stage_text(row("completed", duration_s=75.0), MODEL, NOW) == "Ready — 1 min video"
    assert board_text.stage_text(row("failed", attempt=3), MODEL, NOW) == "Failed (attempt 3)"
    assert board_text.stage_text(row("cancelled"), MODEL, NOW) == "Cancelled before submission"


@pytest.mark.parametrize(("soonest", "latest", "text"), [
    (10, 25, "10–25 s"), (-5, 40, "up to 40 s"), (20, 20, "about 20 s"), (70, 230, "1–4 min"),
    (0, 125, "up to 3 min"), (130, 170, "2–3 min"), (180, 180, "about 3 min"),
])
def test_eta_span(soonest, latest, text):
    assert board_text.eta_span(soonest, latest) == text


def test_failure_reason():
    assert board_text.failure_reason(row("completed")) is None
    assert board_text.failure_reason(row("failed")) == "HeyGen gave no reason."
    assert board_text.failure_reason(row("failed", failure_code="X", failure_message="Bad look.")) == "Bad look. (X)"


def test_day_bounds_cover_whole_days_in_the_zone():
    since, until = board_rows.day_bounds(date(2026, 5, 1), date(2026, 5, 2), "Europe/Berlin")
    assert since == datetime(2026, 4, 30, 22, 0, tzinfo=UTC)
    assert until == datetime(2026, 5, 2, 22, 0, tzinfo=UTC)
    assert board_rows.day_bounds(None, None) == (None, None)


def test_table_and_csv_of_no_rows():
    frame = board_rows.board_table(pd.DataFrame(columns=board_rows._FETCH), MODEL, NOW, 30.0)
    assert list(frame.columns) == board_rows.FRAME_COLUMNS and frame.empty
    assert board_history.board_csv(frame).decode().strip() == ",".join(board_history.CSV_COLUMNS.values())


@pytest.mark.parametrize(("aspect", "resolution", "size"), [
    ("16:9", "1080p", (1920, 1080)), ("9:16", "1080p", (1080, 1920)), ("1:1", "720p", (720, 720)),
    ("4:5", "1080p", (1080, 1350)), ("16:9", "4k", (3840, 2160)), ("auto", "1080p", None), ("16:9", "8k", None),
])
def test_dimensions(aspect, resolution, size):
    assert core_videos.dimensions(aspect, resolution) == size


def test_links_expired():
    class R:
        video_url = "https://cdn.example.com/v.mp4"
        links_expire_at = NOW + timedelta(hours=1)

    assert not core_videos.links_expired(R(), NOW)
    assert core_videos.links_expired(R(), NOW + timedelta(minutes=59))
    R.links_expire_at = None
    assert not core_videos.links_expired(R(), NOW)
    R.video_url = None
    assert core_videos.links_expired(R(), NOW)


@pytest.mark.parametrize(("url", "ok"), [
    ("https://files.heygen.ai/v.mp4?Expires=1", True), ("http://127.0.0.1:8787/_sandbox/files/x", False),
    ("http://localhost/x.mp4", False), ("/media/x.mp4", False), (None, False),
])
def test_browser_can_fetch(url, ok):
    assert core_videos.browser_can_fetch(url) is ok


def test_file_name_and_sizes():
    assert core_videos.file_name("Spring launch: v2!", "3f9a2c1d55", ".mp4") == "Spring_launch_v2-3f9a2c1d.mp4"
    assert core_videos.file_name("", None, ".srt") == "reel.srt"
    assert core_videos.human_size(None) == "—"
    assert core_videos.human_size(999) == "999 bytes"
    assert core_videos.human_size(4_200_000) == "4.2 MB"


@responses.activate
def test_remote_size_reads_content_range_and_sends_no_key():
    url = "https://files.example.com/v.mp4?Signature=abc"
    responses.get(url, status=206, headers={"Content-Range": "bytes 0-0/123456"}, body=b"x")
    assert core_videos.remote_size(url) == 123456
    sent = responses.calls[0].request.headers
    assert sent["Range"] == "bytes=0-0" and "X-Api-Key" not in sent


@responses.activate
def test_remote_size_unknown_on_error():
    responses.get("https://files.example.com/gone.mp4", status=403)
    assert core_videos.remote_size("https://files.example.com/gone.mp4") is None


@pytest.mark.parametrize(("url", "shown"), [
    ("redis://:s3cret@cache.internal:6379/0", "redis://:***@cache.internal:6379/0"),
    ("redis://user:pw@host/1", "redis://user:***@host/1"),
    ("redis://cache:6379/0", "redis://cache:6379/0"),
    ("/data/http_cache_live.sqlite", "/data/http_cache_live.sqlite"),
])
def test_hide_password(url, shown):
    assert config.hide_password(url) == shown


def _raw(rows: list[BoardRow]) -> pd.DataFrame:
    return pd.DataFrame({name: pd.Series([getattr(r, name) for r in rows], dtype=object) for name in board_rows._FETCH})


@pytest.mark.parametrize("status", ["pending", "processing"])
def test_vectorised_table_matches_the_per_row_functions(status):
    """Stage, progress and stuck of many rendering reels equal stage_text / progress / is_stuck per row."""
    from core.board.timing import is_stuck

    rows = [row(status, id=i, submitted_at=NOW - timedelta(seconds=s), estimated_duration_s=d,
                processing_at=(NOW - timedelta(seconds=s)) if status == "processing" else None)
            for i, (s, d) in enumerate([(s, d) for s in (0, 20, 100, 170, 175, 400, 900, 2000, 7300)
                                        for d in (None, 0.0, 12.0, 30.0, 95.0)])]
    rows += [row(status, id=999, estimated_duration_s=20.0), row("queued", id=1000, attempt=3),
             row("completed", id=1001, duration_s=61.0), row("completed", id=1002), row("failed", id=1003, attempt=2)]
    frame = board_rows.board_table(_raw(rows), MODEL, NOW, 30.0)
    for (_, got), r in zip(frame.iterrows(), rows, strict=True):
        stuck = is_stuck(r, MODEL, NOW, 30.0)
        assert bool(got["stuck"]) is stuck, r
        assert got["progress"] == pytest.approx(MODEL.progress(r, NOW)), r
        assert got["stage"] == board_text.stage_text(replace(r, stuck=stuck), MODEL, NOW), r
