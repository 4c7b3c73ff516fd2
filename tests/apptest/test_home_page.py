"""Home page: a welcome for a new team, then attention items, new videos, counts and recent reels."""

from __future__ import annotations

from datetime import timedelta

import pytest

from core.models import utcnow
from tests.apptest.reel_states import make_reel

FAILURE = ("RENDER_FAILED", "The avatar look was removed from your account.")


@pytest.fixture(scope="module")
def quiet(app_runtime):
    """No worker: the seeded reels keep the states they are given."""
    if app_runtime.worker is not None:
        app_runtime.worker.stop()
    return app_runtime


def test_a_new_user_gets_first_steps(open_page, quiet):
    at = open_page(user=None)
    assert not at.exception, at.exception
    assert any("first reel" in s.value for s in at.subheader)
    steps = " ".join(m.value for m in at.markdown)
    assert "Pick a voice" in steps and "Compose and launch" in steps
    assert any("sandbox mode" in i.value for i in at.info)


@pytest.fixture(scope="module")
def seeded(quiet):
    with quiet.session_factory() as session:
        reels = {
            "failed": make_reel(session, "Product tour", "failed", failure=FAILURE),
            "stuck": make_reel(session, "Holiday greeting", "processing", ago=timedelta(hours=3)),
            "old": make_reel(session, "Last month recap", "completed", ago=timedelta(days=2)),
            "new": make_reel(session, "Launch day", "completed", ago=timedelta(minutes=10)),
            "draft": make_reel(session, "Script ideas", "draft"),
            "other": make_reel(session, "Bruno's reel", "failed", owner="Bruno"),
        }
    return {k: r.id for k, r in reels.items()}


def _texts(at) -> str:
    return " ".join(e.value for e in [*at.markdown, *at.caption, *at.success, *at.info])


def test_attention_lists_my_failed_and_stuck_reels(open_page, seeded):
    at = open_page(state={"home_last_seen": {"Ana": utcnow() - timedelta(hours=1)}})
    assert not at.exception, at.exception
    text = _texts(at)
    assert "Product tour" in text and FAILURE[1] in text
    assert "Holiday greeting" in text and "looks stuck" in text
    assert "Bruno's reel" not in text, "attention shows the person's own reels"
    counts = {m.label: m.value for m in at.metric}
    assert counts["Failed"] == "2" and counts["Completed"] == "2" and counts["Drafts"] == "1"


def _finished_lines(at) -> list[str]:
    return [m.value for m in at.markdown if " · finished " in m.value]


def test_new_videos_since_last_look_until_marked_seen(open_page, seeded):
    at = open_page(state={"home_last_seen": {"Ana": utcnow() - timedelta(hours=1)}})
    lines = _finished_lines(at)
    assert len(lines) == 1 and "Launch day" in lines[0]
    at.button(key="home_mark_seen").click().run()
    assert not at.exception, at.exception
    assert _finished_lines(at) == []
    assert "home_mark_seen" not in [b.key for b in at.button]
    assert any(c.value.startswith("Nothing has finished since you last looked (just now)") for c in at.caption)


def test_everyone_view_without_a_name(open_page, seeded):
    at = open_page(user=None)
    assert not at.exception, at.exception
    text = _texts(at)
    assert "Bruno's reel" in text, "without a name the team's reels are shown"
    assert "Enter your name in the sidebar" in text
