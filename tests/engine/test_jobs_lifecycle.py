"""Launch, cancel, retry, transitions, board and render-time model on SQLite and PostgreSQL."""

from __future__ import annotations

import multiprocessing
import threading
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import func, select

from core.board import rows as board_rows
from core.board import timing
from core.heygen.types import Video
from core.jobs import lifecycle
from core.models import Reel, ReelAttempt, ReelEvent, Scene
from tests.people import WORKER, person, user_id

AVATAR_ID = "Abigail_expressive_2024112501"
VOICE_ID = "cef3bc4e0a84424cafcde6f2cf466c97"  # Ivy, English, supports locales


def make_reel(session_factory, *, owner: str = "ana", title: str = "Product intro", scenes: int = 3,
              status: str = "draft", **fields) -> int:
    """Insert a valid three-scene draft (real catalog ids) and return its id."""
    with session_factory() as session:
        reel = Reel(title=title, owner=owner, owner_id=user_id(owner), mode="scene_based", status=status, **fields)
        reel.scenes = [
            Scene(position=i, avatar_id=AVATAR_ID, voice_id=VOICE_ID,
                  script=f"Scene {i}: a short sentence about the product.")
            for i in range(1, scenes + 1)
        ]
        session.add(reel)
        session.commit()
        return reel.id


def events_of(session_factory, reel_id: int) -> list[tuple[str | None, str]]:
    with session_factory() as session:
        return [(e.from_status, e.to_status) for e in board_rows.history(session, reel_id)]


def attempts_of(session_factory, reel_id: int) -> list[ReelAttempt]:
    with session_factory() as session:
        return board_rows.attempts(session, reel_id)


def status_of(session_factory, reel_id: int) -> str:
    with session_factory() as session:
        return session.get(Reel, reel_id).status


def assert_history_consistent(session_factory, reel_id: int) -> None:
    """Every status event starts where the previous one ended; the last one ends at the reel's status."""
    changes = [(a, b) for a, b in events_of(session_factory, reel_id) if a != b]
    assert changes, "no status events"
    assert changes[0][0] == "draft"
    for (_, to), (frm, _) in zip(changes, changes[1:], strict=False):
        assert frm == to
    assert changes[-1][1] == status_of(session_factory, reel_id)


# ---------------------------------------------------------------------- launch


def test_launch_queues_with_attempt_key_and_estimate(session_factory, catalog_index):
    reel_id = make_reel(session_factory)
    with session_factory() as session:
        result = lifecycle.launch(session, reel_id, actor=person("ana"), index=catalog_index)
    assert result.ok and result.status == "queued"
    with session_factory() as session:
        reel = session.get(Reel, reel_id)
        assert reel.attempt == 1 and reel.queued_at is not None
        assert reel.estimated_duration_s > 0 and reel.estimated_cost_usd > 0
    [attempt] = attempts_of(session_factory, reel_id)
    assert attempt.number == 1 and attempt.idempotency_key == reel.idempotency_key
    assert len(attempt.idempotency_key) == 36
    assert events_of(session_factory, reel_id) == [("draft", "queued")]


def test_launch_with_problems_keeps_draft_and_writes_nothing(session_factory, catalog_index):
    reel_id = make_reel(session_factory)
    with session_factory() as session:
        session.get(Reel, reel_id).scenes[1].voice_id = "no-such-voice"
        session.commit()
    with session_factory() as session:
        result = lifecycle.launch(session, reel_id, actor=person("ana"), index=catalog_index)
    assert not result.ok and result.status == "draft" and result.problems
    assert status_of(session_factory, reel_id) == "draft"
    assert attempts_of(session_factory, reel_id) == [] and events_of(session_factory, reel_id) == []


def test_second_launch_says_already_launched(session_factory, catalog_index):
    reel_id = make_reel(session_factory)
    with session_factory() as session:
        assert lifecycle.launch(session, reel_id, actor=person("ana"), index=catalog_index).ok
        again = lifecycle.launch(session, reel_id, actor=person("ana"), index=catalog_index)
    assert not again.ok and "already launched" in again.message and "queued" in again.message


def test_launch_race_threads_exactly_one_wins(session_factory, catalog_index):
    reel_id = make_reel(session_factory)
    threads_n = 24
    barrier = threading.Barrier(threads_n)
    results, errors = [], []

    def click():
        try:
            with session_factory() as session:
                barrier.wait(timeout=30)
                results.append(lifecycle.launch(session, reel_id, actor=person("ana"), index=catalog_index))
        except Exception as exc:  # pragma: no cover - reported below
            errors.append(repr(exc))

    threads = [threading.Thread(target=click) for _ in range(threads_n)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(60)
    assert errors == []
    assert sum(r.ok for r in results) == 1
    losers = [r for r in results if not r.ok]
    assert len(losers) == threads_n - 1
    assert all("already launched" in r.message and r.status == "queued" for r in losers)
    assert len(attempts_of(session_factory, reel_id)) == 1
    assert events_of(session_factory, reel_id) == [("draft", "queued")]


def _child_index():
    from core.catalog.index import CatalogIndex
    from core.heygen.types import AvatarLook, Voice
    from core.sandbox.catalog import load_sandbox_catalog

    catalog = load_sandbox_catalog()
    return CatalogIndex([Voice.model_validate(v) for v in catalog.voices],
                        [AvatarLook.model_validate(lk) for lk in catalog.looks])


def _launch_in_process(url: str, reel_id: int, barrier, out) -> None:
    """Child-process body: its own engine on the same database (URL carries the schema), one launch."""
    from core.db import make_engine, make_session_factory

    index = _child_index()
    factory = make_session_factory(make_engine(url))
    with factory() as session:
        barrier.wait(timeout=60)
        result = lifecycle.launch(session, reel_id, actor=person("ana"), index=index)
    out.put((result.ok, result.message))


def test_launch_race_two_processes_exactly_one_wins(session_factory, catalog_index, engine):
    reel_id = make_reel(session_factory)
    context = multiprocessing.get_context("spawn")
    barrier, out = context.Barrier(2), context.Queue()
    url = engine.url.render_as_string(hide_password=False)
    children = [context.Process(target=_launch_in_process, args=(url, reel_id, barrier, out))
                for _ in range(2)]
    for child in children:
        child.start()
    outcomes = [out.get(timeout=120) for _ in children]
    for child in children:
        child.join(30)
    assert sorted(ok for ok, _ in outcomes) == [False, True]
    assert "already launched" in next(msg for ok, msg in outcomes if not ok)
    assert len(attempts_of(session_factory, reel_id)) == 1
    assert events_of(session_factory, reel_id) == [("draft", "queued")]


# ---------------------------------------------------------------------- cancel / retry / transition


def test_cancel_only_from_queued(session_factory, catalog_index):
    reel_id = make_reel(session_factory)
    with session_factory() as session:
        assert not lifecycle.cancel(session, reel_id, actor=person("ana")).ok  # a draft is not queued
        lifecycle.launch(session, reel_id, actor=person("ana"), index=catalog_index)
        assert lifecycle.cancel(session, reel_id, actor=person("ana")).ok
        again = lifecycle.cancel(session, reel_id, actor=person("ana"))
    assert not again.ok and again.status == "cancelled"
    assert events_of(session_factory, reel_id) == [("draft", "queued"), ("queued", "cancelled")]


def test_cancel_loses_against_a_claim(session_factory, catalog_index):
    reel_id = make_reel(session_factory)
    with session_factory() as session:
        lifecycle.launch(session, reel_id, actor=person("ana"), index=catalog_index)
        reel = session.get(Reel, reel_id)
        assert lifecycle.transition(session, reel, "submitting", actor=WORKER, expected=("queued",))
        session.commit()
        result = lifecycle.cancel(session, reel_id, actor=person("ana"))
    assert not result.ok and result.status == "submitting"


def test_retry_makes_new_attempt_and_key_and_keeps_history(session_factory, catalog_index):
    reel_id = make_reel(session_factory)
    with session_factory() as session:
        lifecycle.launch(session, reel_id, actor=person("ana"), index=catalog_index)
        assert not lifecycle.retry(session, reel_id, actor=person("ana")).ok  # queued cannot be retried
        reel = session.get(Reel, reel_id)
        lifecycle.transition(session, reel, "submitting", actor=WORKER)
        lifecycle.transition(session, reel, "pending", actor=WORKER, values={"video_id": "v1"})
        lifecycle.fail_reel(session, reel, "invalid_parameter", "Bad voice.", actor=WORKER)
        session.commit()
        result = lifecycle.retry(session, reel_id, actor=person("ana"))
    assert result.ok and result.status == "queued"
    first, second = attempts_of(session_factory, reel_id)
    assert (first.number, second.number) == (1, 2)
    assert first.idempotency_key != second.idempotency_key
    assert first.status == "failed" and first.failure_code == "invalid_parameter"
    assert second.status == "queued"
    with session_factory() as session:
        reel = session.get(Reel, reel_id)
        assert reel.idempotency_key == second.idempotency_key and reel.video_id is None
        assert reel.failure_code is None and reel.attempt == 2
    assert events_of(session_factory, reel_id)[-2:] == [("pending", "failed"), ("failed", "queued")]
    assert_history_consistent(session_factory, reel_id)


def test_transition_is_conditional_and_writes_event_only_on_win(session_factory):
    reel_id = make_reel(session_factory, status="queued")
    with session_factory() as one, session_factory() as two:
        reel_one, reel_two = one.get(Reel, reel_id), two.get(Reel, reel_id)
        assert lifecycle.transition(one, reel_one, "submitting", actor=WORKER, expected=("queued",))
        one.commit()
        assert not lifecycle.transition(two, reel_two, "cancelled", actor=WORKER, expected=("queued",))
        two.commit()
    assert events_of(session_factory, reel_id) == [("queued", "submitting")]


def test_transition_stamps_times_once(session_factory):
    reel_id = make_reel(session_factory, status="submitting")
    with session_factory() as session:
        reel = session.get(Reel, reel_id)
        assert lifecycle.transition(session, reel, "pending", actor=WORKER)
        submitted = reel.submitted_at
        assert lifecycle.transition(session, reel, "processing", actor=WORKER)
        assert reel.processing_at is not None and reel.submitted_at == submitted
        session.commit()
    with session_factory() as session:
        assert session.get(Reel, reel_id).processing_at is not None


# ---------------------------------------------------------------------- apply_video / links


def _to_pending(session_factory, video_id: str = "vid-1", **fields) -> int:
    return make_reel(session_factory, status="pending", video_id=video_id, attempt=1,
                     submitted_at=datetime.now(UTC) - timedelta(seconds=50), **fields)


def test_apply_video_completed_stores_details_and_is_idempotent(session_factory):
    reel_id = _to_pending(session_factory)
    expires = int(datetime(2030, 1, 1, tzinfo=UTC).timestamp())
    video = Video(id="vid-1", status="completed", duration=12.5,
                  video_url=f"http://x/v.mp4?Expires={expires}&Signature=abc",
                  thumbnail_url="http://x/t.jpg", subtitle_url="http://x/s.srt")
    with session_factory() as session:
        session.add(ReelAttempt(reel_id=reel_id, number=1, idempotency_key="k-1", status="pending"))
        session.commit()
        reel = session.get(Reel, reel_id)
        assert lifecycle.apply_video(session, reel, video, actor=WORKER)
        assert not lifecycle.apply_video(session, reel, video, actor=WORKER)
        session.commit()
    with session_factory() as session:
        reel = session.get(Reel, reel_id)
        assert reel.status == "completed" and reel.duration_s == 12.5
        assert reel.subtitle_url and reel.thumbnail_url and reel.completed_at
        assert reel.links_expire_at == datetime(2030, 1, 1, tzinfo=UTC)
        attempt = session.scalars(select(ReelAttempt).where(ReelAttempt.reel_id == reel_id)).one()
        assert attempt.render_seconds >= 50 and attempt.duration_s == 12.5
    assert [e for e in events_of(session_factory, reel_id) if e[1] == "completed"] == [("pending", "completed")]


def test_apply_video_failed_stores_reason(session_factory):
    reel_id = _to_pending(session_factory)
    video = Video(id="vid-1", status="failed", failure_code="MOVIO_PAYMENT_INSUFFICIENT_CREDIT",
                  failure_message="Insufficient credit.")
    with session_factory() as session:
        assert lifecycle.apply_video(session, session.get(Reel, reel_id), video, actor=WORKER)
        session.commit()
        reel = session.get(Reel, reel_id)
    assert reel.status == "failed" and reel.failure_code == "MOVIO_PAYMENT_INSUFFICIENT_CREDIT"


def test_refresh_links_defaults_to_seven_days(session_factory):
    reel_id = make_reel(session_factory, status="completed", video_id="vid-9", attempt=1)

    class Client:
        def get_video(self, video_id):
            assert video_id == "vid-9"
            return Video(id=video_id, status="completed", video_url="http://x/new.mp4")

    with session_factory() as session:
        reel = lifecycle.refresh_links(session, Client(), reel_id, actor=person("ana"))
    assert reel.video_url == "http://x/new.mp4"
    left = reel.links_expire_at - datetime.now(UTC)
    assert timedelta(days=6, hours=23) < left <= timedelta(days=7)
    assert events_of(session_factory, reel_id)[-1] == ("completed", "completed")


def test_status_mapping():
    expected = {"waiting": "pending", "queued": "pending", "pending": "pending", "processing": "processing",
                "rendering_something_new": "processing", "completed": "completed", "FAILED": "failed",
                "not_found": "not_found"}
    assert {raw: lifecycle.map_heygen_status(raw) for raw in expected} == expected


# ---------------------------------------------------------------------- board and render-time model


def _add_history(session_factory, ratios: list[float], start: int = 0) -> None:
    with session_factory() as session:
        for i, ratio in enumerate(ratios, start=start):
            reel = Reel(title=f"old {i}", owner="old", status="completed", attempt=1)
            session.add(reel)
            session.flush()
            session.add(ReelAttempt(reel_id=reel.id, number=1, idempotency_key=f"hist-{i}", status="completed",
                                    render_seconds=ratio * 10, duration_s=10))
        session.commit()


def test_render_time_model_prior_then_history(session_factory):
    with session_factory() as session:
        assert timing.render_time_model(session) == timing.DEFAULT_RENDER_MODEL
    _add_history(session_factory, [1, 2, 3, 4, 5, 6, 7, 8, 9, 10])
    with session_factory() as session:
        model = timing.render_time_model(session)
    assert model.samples == 10 and model.median_ratio == pytest.approx(5.5)
    assert 9 <= model.p90_ratio <= 10
    assert model.expected_seconds(20) == pytest.approx(110)
    assert 1 <= model.low_ratio <= 2  # the range runs from the 10th to the 90th percentile


def test_the_first_finished_render_already_times_the_next(session_factory):
    """One render of 10 s video in 40 s: the next ETA comes from it (0.7–1.5 × its ratio), not the prior."""
    _add_history(session_factory, [4.0])
    with session_factory() as session:
        model = timing.render_time_model(session)
    assert (model.samples, model.median_ratio) == (1, 4.0)
    assert model.remaining(10, 0) == (pytest.approx(28.0), pytest.approx(60.0))
    _add_history(session_factory, [2.0, 6.0], start=1)
    with session_factory() as session:
        model = timing.render_time_model(session)
    assert (model.samples, model.low_ratio, model.median_ratio, model.p90_ratio) == (3, 2.0, 4.0, 6.0)


def test_progress_and_stuck():
    model = timing.RenderTimeModel(median_ratio=2.0, p90_ratio=4.0, samples=5)
    now = datetime(2026, 11, 21, 12, 0, tzinfo=UTC)

    def reel(status, started_s_ago):
        started = now - timedelta(seconds=started_s_ago)
        return Reel(status=status, submitted_at=started, processing_at=started, estimated_duration_s=30)

    assert model.progress(reel("processing", 30), now) == pytest.approx(0.5)
    assert model.progress(reel("processing", 3000), now) == 0.95
    assert model.progress(reel("completed", 3000), now) == 1.0
    assert model.progress(reel("queued", 0), now) == 0.0
    # 3 × p90 prediction = 3 × 4 × 30 = 360 s
    assert not timing.is_stuck(reel("processing", 300), model, now)
    assert timing.is_stuck(reel("processing", 400), model, now)
    slow = timing.RenderTimeModel(median_ratio=100, p90_ratio=200)
    assert timing.is_stuck(reel("processing", 31 * 60), slow, now, max_minutes=30)  # the 30 min cap
    assert not timing.is_stuck(reel("completed", 99999), model, now)


def test_board_filters_and_counts(session_factory):
    ids = {
        "a": make_reel(session_factory, owner="ana", title="Spring launch", status="queued"),
        "b": make_reel(session_factory, owner="ben", title="Onboarding", status="processing",
                       video_id="abc123", submitted_at=datetime.now(UTC) - timedelta(hours=2),
                       processing_at=datetime.now(UTC) - timedelta(hours=2)),
        "c": make_reel(session_factory, owner="ana", title="Recap", status="completed"),
    }
    with session_factory() as session:
        rows = board_rows.board(session)
        assert {r.id for r in rows} == set(ids.values())
        assert [r.id for r in board_rows.board(session, statuses=("processing",))] == [ids["b"]]
        assert {r.id for r in board_rows.board(session, owner="ana")} == {ids["a"], ids["c"]}
        assert [r.id for r in board_rows.board(session, query="SPRING")] == [ids["a"]]
        assert [r.id for r in board_rows.board(session, query="abc1")] == [ids["b"]]
        assert len(board_rows.board(session, limit=2)) == 2
        stuck = {r.id: r.stuck for r in rows}
        assert stuck == {ids["a"]: False, ids["b"]: True, ids["c"]: False}
        progress = {r.id: r.progress for r in rows}
        assert progress[ids["c"]] == 1.0 and progress[ids["a"]] == 0.0 and 0 < progress[ids["b"]] <= 0.95
        counts = board_rows.status_counts(session)
    assert counts["queued"] == 1 and counts["processing"] == 1 and counts["completed"] == 1
    assert counts["draft"] == 0 and set(counts) >= {"failed", "cancelled", "submitting", "pending"}


def test_board_is_one_query(session_factory, engine):
    from sqlalchemy import event

    for i in range(5):
        make_reel(session_factory, title=f"r{i}", status="queued")
    statements = []

    def count(*_args):
        statements.append(1)

    model = timing.RenderTimeModel()
    with session_factory() as session:
        event.listen(engine, "before_cursor_execute", count)
        try:
            rows = board_rows.board(session, model=model)
        finally:
            event.remove(engine, "before_cursor_execute", count)
    assert len(rows) == 5 and len(statements) == 1


def test_event_count_matches_changes(session_factory, catalog_index):
    reel_id = make_reel(session_factory)
    with session_factory() as session:
        lifecycle.launch(session, reel_id, actor=person("ana"), index=catalog_index)
        lifecycle.cancel(session, reel_id, actor=person("ana"))
        total = session.scalar(select(func.count()).select_from(ReelEvent).where(ReelEvent.reel_id == reel_id))
    assert total == 2
    assert_history_consistent(session_factory, reel_id)
