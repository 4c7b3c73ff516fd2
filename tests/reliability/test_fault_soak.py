"""A reduced fault soak on SQLite and PostgreSQL: nothing lost, nothing doubled, no unhandled exception.

24 reels go through real ``python -m core.jobs`` processes against the sandbox with 20 % of the
job requests faulted (429, 500, 502, 503, slow, dropped connection, malformed JSON); the worker is
SIGKILLed and restarted twice. The full run (300 reels, 5 kills) is ``python -m
tests.reliability.soak``; its figures are in docs/reliability.md.
"""

from __future__ import annotations

import pytest

from tests.reliability.soak import fault_spec, history_problems, run_soak

pytestmark = pytest.mark.slow


def test_reduced_soak_every_reel_finishes_once(db_url, tmp_path):
    db = "postgresql" if db_url.startswith("postgresql") else "sqlite"
    report = run_soak(reels=24, faults=0.2, kills=2, db=db, db_url=db_url, render_failures=0.1,
                      seed=11, timeout_s=240, folder=tmp_path)
    figures = report.summary()  # every assertion shows the run's figures and broken promises
    assert not report.timed_out, figures
    assert report.not_terminal == [] and report.completed + report.failed == 24, figures
    assert report.failed_without_reason == [], figures
    assert report.failure_codes.get("RENDER_FAILED", 0) >= 1, figures  # the failure path ran, with a reason
    assert report.videos_created == 24 and report.distinct_video_ids == 24 and report.duplicates == 0, figures
    assert report.lost == [], figures
    assert report.log_alarms == [], figures
    assert report.kills_done == 2 and report.worker_processes == 3, figures
    assert sum(report.faults_injected.values()) > 0, figures

def test_fault_spec_covers_job_endpoints_only():
    spec = fault_spec(0.2)
    clauses = spec.split(";")
    assert [c.split(":")[0] for c in clauses] == [
        "POST /v3/videos", "GET /v3/videos/statuses", "GET /v3/videos/{video_id}"]
    for clause in clauses:
        shares = [float(entry.split("=")[1]) for entry in clause.split(":")[1].split(",")]
        assert len(shares) == 7 and sum(shares) == pytest.approx(0.2, abs=1e-4)


class _Row:
    def __init__(self, **values):
        self.__dict__.update(values)


def _history(*steps, status="completed", video="v1", attempts=1):
    reel = _Row(id=1, status=status, video_id=video)
    events = [_Row(from_status=None, to_status="draft")] + [_Row(from_status=a, to_status=b) for a, b in steps]
    rows = [_Row(video_id=video, status=status) for _ in range(attempts)]
    return history_problems(reel, events, rows)


def test_history_check_accepts_a_complete_history_and_names_each_gap():
    full = [("draft", "queued"), ("queued", "submitting"), ("submitting", "queued"), ("queued", "submitting"),
            ("submitting", "pending"), ("pending", "processing"), ("processing", "completed")]
    assert _history(*full) == []
    assert any("gap" in p for p in _history(*full[:4], *full[5:]))
    assert any("ends at processing" in p for p in _history(*full[:-1]))
    assert any("unexpected step" in p for p in _history(("draft", "queued"), ("queued", "completed")))
    assert any("2 attempts" in p for p in _history(*full, attempts=2))
