"""The team deployment, for real: ``honcho -f Procfile start`` (sandbox, two app replicas, the worker and
a standby) on the local PostgreSQL and Redis, driven in Chromium.

- a reel launched on replica A is completed on replica B's board, which was open before and never reloaded;
- a scene's speech preview made on A plays on B, and B does not pay HeyGen for it again;
- SIGTERM of the active worker: it releases its lease, the standby takes over before the old lease would
  have expired; SIGKILL of the next one: its successor takes over within WORKER_LEASE_SECONDS + one poll;
- every reel has exactly one sandbox video.

The takeover times of both stops are printed (``-s``) and recorded in the README.
"""

from __future__ import annotations

import os
import re
import signal
import time
from types import SimpleNamespace

import pytest
import requests
from playwright.sync_api import BrowserContext, Page, expect
from sqlalchemy import select

from core.access.users import actor_for, local_user
from core.db import session_scope
from core.jobs import lifecycle
from core.models import Reel, ReelAttempt
from core.reels.drafts import create_reel
from core.reels.validation import SceneInput
from tests.e2e.conftest import key_button, open_page, snap
from tests.e2e.reel_steps import MEDIA_READY_JS, SCENES, USER, launch_button, open_reel, scene_expander
from tests.e2e.team_stack import LEASE_S, POLL_S, TeamStack
from tests.e2e.test_launch_e2e import WATCH_COUNTERS_JS, counter
from ui.identity import os_account_name

EXTRA_REELS = 8


@pytest.fixture(scope="module")
def stack(tmp_path_factory: pytest.TempPathFactory):
    team = TeamStack(tmp_path_factory.mktemp("team-stack"))
    try:
        team.wait_ready()
        yield team
    finally:
        team.stop()


@pytest.hookimpl(wrapper=True)
def pytest_runtest_makereport(item: pytest.Item, call: pytest.CallInfo):
    report = yield
    team = getattr(item, "funcargs", {}).get("stack")
    if report.failed and isinstance(team, TeamStack):
        report.sections.append(("honcho log (tail)", team.log_tail()))
    return report


def _local_actor(team: TeamStack):
    """The person the replicas act for: without sign-in on loopback, the server's OS account."""
    with session_scope(team.session_factory) as session:
        return actor_for(local_user(session, os_account_name()), verified=True)


def _draft(team: TeamStack, title: str) -> int:
    with session_scope(team.session_factory) as session:
        reel = create_reel(session, actor=_local_actor(team), title=title, scenes=[
            SceneInput(position=n, avatar_id=s.look_id, voice_id=s.voice_id, script=s.script)
            for n, s in enumerate(SCENES, start=1)])
        return reel.id


def _stats(team: TeamStack) -> dict:
    return requests.get(f"{team.sandbox_url}/_sandbox/stats", timeout=10).json()


def _speech_calls(team: TeamStack) -> int:
    return _stats(team)["requests"].get("POST /v3/voices/speech", 0)


def _holder_pid(holder: str) -> int:
    return int(holder.split(":")[-2])


def _worker_pids_started(team: TeamStack) -> set[int]:
    return {int(m) for m in re.findall(r"INFO __main__: worker [^:\s]+:(\d+):\w+ started", team.log_path.read_text())}


def _statuses(team: TeamStack, ids: list[int]) -> dict[int, str]:
    with team.session_factory() as session:
        return dict(session.execute(select(Reel.id, Reel.status).where(Reel.id.in_(ids))).all())


def test_team_stack_replicas_share_reels_and_previews_and_the_standby_takes_over(
        page: Page, context: BrowserContext, stack: TeamStack, catalog_index) -> None:
    replica_a, replica_b = SimpleNamespace(url=stack.web1), SimpleNamespace(url=stack.web2)
    reel_id = _draft(stack, "Team stack reel")

    # Replica B's board, open before anything happens and never reloaded.
    board = context.new_page()
    open_page(board, replica_b, "/Status", user=USER)
    expect(counter(board, "Drafts")).to_have_text("1")
    board.evaluate(WATCH_COUNTERS_JS)

    # A scene's preview made on A ...
    open_reel(page, replica_a, reel_id)
    before = _speech_calls(stack)
    key_button(page, f"c_r{reel_id}_s1_listen").click()
    expect(scene_expander(page, 1).get_by_text(re.compile(r"^Preview of this scene as written"))).to_be_visible(
        timeout=60_000)
    assert _speech_calls(stack) == before + 1
    # ... plays on B without another HeyGen call, and not from B's own /media.
    other = context.new_page()
    open_reel(other, replica_b, reel_id)
    audio = scene_expander(other, 1).locator("audio").last
    expect(audio).to_be_attached()
    media = audio.evaluate(MEDIA_READY_JS)
    assert media["error"] is None and media["duration"] > 0, media
    assert media["src"].startswith("data:audio/"), media["src"][:40]
    expect(other.locator(f".st-key-c_r{reel_id}_s1_listen")).to_have_count(0)
    assert _speech_calls(stack) == before + 1
    snap(other, "team-01-preview-on-b", focus=audio)

    # Launch on A; B's board follows it to completed by itself.
    launch_button(page, reel_id).click()
    key_button(page, f"c_launch_yes_{reel_id}").click()  # live mode (the shared sandbox) asks first
    expect(page.get_by_text(re.compile("^Queued"))).to_be_visible()
    expect(counter(board, "Completed")).to_have_text("1", timeout=90_000)
    assert board.evaluate("window.__e2eNoReload === true"), "replica B's board was reloaded"
    snap(board, "team-02-completed-on-b")

    # More reels in flight, then SIGTERM of the active worker.
    ids = [reel_id]
    for n in range(EXTRA_REELS):
        extra = _draft(stack, f"Team stack reel {n + 2}")
        with stack.session_factory() as session:
            assert lifecycle.launch(session, extra, actor=_local_actor(stack), index=catalog_index).ok
        ids.append(extra)
    stack.wait_for(lambda: any(s != "queued" for s in _statuses(stack, ids[1:]).values()), 30, "a submission")
    first = stack.lease()
    stack.remember_processes()
    os.kill(_holder_pid(first.holder), signal.SIGTERM)
    stopped_at = time.time()
    second = stack.wait_for(lambda: (lease := stack.lease()) and lease.holder not in (None, first.holder) and lease,
                            LEASE_S + 10, "the standby to take over after SIGTERM")
    sigterm_takeover_s = second.acquired_at.timestamp() - stopped_at
    assert second.acquired_at < first.expires_at  # released on SIGTERM, not left to expire

    # The stopped worker comes back (as the standby); then SIGKILL of the active one.
    known = {_holder_pid(first.holder), _holder_pid(second.holder)}
    stack.wait_for(lambda: _worker_pids_started(stack) - known, 60, "the stopped worker to start again")
    time.sleep(POLL_S * 2)
    before_kill = stack.lease()
    assert before_kill.holder == second.holder
    stack.remember_processes()
    os.kill(_holder_pid(second.holder), signal.SIGKILL)
    killed_at = time.time()
    third = stack.wait_for(lambda: (lease := stack.lease()) and lease.holder not in (None, second.holder) and lease,
                           LEASE_S + POLL_S + 10, "a take-over after SIGKILL")
    sigkill_takeover_s = third.acquired_at.timestamp() - killed_at
    assert third.acquired_at >= before_kill.expires_at  # waited for the dead holder's lease to expire ...
    assert sigkill_takeover_s <= LEASE_S + POLL_S + 1.0  # ... and took over within the documented time
    print(f"\ntakeover after SIGTERM: {sigterm_takeover_s:.2f} s; after SIGKILL: {sigkill_takeover_s:.2f} s "
          f"(WORKER_LEASE_SECONDS={LEASE_S}, POLL_INTERVAL_SECONDS={POLL_S})")

    # Nothing lost, nothing doubled: every reel completed with exactly one sandbox video.
    stack.wait_for(lambda: set(_statuses(stack, ids).values()) == {"completed"}, 120, "every reel to complete")
    with stack.session_factory() as session:
        video_ids = session.scalars(select(Reel.video_id).where(Reel.id.in_(ids))).all()
        attempts = session.scalars(select(ReelAttempt.number).where(ReelAttempt.reel_id.in_(ids))).all()
    assert len(set(video_ids)) == len(ids) and None not in video_ids
    assert sorted(attempts) == [1] * len(ids)
    assert _stats(stack)["videos_created"] == len(ids)
