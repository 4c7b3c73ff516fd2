"""Alembic migrations: the migrated schema is exactly core.models, down/up works, and the CLI works by hand."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

from alembic import command
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import inspect, text

from core import db
from core.config import PROJECT_ROOT
from core.models import Base

ALEMBIC = str(Path(sys.executable).with_name("alembic"))


def _diffs(connection) -> list:
    context = MigrationContext.configure(connection, opts={"compare_type": True, "compare_server_default": True})
    return compare_metadata(context, Base.metadata)


def test_migrated_schema_matches_models(engine):
    with engine.connect() as connection:
        assert _diffs(connection) == []


def test_one_linear_history_starting_with_the_initial_revision():
    scripts = ScriptDirectory.from_config(db.alembic_config())
    assert scripts.get_heads() == list(db.head_revisions())
    assert scripts.get_base() == "0001"
    assert (PROJECT_ROOT / "migrations" / "versions" / "0001_initial.py").is_file()


def test_downgrade_to_base_and_upgrade_again(engine):
    config = db.alembic_config()
    with engine.begin() as connection:
        config.attributes["connection"] = connection
        command.downgrade(config, "base")
    assert set(inspect(engine).get_table_names()) <= {"alembic_version"}
    db.migrate(engine)
    with engine.connect() as connection:
        assert _diffs(connection) == []
        assert db.current_revisions(connection) == db.head_revisions()


def _alembic(args: list[str], env_extra: dict[str, str], cwd: Path) -> subprocess.CompletedProcess:
    env = {k: v for k, v in os.environ.items() if k != "DATABASE_URL"} | env_extra
    return subprocess.run([ALEMBIC, *args], cwd=cwd, env=env, capture_output=True, text=True, timeout=120)


def test_alembic_upgrade_head_by_hand(tmp_path):
    """`alembic -x url=... upgrade head` from the project root, then `alembic current` via DATABASE_URL."""
    assert shutil.which(ALEMBIC), "the alembic command comes with requirements.txt"
    path = tmp_path / "by-hand" / "reels.db"
    url = f"sqlite:///{path}"

    upgraded = _alembic(["-x", f"url={url}", "upgrade", "head"], {}, PROJECT_ROOT)
    assert upgraded.returncode == 0, upgraded.stderr
    assert "Running upgrade  -> 0001" in upgraded.stderr

    current = _alembic(["current"], {"DATABASE_URL": url}, PROJECT_ROOT)
    assert current.returncode == 0, current.stderr
    [head] = db.head_revisions()
    assert f"{head} (head)" in current.stdout

    engine = db.make_engine(url)
    try:
        assert db.is_current(engine)
        with engine.connect() as connection:
            assert _diffs(connection) == []
    finally:
        engine.dispose()


def test_upgrading_an_existing_database_keeps_every_child_row(engine):
    """A batch migration rebuilds ``reels`` on SQLite (DROP TABLE + rename); with foreign keys on, that
    DROP cascaded and deleted every scene, event and attempt of the existing reels."""
    config = db.alembic_config()
    with engine.begin() as connection:
        config.attributes["connection"] = connection
        command.downgrade(config, "0002")
    with engine.begin() as connection:
        connection.execute(text("INSERT INTO reels (id, title, owner, mode, aspect_ratio, resolution, captions, "
                                "engine, status, attempt, created_at, updated_at) VALUES (3, 't', 'o', "
                                "'scene_based', '16:9', '1080p', false, 'avatar_iv', 'failed', 1, "
                                "CURRENT_TIMESTAMP, CURRENT_TIMESTAMP)"))
        connection.execute(text("INSERT INTO scenes (reel_id, position, script, speed, pitch) "
                                "VALUES (3, 1, 'Kept.', 1.0, 0.0)"))
        connection.execute(text("INSERT INTO reel_events (reel_id, at, actor, to_status, detail) "
                                "VALUES (3, CURRENT_TIMESTAMP, 'o', 'draft', 'created')"))
        connection.execute(text("INSERT INTO reel_attempts (reel_id, number, idempotency_key, status, queued_at) "
                                "VALUES (3, 1, 'k-3-1', 'failed', CURRENT_TIMESTAMP)"))
    db.migrate(engine)
    with engine.connect() as connection:
        counts = [connection.execute(text(f"SELECT count(*) FROM {t} WHERE reel_id = 3")).scalar()
                  for t in ("scenes", "reel_events", "reel_attempts")]
        assert counts == [1, 1, 1]
        if connection.dialect.name == "sqlite":
            assert connection.exec_driver_sql("PRAGMA foreign_keys").scalar() == 1  # back on afterwards


def test_alembic_upgrade_head_works_from_another_folder(tmp_path):
    """``alembic -c /path/to/alembic.ini upgrade head`` outside the project root (systemd units, containers)."""
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    env = {"PATH": os.environ.get("PATH", ""), "DATABASE_URL": f"sqlite:///{tmp_path / 'reels.db'}",
           "DATA_DIR": str(tmp_path / "data")}
    result = subprocess.run([sys.executable, "-m", "alembic", "-c", str(PROJECT_ROOT / "alembic.ini"), "upgrade",
                             "head"], cwd=elsewhere, env=env, capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stderr
    engine = db.make_engine(f"sqlite:///{tmp_path / 'reels.db'}")
    try:
        assert db.is_current(engine)
    finally:
        engine.dispose()
