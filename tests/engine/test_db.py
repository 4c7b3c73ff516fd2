"""core.db: engines, sessions and concurrent-safe migrations on SQLite and PostgreSQL."""

from __future__ import annotations

import subprocess
import sys
import time

import pytest
from sqlalchemy import func, inspect, select, text
from sqlalchemy.exc import IntegrityError

from core import db
from core.config import PROJECT_ROOT
from core.models import Reel, Scene


@pytest.mark.parametrize(
    ("url", "expected"),
    [
        ("postgres://u:p@h:5432/d", "postgresql+psycopg://u:p@h:5432/d"),
        ("postgresql://u@h/d?sslmode=require", "postgresql+psycopg://u@h/d?sslmode=require"),
        ("postgresql+psycopg://u@h/d", "postgresql+psycopg://u@h/d"),
        ("sqlite:///data/reels.db", "sqlite:///data/reels.db"),
    ],
)
def test_normalise_url_points_postgres_at_psycopg(url, expected):
    assert db.normalise_url(url) == expected


def test_sqlite_engine_creates_folder_and_sets_pragmas(tmp_path):
    path = tmp_path / "nested" / "deeper" / "reels.db"
    engine = db.make_engine(f"sqlite:///{path}")
    try:
        with engine.connect() as connection:
            assert connection.exec_driver_sql("PRAGMA journal_mode").scalar() == "wal"
            assert connection.exec_driver_sql("PRAGMA busy_timeout").scalar() == 10_000
            assert connection.exec_driver_sql("PRAGMA foreign_keys").scalar() == 1
        assert path.parent.is_dir()
    finally:
        engine.dispose()


def test_postgres_url_uses_psycopg_and_pre_ping():
    engine = db.make_engine("postgresql://postgres@127.0.0.1:5432/test")
    assert engine.dialect.driver == "psycopg"
    assert engine.pool._pre_ping is True
    engine.dispose()


def test_engine_is_migrated_and_enforces_foreign_keys(engine, session_factory):
    assert db.is_current(engine)
    assert {"reels", "scenes", "reel_events", "reel_attempts", "voice_annotations", "speech_samples",
            "worker_leases", "alembic_version"} <= set(inspect(engine).get_table_names())
    with pytest.raises(IntegrityError), db.session_scope(session_factory) as session:
        session.add(Scene(reel_id=987654, position=1, script="orphan"))


def test_session_scope_commits_on_success_and_rolls_back_on_error(session_factory):
    with db.session_scope(session_factory) as session:
        session.add(Reel(title="kept", owner="ana"))
    with pytest.raises(RuntimeError), db.session_scope(session_factory) as session:
        session.add(Reel(title="discarded", owner="ana"))
        session.flush()
        raise RuntimeError("boom")
    with db.session_scope(session_factory) as session:
        titles = session.scalars(select(Reel.title)).all()
        reel = session.scalars(select(Reel)).one()
    assert titles == ["kept"]
    assert reel.title == "kept"  # still readable after the session closed (expire_on_commit=False)


def test_migrate_at_head_does_not_upgrade_again(engine, monkeypatch):
    def fail(_connection):
        raise AssertionError("upgrade ran although the schema is current")

    monkeypatch.setattr(db, "_upgrade", fail)
    db.migrate(engine)
    with engine.connect() as connection:
        assert db.current_revisions(connection) == db.head_revisions()


def test_data_survives_a_second_migrate(engine, session_factory):
    with db.session_scope(session_factory) as session:
        session.add(Reel(title="before", owner="ana"))
    db.migrate(engine)
    with db.session_scope(session_factory) as session:
        assert session.scalar(select(func.count()).select_from(Reel)) == 1


_MIGRATE_AT = """
import sys, time
from core.db import make_engine, migrate
url, start = sys.argv[1], float(sys.argv[2])
engine = make_engine(url)
time.sleep(max(0.0, start - time.time()))
migrate(engine)
print("ok")
"""


def test_two_processes_migrating_at_once_both_succeed(db_url):
    """Both processes start the upgrade at the same moment; the lock lets one apply it, the other waits."""
    start = time.time() + 2.0  # both interpreters have imported SQLAlchemy and Alembic by then
    procs = [subprocess.Popen([sys.executable, "-c", _MIGRATE_AT, db_url, str(start)], cwd=PROJECT_ROOT,
                              stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
             for _ in range(2)]
    results = [p.communicate(timeout=120) for p in procs]
    for proc, (out, err) in zip(procs, results, strict=True):
        assert proc.returncode == 0, err
        assert out.strip() == "ok"
    engine = db.make_engine(db_url)
    try:
        with engine.connect() as connection:
            assert connection.execute(text("SELECT version_num FROM alembic_version")).scalars().all() == \
                sorted(db.head_revisions())
        assert "reels" in inspect(engine).get_table_names()
    finally:
        engine.dispose()
