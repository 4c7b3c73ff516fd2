"""Budgets and approval before spend, on SQLite and PostgreSQL: reserve on launch, settle, release, approve, race."""

from __future__ import annotations

import threading
from dataclasses import dataclass

import pytest
from sqlalchemy import func, select

from core.access import workspaces as ws
from core.access.actor import SYSTEM, Actor
from core.heygen.types import Video
from core.jobs import approvals, budget, lifecycle
from core.models import ApprovalRequest, Reel, ReelAttempt, ReelEvent, Scene, Spend, Workspace
from core.reels.estimate import estimate_reel
from core.reels.pricing import billed_seconds

AVATAR_ID = "Abigail_expressive_2024112501"
VOICE_ID = "cef3bc4e0a84424cafcde6f2cf466c97"


@dataclass(frozen=True)
class Person(Actor):
    """A signed-in person (user id and Reel Studio role)."""

    user_id: int | None = None
    role: str = "viewer"


ADMIN = Person("Root", user_id=1, role="admin")
PRODUCER = Person("Pia", user_id=2, role="viewer")
APPROVER = Person("Abe", user_id=3, role="viewer")
OTHER = Person("Olga", user_id=4, role="viewer")


OWNER_IDS = {"Pia": 2, "Abe": 3, "Root": 1}


def make_reel(session_factory, workspace_id: int, owner: str = "Pia") -> int:
    with session_factory() as session:
        reel = Reel(title="Intro", owner=owner, owner_id=OWNER_IDS[owner], mode="scene_based",
                    workspace_id=workspace_id)
        reel.scenes = [Scene(position=i, avatar_id=AVATAR_ID, voice_id=VOICE_ID,
                             script=f"Scene {i}: a short sentence about the product.") for i in (1, 2, 3)]
        session.add(reel)
        session.commit()
        return reel.id


def cost_of(session_factory, reel_id: int, index) -> float:
    with session_factory() as session:
        return round(estimate_reel(session.get(Reel, reel_id), index).cost_usd, 2)


def team(session_factory, *, budget_usd=None, threshold=None, cap=None) -> int:
    with session_factory() as session:
        workspace = ws.create_workspace(session, "Marketing", actor=ADMIN)
        ws.add_member(session, workspace.id, PRODUCER.user_id, "Pia", "producer", actor=ADMIN, monthly_cap_usd=cap)
        ws.add_member(session, workspace.id, APPROVER.user_id, "Abe", "approver", actor=ADMIN)
        ws.set_budget(session, workspace.id, monthly_budget_usd=budget_usd, approval_threshold_usd=threshold,
                      actor=ADMIN)
        return workspace.id


def spend_rows(session_factory, reel_id: int) -> list[tuple[int, str, float]]:
    with session_factory() as session:
        return [(s.attempt, s.state, s.amount_usd) for s in
                session.scalars(select(Spend).where(Spend.reel_id == reel_id).order_by(Spend.attempt))]


def test_launch_reserves_its_estimate_and_completion_spends_the_actual_cost(session_factory, catalog_index):
    wid = team(session_factory, budget_usd=100)
    reel_id = make_reel(session_factory, wid)
    cost = cost_of(session_factory, reel_id, catalog_index)
    with session_factory() as session:
        assert lifecycle.launch(session, reel_id, actor=PRODUCER, index=catalog_index).ok
    assert spend_rows(session_factory, reel_id) == [(1, "reserved", cost)]
    with session_factory() as session:
        view = budget.workspace_budget(session, wid)
        assert (view.spent_usd, view.reserved_usd, view.remaining_usd) == (0.0, cost, round(100 - cost, 2))
        reel = session.get(Reel, reel_id)
        reel.status = "processing"
        session.commit()
        rate = reel.estimated_cost_usd / reel.estimated_duration_s
        assert lifecycle.apply_video(session, reel, Video(id="v1", status="completed", duration=7.2), actor=SYSTEM)
        session.commit()
    actual = round(billed_seconds(7.2) * rate, 2)
    assert spend_rows(session_factory, reel_id) == [(1, "spent", actual)]
    with session_factory() as session:
        view = budget.workspace_budget(session, wid)
        assert (view.spent_usd, view.reserved_usd) == (actual, 0.0)


def test_failure_and_cancellation_release_the_reservation_and_retry_reserves_again(session_factory, catalog_index):
    wid = team(session_factory, budget_usd=100)
    failing, cancelled = make_reel(session_factory, wid), make_reel(session_factory, wid)
    cost = cost_of(session_factory, failing, catalog_index)
    with session_factory() as session:
        for reel_id in (failing, cancelled):
            assert lifecycle.launch(session, reel_id, actor=PRODUCER, index=catalog_index).ok
        assert lifecycle.cancel(session, cancelled, actor=PRODUCER).ok
        reel = session.get(Reel, failing)
        reel.status = "pending"
        session.commit()
        assert lifecycle.apply_video(session, reel, Video(id="v2", status="failed", failure_message="boom"), actor=SYSTEM)
        session.commit()
    assert spend_rows(session_factory, failing) == [(1, "released", 0.0)]
    assert spend_rows(session_factory, cancelled) == [(1, "released", 0.0)]
    with session_factory() as session:
        assert lifecycle.retry(session, failing, actor=PRODUCER).ok
    assert spend_rows(session_factory, failing) == [(1, "released", 0.0), (2, "reserved", cost)]


def test_over_budget_launch_is_refused_with_the_numbers_and_the_draft_kept(session_factory, catalog_index):
    probe = make_reel(session_factory, 1)
    cost = cost_of(session_factory, probe, catalog_index)
    wid = team(session_factory, budget_usd=round(cost - 0.01, 2))
    reel_id = make_reel(session_factory, wid)
    with session_factory() as session:
        result = lifecycle.launch(session, reel_id, actor=PRODUCER, index=catalog_index)
    assert not result.ok and result.status == "draft"
    assert result.message == (f"This reel is estimated at ${cost:,.2f}; your team has ${cost - 0.01:,.2f} left this "
                              "month.")
    with session_factory() as session:
        reel = session.get(Reel, reel_id)
        assert reel.status == "draft" and len(reel.scenes) == 3 and reel.attempt == 0
        assert session.scalar(select(func.count()).select_from(ReelAttempt).where(ReelAttempt.reel_id == reel_id)) == 0
    assert spend_rows(session_factory, reel_id) == []


def test_a_member_cap_refuses_before_the_team_budget(session_factory, catalog_index):
    probe = make_reel(session_factory, 1)
    cost = cost_of(session_factory, probe, catalog_index)
    wid = team(session_factory, budget_usd=1000, cap=round(cost * 1.5, 2))
    first, second = make_reel(session_factory, wid), make_reel(session_factory, wid)
    with session_factory() as session:
        assert lifecycle.launch(session, first, actor=PRODUCER, index=catalog_index).ok
        result = lifecycle.launch(session, second, actor=PRODUCER, index=catalog_index)
    left = round(round(cost * 1.5, 2) - cost, 2)
    assert not result.ok and f"you have ${left:,.2f} left this month" in result.message


def test_launch_above_the_threshold_waits_and_one_approval_queues_one_video(session_factory, catalog_index):
    wid = team(session_factory, budget_usd=100, threshold=0.01)
    reel_id = make_reel(session_factory, wid)
    cost = cost_of(session_factory, reel_id, catalog_index)
    with session_factory() as session:
        result = lifecycle.launch(session, reel_id, actor=PRODUCER, index=catalog_index)
    assert result.ok and result.status == "awaiting_approval"
    assert spend_rows(session_factory, reel_id) == [(1, "reserved", cost)]
    with session_factory() as session:
        [request] = approvals.pending(session, wid)
        assert request.estimate_usd == cost and request.requested_by == "Pia"
        with pytest.raises(ws.WorkspaceDenied):
            approvals.approve(session, request.id, actor=PRODUCER)
        with pytest.raises(ws.WorkspaceDenied, match="not a member"):
            approvals.approve(session, request.id, actor=OTHER)
        first = approvals.approve(session, request.id, actor=APPROVER, note="ok for launch")
        second = approvals.approve(session, request.id, actor=APPROVER)
        assert first.ok and first.status == "queued"
        assert not second.ok and "decided already" in second.message
        reel = session.get(Reel, reel_id)
        assert reel.status == "queued" and reel.attempt == 1
        assert session.scalar(select(func.count()).select_from(ReelAttempt).where(ReelAttempt.reel_id == reel_id)) == 1
        events = [(e.from_status, e.to_status, e.actor) for e in
                  session.scalars(select(ReelEvent).where(ReelEvent.reel_id == reel_id).order_by(ReelEvent.id))]
        assert events == [("draft", "awaiting_approval", "Pia"), ("awaiting_approval", "queued", "Abe")]
        [decision] = approvals.decisions_for(session, PRODUCER)
        assert decision.state == "approved" and decision.note == "ok for launch" and decision.decided_by == "Abe"
    assert spend_rows(session_factory, reel_id) == [(1, "reserved", cost)]


def test_rejection_returns_the_draft_and_releases_and_it_can_be_launched_again(session_factory, catalog_index):
    wid = team(session_factory, budget_usd=100, threshold=0.01)
    reel_id = make_reel(session_factory, wid)
    cost = cost_of(session_factory, reel_id, catalog_index)
    with session_factory() as session:
        lifecycle.launch(session, reel_id, actor=PRODUCER, index=catalog_index)
        [request] = approvals.pending(session, wid)
        decision = approvals.reject(session, request.id, actor=APPROVER, note="too long, cut scene 3")
        assert decision.ok and decision.status == "draft"
        assert session.get(Reel, reel_id).status == "draft"
        assert session.get(ApprovalRequest, request.id).note == "too long, cut scene 3"
    assert spend_rows(session_factory, reel_id) == [(1, "released", 0.0)]
    with session_factory() as session:
        again = lifecycle.launch(session, reel_id, actor=PRODUCER, index=catalog_index)
    assert again.status == "awaiting_approval"
    assert spend_rows(session_factory, reel_id) == [(1, "reserved", cost)]


def test_an_approver_launch_needs_no_approval(session_factory, catalog_index):
    wid = team(session_factory, budget_usd=100, threshold=0.01)
    reel_id = make_reel(session_factory, wid, owner="Abe")
    with session_factory() as session:
        assert lifecycle.launch(session, reel_id, actor=APPROVER, index=catalog_index).status == "queued"


def test_twenty_launches_against_a_budget_for_five_admit_exactly_five(session_factory, catalog_index):
    probe = make_reel(session_factory, 1)
    cost = cost_of(session_factory, probe, catalog_index)
    wid = team(session_factory, budget_usd=round(cost * 5 + cost / 2, 2))
    reel_ids = [make_reel(session_factory, wid) for _ in range(20)]
    barrier = threading.Barrier(len(reel_ids))
    results, errors = [], []

    def go(reel_id: int) -> None:
        try:
            with session_factory() as session:
                barrier.wait(30)
                results.append(lifecycle.launch(session, reel_id, actor=PRODUCER, index=catalog_index))
        except Exception as exc:  # noqa: BLE001 - collected for the assertion
            errors.append(repr(exc))

    threads = [threading.Thread(target=go, args=(reel_id,)) for reel_id in reel_ids]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(120)
    assert errors == []
    assert sorted(r.ok for r in results) == [False] * 15 + [True] * 5
    assert all("left this month" in r.message for r in results if not r.ok)
    with session_factory() as session:
        queued = session.scalar(select(func.count()).select_from(Reel).where(Reel.workspace_id == wid,
                                                                              Reel.status == "queued"))
        reserved = session.scalar(select(func.sum(Spend.amount_usd)).where(Spend.workspace_id == wid))
        assert queued == 5 and reserved == pytest.approx(cost * 5, abs=0.011)
        assert session.get(Workspace, wid).ledger_version == 5  # refused launches roll their bump back


def test_budgets_of_two_workspaces_are_separate(session_factory, catalog_index):
    probe = make_reel(session_factory, 1)
    cost = cost_of(session_factory, probe, catalog_index)
    wid = team(session_factory, budget_usd=round(cost - 0.01, 2))
    with session_factory() as session:
        ws.set_budget(session, 1, monthly_budget_usd=1000, approval_threshold_usd=None, actor=ADMIN)
        assert lifecycle.launch(session, probe, actor=ADMIN, index=catalog_index).ok
        assert budget.workspace_budget(session, 1).reserved_usd == cost
        assert budget.workspace_budget(session, wid).reserved_usd == 0.0
