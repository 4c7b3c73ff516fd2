"""Workspaces on SQLite and PostgreSQL: the Default migration, roles, keys (checked, encrypted), amounts, folders."""

from __future__ import annotations

import socket
from dataclasses import dataclass

import pytest
from alembic import command
from cryptography.fernet import Fernet
from sqlalchemy import inspect, select, text

from core import db
from core.access import workspaces as ws
from core.access.actor import SYSTEM, Actor
from core.access.keys import KeyBox, reencrypt_all
from core.config import SANDBOX_API_KEY
from core.heygen import HeyGenClient
from core.jobs import accounts, lifecycle
from core.models import Reel, ReelEvent, Workspace

OTHER_KEY = "sandbox-second-account-key"


@dataclass(frozen=True)
class Person(Actor):
    user_id: int | None = None
    role: str = "viewer"


ADMIN = Person("Root", user_id=1, role="admin")
PIA = Person("Pia", user_id=2, role="viewer")
VIC = Person("Vic", user_id=5, role="viewer")


def checker(url: str):
    return lambda key: HeyGenClient(key, base_url=url, max_retries=0, timeout_s=5).get_current_user()


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def test_existing_reels_and_history_move_into_default(engine):
    config = db.alembic_config()
    with engine.begin() as connection:
        config.attributes["connection"] = connection
        command.downgrade(config, "0006")
    assert "workspaces" not in inspect(engine).get_table_names()
    with engine.begin() as connection:
        connection.execute(text("INSERT INTO reels (id, title, owner, mode, aspect_ratio, resolution, captions, "
                                "engine, status, attempt, created_at, updated_at, is_template) VALUES (7, 'Old', "
                                "'ana', 'scene_based', '16:9', '1080p', false, 'avatar_iv', 'completed', 1, "
                                "CURRENT_TIMESTAMP, CURRENT_TIMESTAMP, false)"))
        connection.execute(text("INSERT INTO reel_events (reel_id, at, actor, from_status, to_status, detail) "
                                "VALUES (7, CURRENT_TIMESTAMP, 'ana', 'processing', 'completed', 'done')"))
    db.migrate(engine)
    with engine.connect() as connection:
        assert connection.execute(text("SELECT id, name, is_default FROM workspaces")).all() == [(1, "Default", True)]
        assert connection.execute(text("SELECT workspace_id, folder_id FROM reels WHERE id = 7")).one() == (1, None)
        assert connection.execute(text("SELECT count(*) FROM reel_events WHERE reel_id = 7")).scalar() == 1
    with db.make_session_factory(engine)() as session:  # a new workspace does not collide with id 1
        assert ws.create_workspace(session, "Support", actor=ADMIN).id == 2


def test_roles_default_workspace_needs_no_membership_others_do(session_factory):
    with session_factory() as session:
        default = ws.default_workspace(session)
        assert ws.workspace_role(session, PIA, default) == "viewer"
        assert ws.workspace_role(session, Person("Sam", user_id=8, role="producer"), default) == "producer"
        team = ws.create_workspace(session, "Support", actor=ADMIN)
        assert ws.workspace_role(session, PIA, team) is None
        assert [w.name for w in ws.workspaces_for(session, PIA)] == ["Default"]
        ws.add_member(session, team.id, PIA.user_id, "Pia", "producer", actor=ADMIN)
        assert ws.workspace_role(session, PIA, team) == "producer"
        assert [w.name for w in ws.workspaces_for(session, PIA)] == ["Default", "Support"]
        with pytest.raises(ws.WorkspaceDenied, match="Only an admin of Support"):
            ws.set_budget(session, team.id, monthly_budget_usd=10, approval_threshold_usd=None, actor=PIA)
        with pytest.raises(ws.WorkspaceDenied, match="Vic is not a member"):
            ws.create_folder(session, team.id, "Q1", actor=VIC)
        with pytest.raises(ws.WorkspaceError, match="exists already"):
            ws.create_workspace(session, " support ", actor=ADMIN)
        with pytest.raises(ws.WorkspaceError, match="role must be one of"):
            ws.add_member(session, team.id, 9, "Zed", "owner", actor=ADMIN)


def test_member_removed_while_their_reel_renders_it_finishes_and_they_lose_access(session_factory, catalog_index):
    with session_factory() as session:
        team = ws.create_workspace(session, "HR", actor=ADMIN)
        ws.add_member(session, team.id, PIA.user_id, "Pia", "producer", actor=ADMIN)
        reel = Reel(title="Welcome", owner="Pia", workspace_id=team.id, status="processing", attempt=1,
                    video_id="vid-1")
        session.add(reel)
        session.commit()
        assert ws.remove_member(session, team.id, PIA.user_id, actor=ADMIN)
        from core.heygen.types import Video
        assert lifecycle.apply_video(session, reel, Video(id="vid-1", status="completed", duration=3.0), actor=SYSTEM)
        session.commit()
        assert session.get(Reel, reel.id).status == "completed"
        assert ws.workspace_role(session, PIA, team) is None
        with pytest.raises(ws.WorkspaceDenied):
            ws.file_reel(session, reel.id, None, actor=PIA)


@pytest.mark.parametrize("amount, message", [
    (-1, "zero or more"), (float("nan"), "zero or more"), (5_000_000, "typing mistake"), ("lots", "amount in USD"),
])
def test_negative_or_absurd_budgets_are_refused_and_nothing_changes(session_factory, amount, message):
    with session_factory() as session:
        team = ws.create_workspace(session, "Sales", actor=ADMIN)
        ws.set_budget(session, team.id, monthly_budget_usd=50, approval_threshold_usd=5, actor=ADMIN)
        with pytest.raises(ws.WorkspaceError, match=message):
            ws.set_budget(session, team.id, monthly_budget_usd=amount, approval_threshold_usd=5, actor=ADMIN)
        session.rollback()
        fresh = session.get(Workspace, team.id)
        session.refresh(fresh)
        assert (fresh.monthly_budget_usd, fresh.approval_threshold_usd) == (50, 5)


def test_a_key_is_checked_with_heygen_then_stored_encrypted_and_masked(session_factory, sandbox_factory, engine):
    server = sandbox_factory(api_keys=(SANDBOX_API_KEY, OTHER_KEY))
    box = KeyBox.from_secrets([Fernet.generate_key().decode()])
    with session_factory() as session:
        team = ws.create_workspace(session, "Marketing", actor=ADMIN)
        saved = accounts.save_api_key(session, team.id, OTHER_KEY, actor=ADMIN, box=box, check=checker(server.url),
                                mode="sandbox")
        assert saved.api_key_hint == "sand…-key" and OTHER_KEY not in saved.api_key_encrypted
        assert ws.api_key_for(saved, box, env_key="env-key") == OTHER_KEY
        assert ws.api_key_for(ws.default_workspace(session), box, env_key="env-key") == "env-key"
        assert ws.workspace_mode(saved, None) == "sandbox"
    with engine.connect() as connection:  # a dump of every table holds only ciphertext
        for table in inspect(engine).get_table_names():
            for row in connection.execute(text(f'SELECT * FROM "{table}"')):
                assert OTHER_KEY not in repr(tuple(row))


@pytest.mark.parametrize("raw, message", [
    ("sandbox second", "contains a space or tab; paste it again"),
    ("sandbox-second\n", "contains a line break; paste it again"),
    ("", "Paste the workspace's HeyGen API key first."),
])
def test_a_key_with_spaces_or_a_line_break_is_refused_clearly(session_factory, raw, message):
    box = KeyBox.from_secrets([Fernet.generate_key().decode()])
    with session_factory() as session:
        team = ws.create_workspace(session, "Support", actor=ADMIN)
        with pytest.raises(ws.WorkspaceError, match=message):
            accounts.save_api_key(session, team.id, raw, actor=ADMIN, box=box, check=lambda k: pytest.fail("called"))
        assert session.get(Workspace, team.id).api_key_encrypted is None


def test_a_wrong_key_is_refused_with_heygens_reason_and_heygen_down_saves_nothing(session_factory, sandbox):
    box = KeyBox.from_secrets([Fernet.generate_key().decode()])
    with session_factory() as session:
        team = ws.create_workspace(session, "Support", actor=ADMIN)
        with pytest.raises(ws.WorkspaceError) as wrong:
            accounts.save_api_key(session, team.id, "not-a-real-key-123", actor=ADMIN, box=box, check=checker(sandbox.url))
        assert "HeyGen did not accept this key: " in str(wrong.value) and "Invalid API key" in str(wrong.value)
        assert "not-a-real-key-123" not in str(wrong.value)
        down = f"http://127.0.0.1:{free_port()}"
        with pytest.raises(ws.WorkspaceError, match="could not be reached to check the key, so it was not saved"):
            accounts.save_api_key(session, team.id, SANDBOX_API_KEY, actor=ADMIN, box=box, check=checker(down))
        assert session.get(Workspace, team.id).api_key_encrypted is None


def test_reencrypt_moves_every_stored_key_to_the_new_secret(session_factory):
    old, new = Fernet.generate_key().decode(), Fernet.generate_key().decode()
    with session_factory() as session:
        for name in ("A", "B"):
            team = ws.create_workspace(session, name, actor=ADMIN)
            accounts.save_api_key(session, team.id, f"key-of-{name}-0123456", actor=ADMIN, box=KeyBox.from_secrets([old]),
                            check=lambda k: None)
        assert reencrypt_all(session, KeyBox.from_secrets([new, old])) == 2
        only_new = KeyBox.from_secrets([new])
        keys = sorted(ws.api_key_for(w, only_new, None) for w in session.scalars(select(Workspace))
                      if w.api_key_encrypted)
        assert keys == ["key-of-A-0123456", "key-of-B-0123456"]


def test_folders_belong_to_one_workspace(session_factory):
    with session_factory() as session:
        a = ws.create_workspace(session, "A", actor=ADMIN)
        b = ws.create_workspace(session, "B", actor=ADMIN)
        folder_a = ws.create_folder(session, a.id, "Pia's videos", actor=ADMIN)
        folder_b = ws.create_folder(session, b.id, "Pia's videos", actor=ADMIN)
        reel = Reel(title="x", owner="Root", workspace_id=a.id)
        session.add(reel)
        session.commit()
        assert ws.file_reel(session, reel.id, folder_a.id, actor=ADMIN).folder_id == folder_a.id
        with pytest.raises(ws.WorkspaceError, match="not in this reel's workspace"):
            ws.file_reel(session, reel.id, folder_b.id, actor=ADMIN)
        with pytest.raises(ws.WorkspaceError, match="exists already"):
            ws.create_folder(session, a.id, "pia's videos", actor=ADMIN)
        assert [f.name for f in ws.folders(session, a.id)] == ["Pia's videos"]
        assert session.scalars(select(ReelEvent)).all() == []
