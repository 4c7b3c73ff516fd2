"""Status board at scale: one auto-refresh tick vs a floor page, pages' HeyGen calls, worker polling.

Data: 10,000 reels (1,000 active: pending/processing with a video_id) bulk-inserted with SQLAlchemy
into a fresh SQLite database (``--postgres URL`` adds a run on PostgreSQL), plus one attempt per
launched reel (the render-time model reads them).

1. Tick: the Status page is opened through ``app.py`` + ``switch_page`` in AppTest; then only its
   ``status_board`` fragment is rerun (AppTest cannot tick ``run_every``, so the benchmark sends the
   same fragment-scoped rerun the browser's timer sends: ``RerunData(fragment_id_queue=[id])``).
   Timed alternately against a floor script (``AppTest.from_string``) that only draws
   ``st.dataframe`` of the same board frame with the same column config. Two tick kinds:
   "expired" (``board_data``'s 2 s cache has expired: DB read + frame build, the one-tab case) and
   "shared" (another tab refreshed the cache within 2 s). Target: tick ≤ 1.3× floor.
2. Ten sessions: 10 AppTest instances open the Status page and tick; HeyGen calls counted with the
   sandbox's ``/_sandbox/stats`` before/after must be 0.
3. Worker: one ``Worker.run_once()`` poll cycle over the 1,000 active reels must make at most
   ⌈active/100⌉ ``GET /v3/videos/statuses`` calls; compared with a naive poller calling
   ``GET /v3/videos/{id}`` per reel. (The video ids are not known to the sandbox, so every answer is
   ``not_found``; reels were submitted just now, inside the worker's grace period, so none change.)

``--small``: 1,000 reels (100 active), 3 sessions, few runs.
"""

from __future__ import annotations

import contextlib
import functools
import os
import random
import sys
import tempfile
import uuid
from datetime import timedelta
from pathlib import Path

from _common import ROOT, alternate, ceil_div, figure, median, ms, parser, quiet, sandbox_stats, stats_delta

FLOOR_SCRIPT = """
import streamlit as st
import bench_board_store as store
from ui.status import DISPLAY_COLUMNS, column_config

st.dataframe(store.FRAME, column_config=column_config("UTC"), column_order=DISPLAY_COLUMNS, hide_index=True,
             height=min(38 + 35 * len(store.FRAME), 560))
"""

OWNERS = [f"Producer {i:02d}" for i in range(20)]


def insert_reels(session_factory, total: int, active: int, seed: int = 7) -> None:
    """Bulk-insert ``total`` reels, ``active`` of them pending/processing, plus their attempts."""
    from sqlalchemy import insert

    from core.models import Reel, ReelAttempt, utcnow

    rng = random.Random(seed)
    now = utcnow()
    others = ["completed"] * 70 + ["failed"] * 10 + ["draft"] * 10 + ["cancelled"] * 5 + ["queued"] * 5
    reels, attempts = [], []
    for i in range(1, total + 1):
        status = ("processing" if rng.random() < 0.7 else "pending") if i <= active else rng.choice(others)
        launched = status != "draft"
        age = timedelta(minutes=rng.uniform(0.5, 4)) if i <= active else timedelta(days=rng.uniform(0, 30))
        duration = rng.uniform(15, 90)
        row = {
            "id": i, "title": f"Reel {i} · spring campaign", "owner": rng.choice(OWNERS), "status": status,
            "attempt": 1 if launched else 0, "created_at": now - age - timedelta(minutes=5),
            "updated_at": now - age, "estimated_duration_s": duration, "estimated_cost_usd": duration / 60 * 6,
            "idempotency_key": str(uuid.uuid4()) if launched else None,
            "queued_at": now - age if launched else None,
        }
        if status in ("pending", "processing", "completed", "failed"):
            row.update(video_id=uuid.uuid4().hex, submitted_at=now - age,
                       processing_at=now - age if status != "pending" else None)
        if status == "completed":
            row.update(completed_at=now - age + timedelta(minutes=8), duration_s=duration,
                       video_url=f"https://files.example.com/{i}.mp4?Expires=9999999999",
                       thumbnail_url=f"https://files.example.com/{i}.jpg")
        if status == "failed":
            row.update(failure_code="RENDER_FAILED", failure_message="The video could not be rendered.")
        reels.append(row)
        if launched:
            attempts.append({
                "reel_id": i, "number": 1, "idempotency_key": row["idempotency_key"],
                "video_id": row.get("video_id"), "status": status, "queued_at": now - age,
                "submitted_at": row.get("submitted_at"),
                "render_seconds": duration * 8 if status == "completed" else None,
                "duration_s": duration if status == "completed" else None,
            })
    with session_factory() as session:
        session.execute(insert(Reel), reels)
        session.execute(insert(ReelAttempt), attempts)
        session.commit()


def _fragment_rerun(at, fragment_id: str) -> None:
    """Rerun only one fragment of an AppTest page, as the browser's ``run_every`` timer does."""
    import streamlit.testing.v1.local_script_runner as lsr

    original = lsr.RerunData
    lsr.RerunData = functools.partial(original, fragment_id_queue=[fragment_id], is_fragment_scoped_rerun=True)
    try:
        at.run()
    finally:
        lsr.RerunData = original
    assert not at.exception, at.exception


def open_status(user: str = "Bench"):
    """An AppTest on the Status page (through app.py) and its board fragment's id."""
    from streamlit.testing.v1 import AppTest

    at = AppTest.from_file(str(ROOT / "app.py"), default_timeout=120)
    at.session_state["me"] = user
    at.run()
    at.switch_page("pages/4_Status.py")
    at.run()
    assert not at.exception, at.exception
    ids = list(at._fragment_storage._fragments)
    board_ids = [i for i in ids if "status_board" in i] or ids
    assert board_ids, "the Status page registered no fragment"
    return at, board_ids[0]


def measure_ticks(runtime, runs: int) -> dict:
    from core.board.rows import BoardFilter, load_board

    at, fragment_id = open_status()
    rows_on_page = len(at.dataframe[0].value) if len(at.dataframe) else 0
    with runtime.session_factory() as session:
        frame, _ = load_board(session, BoardFilter(), stuck_after_minutes=runtime.settings.stuck_after_minutes)
    sys.modules["bench_board_store"].FRAME = frame
    from streamlit.testing.v1 import AppTest

    floor = AppTest.from_string(FLOOR_SCRIPT, default_timeout=120)
    floor.run()
    assert not floor.exception, floor.exception

    def floor_run() -> None:
        floor.run()

    def tick_expired() -> None:
        runtime.boards.expire()
        _fragment_rerun(at, fragment_id)

    def tick_shared() -> None:
        _fragment_rerun(at, fragment_id)

    expired, floor_a = alternate(runs, tick_expired, floor_run)
    shared, floor_b = alternate(runs, tick_shared, floor_run)
    tick_rows = len(at.dataframe[0].value) if len(at.dataframe) else 0
    return {"rows": rows_on_page, "tick_rows": tick_rows, "expired": median(expired), "shared": median(shared),
            "floor": median(floor_a + floor_b), "floor_a": median(floor_a), "floor_b": median(floor_b)}


def ten_sessions(runtime, sessions: int) -> dict:
    url = runtime.base_url
    before = sandbox_stats(url)
    opened = [open_status(f"Viewer {i}") for i in range(sessions)]

    for _ in range(2):
        runtime.boards.expire()
        for at, fragment_id in opened:
            _fragment_rerun(at, fragment_id)
    return stats_delta(before, sandbox_stats(url))


def worker_poll(runtime, active: int) -> dict:
    from sqlalchemy import select

    from core.jobs.worker import Worker
    from core.models import Reel

    url = runtime.base_url
    worker = Worker(runtime.session_factory, runtime.new_client(), runtime.settings, name="bench-worker",
                    index_provider=lambda: None)
    before = sandbox_stats(url)
    report = worker.run_once()
    ours = stats_delta(before, sandbox_stats(url))
    worker.release_lease()

    with runtime.session_factory() as session:
        ids = session.scalars(select(Reel.video_id).where(Reel.status.in_(("pending", "processing")))).all()
    client = runtime.new_client()
    before = sandbox_stats(url)
    from core.heygen.errors import NotFoundError

    for video_id in ids:  # the naive poller: one GET /v3/videos/{id} per reel
        with contextlib.suppress(NotFoundError):
            client.get_video(video_id)
    naive = stats_delta(before, sandbox_stats(url))
    return {"report": report, "ours": ours, "naive": naive, "active": len(ids)}


def run(db_url: str | None, tmp: Path, total: int, active: int, runs: int, sessions: int, label: str) -> bool:
    os.environ.update({"DATA_DIR": str(tmp), "SANDBOX_PORT": "0", "WORKER_MODE": "off",
                       "SANDBOX_TIME_SCALE": "0.01"})
    for key in ("HEYGEN_API_KEY", "HTTP_CACHE_URL", "HEYGEN_BASE_URL", "DATABASE_URL"):
        os.environ.pop(key, None)
    if db_url:
        os.environ["DATABASE_URL"] = db_url
    import streamlit as st

    from core.runtime import get_runtime, reset_runtime

    st.cache_data.clear()
    reset_runtime()
    runtime = get_runtime()
    quiet()
    try:
        insert_reels(runtime.session_factory, total, active)
        t = measure_ticks(runtime, runs)
        calls = ten_sessions(runtime, sessions)
        w = worker_poll(runtime, active)
    finally:
        reset_runtime()
    status_calls = w["ours"].get("GET /v3/videos/statuses", 0)
    naive_calls = sum(w["naive"].values())
    ratio_expired, ratio_shared = t["expired"] / t["floor_a"], t["shared"] / t["floor_b"]
    figure(f"{label}_reels", f"{total:,} reels, {active:,} active; board shows {t['rows']:,} rows "
           f"({t['tick_rows']:,} after a tick)")
    figure(f"{label}_tick_expired_median", f"{ms(t['expired'])} (board_data cache expired: DB read + frame)")
    figure(f"{label}_tick_shared_median", f"{ms(t['shared'])} (cache refreshed by another tab < 2 s ago)")
    figure(f"{label}_floor_median", f"{ms(t['floor'])} (st.dataframe of the same frame)")
    figure(f"{label}_ratio_expired", f"{ratio_expired:.2f}")
    figure(f"{label}_ratio_shared", f"{ratio_shared:.2f}")
    figure(f"{label}_heygen_calls_from_{sessions}_sessions", f"{sum(calls.values())} {calls}")
    figure(f"{label}_worker_status_calls", f"{status_calls} (limit ⌈{w['active']}/100⌉ = "
           f"{ceil_div(w['active'], 100)}; report.polled_calls={w['report'].polled_calls}, all calls {w['ours']})")
    figure(f"{label}_naive_poller_calls", f"{naive_calls} {w['naive']}")
    figure(f"{label}_calls_ratio_naive_vs_worker", f"{naive_calls / max(status_calls, 1):.0f}×")
    return (ratio_expired <= 1.3 and sum(calls.values()) == 0
            and status_calls <= ceil_div(w["active"], 100))


def main() -> int:
    p = parser(__doc__.splitlines()[0])
    p.add_argument("--postgres", metavar="URL", help="also run on this (empty, disposable) PostgreSQL database")
    args = p.parse_args()
    quiet()
    total, active, runs, sessions = (1_000, 100, 3, 3) if args.small else (10_000, 1_000, 15, 10)
    sys.modules["bench_board_store"] = type(sys)("bench_board_store")
    ok = True
    with tempfile.TemporaryDirectory(prefix="bench-status-") as tmp:
        ok &= run(None, Path(tmp) / "sqlite", total, active, runs, sessions, "sqlite")
        if args.postgres:
            ok &= run(args.postgres, Path(tmp) / "pg", total, active, runs, sessions, "postgresql")
    figure("RESULT", "PASS" if ok else "MISS")
    return 0


if __name__ == "__main__":
    sys.exit(main())
