"""core.board / core.overview / core.videos against SQLite and PostgreSQL: what the dashboard pages read."""

from __future__ import annotations

import csv
import io
from datetime import UTC, datetime, timedelta

import pandas as pd
import pytest
from sqlalchemy import delete, insert, update

from core.board import history as board_history
from core.board import overview
from core.board import rows as board_rows
from core.board import text as board_text
from core.board import videos as core_videos
from core.board.rows import BoardFilter, load_board
from core.jobs import lease
from core.models import Reel, ReelEvent, WorkerLease, utcnow
from tests.apptest.reel_states import make_reel

SEED = [
    ("Spring teaser", "completed", "Ana", timedelta(minutes=30)),
    ("Tour", "failed", "Ana", timedelta(minutes=20)),
    ("Update", "processing", "Bruno", timedelta(minutes=1)),
    ("Stalled", "processing", "Bruno", timedelta(hours=5)),
    ("Idea", "draft", "Chen", timedelta(0)),
    ("Old recap", "completed", "Chen", timedelta(days=4)),
    ("Waiting", "queued", "Ana", timedelta(minutes=2)),
]


@pytest.fixture
def seeded(session_factory):
    with session_factory() as session:
        for title, status, owner, ago in SEED:
            make_reel(session, title, status, owner=owner, ago=ago,
                      failure=("INSUFFICIENT_CREDIT", "Top up your balance.") if status == "failed" else None)
    return session_factory


def _titles(frame) -> set[str]:
    return set(frame["title"])


@pytest.mark.parametrize(("f", "expected"), [
    (BoardFilter(), {t for t, *_ in SEED}),
    (BoardFilter(statuses=("processing",)), {"Update", "Stalled"}),
    (BoardFilter(owner="Chen"), {"Idea", "Old recap"}),
    (BoardFilter(query="TEASER"), {"Spring teaser"}),
    (BoardFilter(start=(utcnow() - timedelta(days=1)).date()), {t for t, *_, ago in SEED if ago < timedelta(days=1)}),
    (BoardFilter(end=(utcnow() - timedelta(days=3)).date()), {"Old recap"}),
    (BoardFilter(statuses=("completed",), owner="Ana"), {"Spring teaser"}),
])
def test_load_board_filters(seeded, f, expected):
    with seeded() as session:
        frame, _ = load_board(session, f)
    assert _titles(frame) == expected


def test_frame_columns_stage_and_stuck(seeded):
    with seeded() as session:
        frame, model = load_board(session, BoardFilter(), stuck_after_minutes=30)
    rows = frame.set_index("title")
    assert list(frame.columns) == board_rows.FRAME_COLUMNS
    assert rows.loc["Stalled", "stuck"] and not rows.loc["Update", "stuck"]
    assert rows.loc["Stalled", "stage"].startswith("⚠️ Stuck — no result after")
    assert rows.loc["Tour", "failure"] == "Top up your balance. (INSUFFICIENT_CREDIT)"
    assert rows.loc["Tour", "status_label"] == "Failed" and rows.loc["Stalled", "status_tags"] == ["processing", "stuck"]
    assert rows.loc["Spring teaser", "progress"] == 1.0 and rows.loc["Idea", "progress"] == 0.0
    assert 0 < rows.loc["Update", "progress"] < 1
    assert rows.loc["Spring teaser", "video"].endswith(".mp4") and pd.isna(rows.loc["Tour", "video"])
    assert str(frame["submitted"].dt.tz) == "UTC"
    assert frame["id"].is_unique


def test_table_matches_generation_board_row_by_row(seeded):
    """The vectorised table gives what core.board.rows.board and the per-row texts give."""
    now = utcnow()
    with seeded() as session:
        frame, model = load_board(session, BoardFilter(), stuck_after_minutes=30, now=now)
        rows = board_rows.board(session, model=model, now=now, stuck_after_minutes=30)
    assert frame["id"].tolist() == [r.id for r in rows]
    for (_, got), want in zip(frame.iterrows(), rows, strict=True):
        assert got["progress"] == pytest.approx(want.progress)
        assert bool(got["stuck"]) is want.stuck
        assert got["stage"] == board_text.stage_text(want, model, now)
        assert (None if pd.isna(got["failure"]) else got["failure"]) == board_text.failure_reason(want)
        assert got["status_label"] == board_text.status_label(want.status)
        submitted = want.submitted_at or want.queued_at
        assert (pd.isna(got["submitted"]) and submitted is None) or got["submitted"] == submitted
        assert got["updated"] == want.updated_at


def test_csv_has_one_line_per_reel(seeded):
    with seeded() as session:
        frame, _ = load_board(session, BoardFilter(owner="Ana"))
    lines = list(csv.DictReader(io.StringIO(board_history.board_csv(frame).decode())))
    assert {line["title"] for line in lines} == {"Spring teaser", "Tour", "Waiting"}
    tour = next(line for line in lines if line["title"] == "Tour")
    assert tour["status"] == "failed" and tour["failure_reason"].startswith("Top up")
    assert tour["submitted_utc"].endswith("+00:00")


def test_owners_and_history(seeded):
    with seeded() as session:
        assert board_history.owners(session) == ["Ana", "Bruno", "Chen"]
        timeline = board_history.status_timeline(session, days=14)
        renders = board_history.render_times(session)
    assert set(timeline.columns) == {"bucket", "status", "reels"}
    completed = timeline[timeline["status"] == "completed"]["reels"].sum()
    assert completed == 2
    assert len(renders) == 2 and (renders["render_min"] > 0).all()


def test_attention_finished_since_and_recent(seeded):
    now = utcnow()
    with seeded() as session:
        att = overview.attention(session, owner=None, now=now)
        assert [r.title for r in att.failed] == ["Tour"]
        assert [r.title for r in att.stuck] == ["Stalled"]
        assert overview.attention(session, owner="Chen", now=now).empty
        fresh = overview.finished_since(session, now - timedelta(hours=1))
        assert [r.title for r in fresh] == ["Spring teaser"]
        assert overview.finished_since(session, now - timedelta(hours=1), owner="Chen") == []
        assert [r.title for r in overview.recent_reels(session, owner="Chen")] == ["Idea", "Old recap"]


def test_last_seen_defaults_to_last_activity(session_factory):
    with session_factory() as session:
        now = utcnow()
        assert overview.default_last_seen(session, "Dana", now) == now - overview.DEFAULT_LOOKBACK
        make_reel(session, "Dana's draft", "draft", owner="Dana")
        seen = overview.default_last_seen(session, "Dana", now + timedelta(minutes=1))
        assert abs((seen - utcnow()).total_seconds()) < 60


def test_worker_status_from_lease(session_factory):
    now = utcnow()
    with session_factory() as session:
        assert lease.worker_status(session, lease_seconds=30, now=now).holder is None
        session.add(WorkerLease(name="worker", holder="host:1:abc", acquired_at=now - timedelta(minutes=5),
                                expires_at=now + timedelta(seconds=25)))
        session.commit()
        status = lease.worker_status(session, lease_seconds=30, now=now)
        assert status.alive and status.holder == "host:1:abc"
        assert status.last_cycle_at == now - timedelta(seconds=5)
        assert not lease.worker_status(session, lease_seconds=30, now=now + timedelta(minutes=1)).alive


def test_video_details_and_expiry(seeded):
    with seeded() as session:
        rows = core_videos.finished_videos(session)
        assert {r.title for r in rows} == {"Spring teaser", "Old recap"}
        reel_id = next(r.id for r in rows if r.title == "Spring teaser")
        d = core_videos.video_details(session, reel_id)
        assert (d.width, d.height) == (1920, 1080) and d.duration_s == 20.0 and d.cost_usd == 1.2
        assert not core_videos.links_expired(d)
        session.execute(update(Reel).where(Reel.id == reel_id).values(links_expire_at=utcnow() + timedelta(seconds=30)))
        session.commit()
        assert core_videos.links_expired(core_videos.video_details(session, reel_id))
        assert core_videos.video_details(session, 999_999) is None


@pytest.mark.parametrize("hours_apart, unit", [(30, "h"), (24 * 5, "D")])
def test_status_timeline_counts_status_changes_per_hour_or_day(session_factory, hours_apart, unit):
    """Buckets are hours when everything happened within two days, else UTC days; edits are not counted."""
    now = datetime(2026, 6, 15, 12, 30, tzinfo=UTC)
    first = now - timedelta(hours=hours_apart)
    events = [  # (at, from_status, to_status)
        (first + timedelta(minutes=5), "processing", "completed"),
        (first + timedelta(minutes=20), "processing", "completed"),
        (first + timedelta(minutes=25), "completed", "completed"),  # an edit, not a status change
        (first + timedelta(minutes=40), None, "draft"),
        (now - timedelta(minutes=10), "queued", "failed"),
        (now - timedelta(days=20), "processing", "completed"),  # older than the 14 days
    ]
    with session_factory() as session:
        reel = make_reel(session, "Timeline", "completed", owner="Ana")
        session.execute(delete(ReelEvent))
        session.execute(insert(ReelEvent), [{"reel_id": reel.id, "at": at, "actor": "worker", "from_status": a,
                                             "to_status": b, "detail": ""} for at, a, b in events])
        session.commit()
        got = board_history.status_timeline(session, days=14, now=now)
    want = pd.DataFrame([(at, b) for at, a, b in events[:5] if a != b and at >= now - timedelta(days=14)],
                        columns=["at", "status"])
    want["bucket"] = pd.to_datetime(want["at"], utc=True).dt.floor(unit)
    want = want.groupby(["bucket", "status"]).size().reset_index(name="reels")
    assert got["bucket"].dt.tz is not None
    assert sorted(zip(got["bucket"], got["status"], got["reels"], strict=True)) == \
        sorted(zip(want["bucket"], want["status"], want["reels"], strict=True))
