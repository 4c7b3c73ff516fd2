"""Users on SQLite and PostgreSQL: first sign-in, domains, admin emails, local user, roles, linking,
and the migration that turns existing owner names into users."""

from __future__ import annotations

from datetime import timedelta

import pytest
from alembic import command
from sqlalchemy import select, text

from core import db
from core.access.permissions import PermissionDenied
from core.access.users import (
    SignInPolicy,
    SignInRefused,
    UserError,
    actor_for,
    imported_users,
    link_user,
    local_user,
    set_role,
    sign_in,
)
from core.models import Reel, ReelEvent, User, utcnow

POLICY = SignInPolicy.from_lists("example.com, @studio.example", "producer", "Boss@Example.com")


def test_first_sign_in_creates_the_user_with_the_default_role(session_factory):
    with db.session_scope(session_factory) as session:
        user = sign_in(session, {"email": "Ana@Example.com", "name": "Ana Lima"}, POLICY)
        assert (user.email, user.display_name, user.role, user.origin) == ("ana@example.com", "Ana Lima", "producer", "sign-in")
        first_id = user.id
    with db.session_scope(session_factory) as session:
        again = sign_in(session, {"email": "ana@EXAMPLE.com", "name": "Ana L."}, POLICY)
        assert again.id == first_id and again.display_name == "Ana L."
        assert session.scalar(select(text("count(*)")).select_from(User)) == 1


def test_email_is_unique_whatever_its_case(session_factory):
    from sqlalchemy.exc import IntegrityError

    with pytest.raises(IntegrityError), db.session_scope(session_factory) as session:
        session.add_all([User(email="a@example.com", display_name="A", role="viewer"),
                         User(email="A@EXAMPLE.COM", display_name="B", role="viewer")])
        session.flush()


def test_admin_emails_are_admins_even_after_a_demotion(session_factory):
    with db.session_scope(session_factory) as session:
        boss = sign_in(session, {"email": "boss@example.com", "name": "Boss"}, POLICY)
        assert boss.role == "admin"
        boss.role = "viewer"
        session.flush()
        assert sign_in(session, {"email": "boss@example.com", "name": "Boss"}, POLICY).role == "admin"


@pytest.mark.parametrize("claims", [{"name": "No Mail"}, {"email": "", "name": "x"}, {"email": "not-an-address"}])
def test_an_id_token_without_a_usable_email_is_refused(session_factory, claims):
    with pytest.raises(SignInRefused, match="email"), db.session_scope(session_factory) as session:
        sign_in(session, claims, POLICY)


def test_a_disallowed_domain_is_refused_and_nothing_is_stored(session_factory):
    with pytest.raises(SignInRefused) as caught, db.session_scope(session_factory) as session:
        sign_in(session, {"email": "mallory@evil.example", "name": "M"}, POLICY)
    assert str(caught.value) == (
        "mallory@evil.example may not use Reel Studio: only addresses at example.com, studio.example are allowed.")
    with db.session_scope(session_factory) as session:
        assert session.scalars(select(User)).all() == []


def test_no_domain_list_allows_everyone(session_factory):
    with db.session_scope(session_factory) as session:
        assert sign_in(session, {"email": "x@anywhere.example"}, SignInPolicy()).role == "viewer"


def test_local_user_is_one_admin_row(session_factory):
    with db.session_scope(session_factory) as session:
        first = local_user(session, "reeler")
        second = local_user(session, " reeler ")
        assert first.id == second.id and first.role == "admin" and first.origin == "local" and first.email is None
        actor = actor_for(first)
        assert (actor.name, actor.user_id, actor.role, actor.kind, actor.verified) == ("reeler", first.id, "admin", "user", True)


def test_last_seen_is_written_at_most_once_a_minute(session_factory):
    t0 = utcnow()
    with db.session_scope(session_factory) as session:
        user = sign_in(session, {"email": "ana@example.com"}, POLICY, now=t0)
        sign_in(session, {"email": "ana@example.com"}, POLICY, now=t0 + timedelta(seconds=20))
        assert user.last_seen_at == t0
        sign_in(session, {"email": "ana@example.com"}, POLICY, now=t0 + timedelta(seconds=61))
        assert user.last_seen_at == t0 + timedelta(seconds=61)


def test_roles_are_set_by_admins_only_and_the_last_admin_stays(session_factory):
    with db.session_scope(session_factory) as session:
        admin = sign_in(session, {"email": "boss@example.com", "name": "Boss"}, POLICY)
        ana = sign_in(session, {"email": "ana@example.com", "name": "Ana"}, POLICY)
        with pytest.raises(PermissionDenied, match=r"^Only an admin can manage users and roles\.$"):
            set_role(session, admin.id, "viewer", actor=actor_for(ana))
        with pytest.raises(UserError, match="last admin"):
            set_role(session, admin.id, "viewer", actor=actor_for(admin))
        with pytest.raises(UserError, match="must be one of"):
            set_role(session, ana.id, "owner", actor=actor_for(admin))
        assert set_role(session, ana.id, "admin", actor=actor_for(admin)).role == "admin"
        assert set_role(session, admin.id, "viewer", actor=actor_for(admin)).role == "viewer"


def test_linking_an_imported_name_moves_reels_and_history(session_factory):
    with db.session_scope(session_factory) as session:
        boss = sign_in(session, {"email": "boss@example.com", "name": "Boss"}, POLICY)
        old = User(display_name="ana", role="producer", origin="imported")
        session.add(old)
        session.flush()
        reel = Reel(title="Old", owner="ana", owner_id=old.id)
        session.add(reel)
        session.flush()
        session.add(ReelEvent(reel_id=reel.id, actor="ana", actor_id=old.id, to_status="draft"))
        ana = sign_in(session, {"email": "ana@example.com", "name": "Ana Lima"}, POLICY)
        with pytest.raises(PermissionDenied):
            link_user(session, old.id, ana.id, actor=actor_for(ana))
        with pytest.raises(UserError, match="only imported names"):
            link_user(session, ana.id, boss.id, actor=actor_for(boss))
        link_user(session, old.id, ana.id, actor=actor_for(boss))
        session.expire_all()
        assert session.get(Reel, reel.id).owner_id == ana.id
        assert session.get(Reel, reel.id).owner == "Ana Lima"
        event = session.scalars(select(ReelEvent)).one()
        assert (event.actor_id, event.actor) == (ana.id, "ana")  # history keeps the name it had
        assert imported_users(session) == []


def test_migration_turns_owner_names_into_imported_users(db_url):
    """0002 → 0003 on a database with reels and events: every event survives, owners become users."""
    engine = db.make_engine(db_url)
    try:
        config = db.alembic_config()
        with engine.begin() as connection:
            config.attributes["connection"] = connection
            command.upgrade(config, "0002")
            connection.execute(text(
                "INSERT INTO reels (title, owner, mode, aspect_ratio, resolution, captions, engine, status, attempt,"
                " created_at, updated_at) VALUES "
                "('a', 'Ana', 'studio', '16:9', '1080p', false, 'avatar_iv', 'draft', 0, CURRENT_TIMESTAMP, CURRENT_TIMESTAMP),"
                "('b', 'Ana', 'studio', '16:9', '1080p', false, 'avatar_iv', 'draft', 0, CURRENT_TIMESTAMP, CURRENT_TIMESTAMP),"
                "('c', 'Ben', 'studio', '16:9', '1080p', false, 'avatar_iv', 'draft', 0, CURRENT_TIMESTAMP, CURRENT_TIMESTAMP),"
                "('d', '', 'studio', '16:9', '1080p', false, 'avatar_iv', 'draft', 0, CURRENT_TIMESTAMP, CURRENT_TIMESTAMP)"))
            connection.execute(text(
                "INSERT INTO reel_events (reel_id, at, actor, to_status, detail) "
                "SELECT id, CURRENT_TIMESTAMP, owner, 'draft', 'created' FROM reels"))
        with engine.begin() as connection:
            config.attributes["connection"] = connection
            command.upgrade(config, "0003")
        with engine.connect() as connection:  # plain SQL: the ORM models are at head, the schema at 0003
            users = {name: (uid, origin, seen, email) for uid, name, origin, seen, email in connection.execute(
                text("SELECT id, display_name, origin, last_seen_at, email FROM users"))}
            owners = dict(connection.execute(text("SELECT title, owner_id FROM reels")).all())
            versions = {v for (v,) in connection.execute(text("SELECT version FROM reels"))}
            actors = sorted(tuple(r) for r in connection.execute(text("SELECT actor, actor_id FROM reel_events")))
        assert set(users) == {"Ana", "Ben"}
        assert all(origin == "imported" and seen is None and email is None for _, origin, seen, email in users.values())
        ana, ben = users["Ana"][0], users["Ben"][0]
        assert owners == {"a": ana, "b": ana, "c": ben, "d": None}
        assert versions == {1}
        assert actors == sorted([("Ana", ana)] * 2 + [("Ben", ben), ("", None)])
    finally:
        engine.dispose()


def test_policy_comes_from_settings(tmp_path):
    from core.access.users import policy_from_settings
    from core.config import SettingsError, load_settings

    settings = load_settings(env={"ALLOWED_EMAIL_DOMAINS": "Example.com,@b.example", "DEFAULT_ROLE": "producer",
                                  "ADMIN_EMAILS": "Boss@x.example"}, secrets_path=tmp_path / "none.toml")
    policy = policy_from_settings(settings)
    assert policy == SignInPolicy(("example.com", "b.example"), "producer", frozenset({"boss@x.example"}))
    with pytest.raises(SettingsError, match="DEFAULT_ROLE must be viewer, producer or admin"):
        load_settings(env={"DEFAULT_ROLE": "owner"}, secrets_path=tmp_path / "none.toml")
