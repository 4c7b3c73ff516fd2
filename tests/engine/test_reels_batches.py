"""Batches on SQLite and PostgreSQL: preview problems, one reel per row whatever happens, results."""

from __future__ import annotations

import threading

import pandas as pd
import pytest
from sqlalchemy import func, select

from core.access.permissions import PermissionDenied
from core.board.batches import batch_progress, batch_results
from core.board.rows import BoardFilter, load_board
from core.jobs import batches as batch_jobs
from core.jobs import lifecycle
from core.models import Batch, BatchRow, Reel, ReelAttempt, ReelEvent, Scene
from core.reels.batches import BatchError, create_batch, preview_batch, save_as_template
from core.reels.validation import SCRIPT_MAX_CHARS
from tests.engine.test_jobs_lifecycle import VOICE_ID, make_reel
from tests.people import ADMIN, WORKER, person

ANA = person("Ana")


def _template(session_factory) -> int:
    reel_id = make_reel(session_factory, title="Welcome {{ first_name }}")
    with session_factory() as session:
        reel = session.get(Reel, reel_id)
        scripts = ["Hi {{ first_name | title }}, welcome to {{ team }}.", "Your manager is {{ manager }}.",
                   "{% if vip == 'yes' %}You are on the VIP plan.{% else %}Enjoy your first week.{% endif %}"]
        for scene, script in zip(reel.scenes, scripts, strict=True):
            scene.script = script
        session.flush()
        template = save_as_template(session, reel_id, actor=ANA)
        session.commit()
        return template.id


def _rows(n: int = 5) -> pd.DataFrame:
    return pd.DataFrame({"first_name": [f"person {i}" for i in range(1, n + 1)],
                         "team": [f"Team {i % 3}" for i in range(1, n + 1)],
                         "manager": ["Bea"] * n, "vip": ["yes" if i % 2 else "no" for i in range(1, n + 1)]})


def test_save_as_template_copies_the_reel_and_a_template_is_never_launched(session_factory, catalog_index):
    template_id = _template(session_factory)
    with session_factory() as session:
        template = session.get(Reel, template_id)
        assert template.is_template and template.status == "draft" and len(template.scenes) == 3
        result = lifecycle.launch(session, template_id, actor=ANA, index=catalog_index)
    assert not result.ok and "template is not launched" in result.message
    with session_factory() as session:
        frame, _ = load_board(session, BoardFilter())
    assert template_id not in set(frame["id"])


def test_preview_renders_every_row_and_lists_each_rows_problems(session_factory, catalog_index):
    template_id = _template(session_factory)
    rows = _rows(4)
    rows.loc[1, "manager"] = ""                       # row 2: a variable with no value
    rows.loc[2, "team"] = "x" * SCRIPT_MAX_CHARS      # row 3: a script over 5,000 characters once rendered
    rows["scene1.voice_id"] = ["", "", "", "no-such-voice"]  # row 4: unknown voice id
    rows["unused"] = "z"
    with session_factory() as session:
        preview = preview_batch(session.get(Reel, template_id), rows, catalog_index, excluded=[1])
    assert preview.variables == ["first_name", "manager", "team", "vip"]
    assert preview.unused_columns == ["unused"] and preview.missing_columns == []
    first = preview.rows[0]
    assert first.title == "Welcome person 1" and first.problems == [] and first.excluded and not first.ok
    assert first.scripts == ["Hi Person 1, welcome to Team 1.", "Your manager is Bea.", "You are on the VIP plan."]
    assert preview.rows[1].problems == ["Scene 2's script uses manager, which this row does not have."]
    assert any("5,000" in p for p in preview.rows[2].problems)
    assert any("Scene 1" in p and "voice" in p.lower() for p in preview.rows[3].problems)
    assert preview.launchable == []
    assert preview.rows[0].duration_s > 0 and preview.rows[0].cost_usd > 0


def test_a_variable_with_no_column_is_reported_for_the_whole_batch(session_factory, catalog_index):
    template_id = _template(session_factory)
    with session_factory() as session:
        preview = preview_batch(session.get(Reel, template_id), _rows(2).drop(columns=["manager"]), catalog_index)
    assert preview.missing_columns == ["manager"]
    assert all("manager" in " ".join(r.problems) for r in preview.rows)


def _batch(session_factory, n=5, excluded=()) -> int:
    template_id = _template(session_factory)
    with session_factory() as session:
        batch = create_batch(session, template_id, _rows(n), actor=ANA, file_name="people.csv", excluded=excluded)
        session.commit()
        return batch.id


def _counts(session_factory, batch_id):
    with session_factory() as session:
        reels = session.scalar(select(func.count()).select_from(Reel).where(Reel.batch_id == batch_id))
        attempts = session.scalar(select(func.count()).select_from(ReelAttempt).join(Reel)
                                  .where(Reel.batch_id == batch_id))
        scenes = session.scalar(select(func.count()).select_from(Scene).join(Reel).where(Reel.batch_id == batch_id))
        events = session.scalar(select(func.count()).select_from(ReelEvent).join(Reel)
                                .where(Reel.batch_id == batch_id))
    return reels, attempts, scenes, events


def test_launch_makes_one_queued_reel_per_valid_row_and_a_second_launch_makes_none(session_factory, catalog_index):
    batch_id = _batch(session_factory, n=5, excluded=[2])
    with session_factory() as session:
        first = batch_jobs.launch_batch(session, batch_id, actor=ANA, index=catalog_index)
    assert (first.created, first.already, first.skipped) == (4, 0, [2])
    assert first.message == "4 reels queued, 1 row left out."
    with session_factory() as session:
        again = batch_jobs.launch_batch(session, batch_id, actor=ANA, index=catalog_index)
    assert (again.created, again.already) == (0, 4)
    assert _counts(session_factory, batch_id) == (4, 4, 12, 8)
    with session_factory() as session:
        reels = session.scalars(select(Reel).where(Reel.batch_id == batch_id).order_by(Reel.batch_row)).all()
        assert [r.batch_row for r in reels] == [1, 3, 4, 5]
        assert {r.status for r in reels} == {"queued"} and all(r.idempotency_key for r in reels)
        assert {r.priority for r in reels} == {"batch"}  # sent after interactive launches, fairly by owner
        assert len({r.idempotency_key for r in reels}) == 4
        assert reels[0].title == "Welcome person 1" and reels[0].scenes[0].voice_id == VOICE_ID
        links = dict(session.execute(select(BatchRow.number, BatchRow.reel_id)
                                     .where(BatchRow.batch_id == batch_id)).all())
    assert links == {1: reels[0].id, 2: None, 3: reels[1].id, 4: reels[2].id, 5: reels[3].id}


def test_concurrent_launches_of_one_batch_make_each_reel_once(session_factory, catalog_index):
    batch_id = _batch(session_factory, n=30)
    barrier, errors = threading.Barrier(6), []

    def launch() -> None:
        try:
            with session_factory() as session:
                barrier.wait()
                batch_jobs.launch_batch(session, batch_id, actor=ANA, index=catalog_index)
        except Exception as exc:  # noqa: BLE001 - reported below
            errors.append(exc)

    threads = [threading.Thread(target=launch) for _ in range(6)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(60)
    assert errors == []
    assert _counts(session_factory, batch_id) == (30, 30, 90, 60)


def test_a_launch_that_stopped_halfway_resumes_where_it_stopped(session_factory, catalog_index, monkeypatch):
    batch_id = _batch(session_factory, n=12)
    monkeypatch.setattr(batch_jobs, "CHUNK", 5)
    real, calls = batch_jobs._write_chunk, []

    def crash_on_second_chunk(*args, **kwargs):
        calls.append(1)
        if len(calls) == 2:
            raise RuntimeError("process killed")
        return real(*args, **kwargs)

    monkeypatch.setattr(batch_jobs, "_write_chunk", crash_on_second_chunk)
    with session_factory() as session, pytest.raises(RuntimeError):
        batch_jobs.launch_batch(session, batch_id, actor=ANA, index=catalog_index)
    assert _counts(session_factory, batch_id)[0] == 5  # the first chunk was committed, the second not at all
    monkeypatch.setattr(batch_jobs, "_write_chunk", real)
    with session_factory() as session:
        resumed = batch_jobs.launch_batch(session, batch_id, actor=ANA, index=catalog_index)
    assert (resumed.created, resumed.already) == (7, 5)
    assert _counts(session_factory, batch_id) == (12, 12, 36, 24)


def test_progress_retry_cancel_and_results(session_factory, catalog_index):
    batch_id = _batch(session_factory, n=4, excluded=[4])
    with session_factory() as session:
        batch_jobs.launch_batch(session, batch_id, actor=ANA, index=catalog_index)
        reels = session.scalars(select(Reel).where(Reel.batch_id == batch_id).order_by(Reel.batch_row)).all()
        for reel, to in zip(reels[:2], ("failed", "completed"), strict=True):
            assert lifecycle.transition(session, reel, "submitting", actor=WORKER)
            assert lifecycle.transition(session, reel, "pending", actor=WORKER, values={"video_id": f"v{reel.id}"})
            values = ({"failure_code": "bad_input", "failure_message": "The script could not be read."}
                      if to == "failed" else {"duration_s": 12.5, "video_url": "https://files.example/v.mp4"})
            assert lifecycle.transition(session, reel, to, actor=WORKER, values=values)
        session.commit()
        progress = batch_progress(session)[0]
    assert (progress.rows, progress.reels, progress.completed, progress.failed, progress.queued) == (4, 3, 1, 1, 1)
    assert progress.done == pytest.approx(2 / 3)
    with session_factory() as session:
        assert batch_jobs.retry_failed(session, batch_id, actor=ANA) == 1
        assert batch_jobs.cancel_queued(session, batch_id, actor=ANA) == 2  # the retried one and row 3
        results = batch_results(session, batch_id)
    assert results["first_name"].tolist() == ["person 1", "person 2", "person 3", "person 4"]
    assert results["status"].tolist() == ["cancelled", "completed", "cancelled", "excluded"]
    assert results.loc[1, "video_url"] == "https://files.example/v.mp4" and results.loc[1, "duration_s"] == 12.5
    assert results.loc[0, "failure_reason"] == ""  # retried: the attempt's failure is cleared


def test_a_batch_needs_a_template_and_rows(session_factory):
    reel_id = make_reel(session_factory)
    with session_factory() as session:
        with pytest.raises(BatchError, match="is not a template"):
            create_batch(session, reel_id, _rows(2), actor=ANA)
        template = save_as_template(session, reel_id, actor=ANA)
        with pytest.raises(BatchError, match="no rows"):
            create_batch(session, template.id, _rows(0), actor=ANA)
        assert session.scalar(select(func.count()).select_from(Batch)) == 0


def test_the_same_rows_submitted_again_are_the_same_batch_and_make_no_second_reel(session_factory, catalog_index):
    template_id = _template(session_factory)
    with session_factory() as session:
        first = create_batch(session, template_id, _rows(3), actor=ANA, file_name="people.csv")
        session.commit()
        batch_jobs.launch_batch(session, first.id, actor=ANA, index=catalog_index)
        again = create_batch(session, template_id, _rows(3), actor=ANA, file_name="people (1).csv")
        session.commit()
        report = batch_jobs.launch_batch(session, again.id, actor=ANA, index=catalog_index)
        other = create_batch(session, template_id, _rows(4), actor=ANA)  # different rows: a new batch
        session.commit()
    assert again.id == first.id and (report.created, report.already) == (0, 3)
    assert other.id != first.id
    assert _counts(session_factory, first.id)[0] == 3


def test_who_may_make_and_launch_a_batch(session_factory, catalog_index):
    template_id = _template(session_factory)
    with session_factory() as session:
        with pytest.raises(PermissionDenied):
            create_batch(session, template_id, _rows(2), actor=person("Vic", "viewer"))
        with pytest.raises(PermissionDenied):
            save_as_template(session, template_id, actor=person("Vic", "viewer"))
        batch = create_batch(session, template_id, _rows(2), actor=ANA)
        session.commit()
        with pytest.raises(PermissionDenied, match="Ana"):
            batch_jobs.launch_batch(session, batch.id, actor=person("Ben"), index=catalog_index)
        assert _counts(session_factory, batch.id)[0] == 0
        report = batch_jobs.launch_batch(session, batch.id, actor=ADMIN, index=catalog_index)
    assert report.created == 2
    with session_factory() as session:
        owners = set(session.execute(select(Reel.owner, Reel.owner_id).where(Reel.batch_id == batch.id)).all())
    assert owners == {("Ana", ANA.user_id)}  # the batch owner's reels, whoever pressed launch
