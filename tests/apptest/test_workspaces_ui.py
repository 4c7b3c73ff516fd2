"""Workspaces in the pages: the switcher, Settings → Workspace, the approval queue on Status, decisions on Home."""

from __future__ import annotations

from dataclasses import dataclass

import pytest
from sqlalchemy import select

from core.access import workspaces as ws
from core.access.actor import Actor
from core.jobs import lifecycle
from core.models import ApprovalRequest, Reel, Scene, Workspace


@dataclass(frozen=True)
class Person(Actor):
    """A signed-in person (user id and Reel Studio role)."""

    user_id: int | None = None
    role: str = "viewer"


PIA = Person("Pia", user_id=2, role="viewer")
ROOT = Person("Root", user_id=1, role="admin")
AVATAR_ID = "Abigail_expressive_2024112501"
VOICE_ID = "cef3bc4e0a84424cafcde6f2cf466c97"


@pytest.fixture(scope="module")
def team(app_runtime):
    """A second workspace with a threshold, and one launch of Pia's waiting for approval (worker stopped)."""
    if app_runtime.worker is not None:
        app_runtime.worker.stop()
    from core.catalog.store import load_catalog

    index = load_catalog(app_runtime.client).index
    with app_runtime.session_factory() as session:
        workspace = ws.create_workspace(session, "Marketing", actor=ROOT)
        ws.set_budget(session, workspace.id, monthly_budget_usd=50, approval_threshold_usd=0.01, actor=ROOT)
        ws.add_member(session, workspace.id, PIA.user_id, "Pia", "producer", actor=ROOT)
        reel = Reel(title="Big spring campaign", owner="Pia", owner_id=PIA.user_id, workspace_id=workspace.id)
        reel.scenes = [Scene(position=i, avatar_id=AVATAR_ID, voice_id=VOICE_ID, script=f"Scene {i} **not bold**")
                       for i in (1, 2, 3)]
        session.add(reel)
        session.commit()
        result = lifecycle.launch(session, reel.id, actor=PIA, index=index)
        assert result.status == "awaiting_approval"
        return {"workspace_id": workspace.id, "reel_id": reel.id}


def test_the_switcher_lists_both_workspaces_and_settings_shows_the_budget(open_page, team):
    at = open_page("pages/6_Settings.py", state={"workspace_id": team["workspace_id"]})
    assert not at.exception
    [picker] = [s for s in at.sidebar.selectbox if s.label == "Workspace"]
    assert picker.options == ["Default", "Marketing"] and picker.value == team["workspace_id"]
    assert any("left of $50.00 this month" in p.proto.text for p in at.get("progress"))
    assert any(t.value.startswith("Marketing: you are admin") for t in at.text)


def test_an_approver_approves_on_status_and_the_requester_sees_it_on_home(open_page, team, app_runtime):
    at = open_page("pages/4_Status.py", state={"workspace_id": team["workspace_id"]})
    assert not at.exception
    assert any(s.value == "Waiting for approval (1)" for s in at.subheader)
    texts = [t.value for t in at.text]
    assert any(t.startswith("Big spring campaign by Pia: estimated $") for t in texts)
    assert "Scene 1: Scene 1 **not bold**" in texts  # shown as text, not Markdown
    at.text_input(key=f"note-{_request_id(app_runtime, team)}").set_value("Go ahead").run()
    at.button(key=f"approve-{_request_id(app_runtime, team)}").click().run()
    with app_runtime.session_factory() as session:
        assert session.get(Reel, team["reel_id"]).status == "queued"
        assert session.scalar(select(ApprovalRequest.state)) == "approved"
        assert session.get(Workspace, team["workspace_id"]).name == "Marketing"
    home = open_page("app.py", user="Pia", state={"workspace_id": team["workspace_id"]})
    assert any(t.value.startswith(f"Reel {team['reel_id']}: approved by Ana — Go ahead") for t in home.text)


def _request_id(app_runtime, team) -> int:
    with app_runtime.session_factory() as session:
        return session.scalar(select(ApprovalRequest.id).where(ApprovalRequest.reel_id == team["reel_id"]))
