"""Database engine, sessions and migrations for Reel Studio.

SQLite (the default, one file under ``DATA_DIR``) and PostgreSQL (teams, several app
replicas and one worker) run the same code:

- :func:`make_engine` builds a SQLAlchemy engine with the settings each backend needs
  (SQLite: WAL journal with ``synchronous=NORMAL``, 10 s busy timeout, foreign keys on;
  PostgreSQL: psycopg 3 driver, connections checked before use).
- :func:`make_session_factory` / :func:`session_scope` give sessions that commit on
  success and roll back on error.
- :func:`migrate` applies the Alembic migrations in ``migrations/`` ("upgrade head");
  it is cheap when the schema is current and safe when two processes start at once.
"""

from __future__ import annotations

import contextlib
import sqlite3
import time
from collections.abc import Iterator
from functools import lru_cache
from pathlib import Path

from sqlalchemy import Connection, Engine, create_engine, event, text
from sqlalchemy.engine import make_url
from sqlalchemy.orm import Session, sessionmaker

from core.config import PROJECT_ROOT

try:  # POSIX; on Windows SQLite's own BEGIN IMMEDIATE + busy timeout serialise upgrades
    import fcntl
except ImportError:  # pragma: no cover
    fcntl = None

MIGRATIONS_DIR = PROJECT_ROOT / "migrations"
ALEMBIC_INI = PROJECT_ROOT / "alembic.ini"
#: Key of the PostgreSQL advisory lock held while migrating (any fixed 64-bit number).
MIGRATION_LOCK_KEY = 7_319_204_551
SQLITE_BUSY_TIMEOUT_MS = 10_000


def normalise_url(url: str) -> str:
    """Return ``url`` with PostgreSQL URLs pointed at the psycopg 3 driver.

    ``postgres://…`` and ``postgresql://…`` (what hosting providers hand out) become
    ``postgresql+psycopg://…``; any other URL is returned unchanged.
    """
    for prefix in ("postgres://", "postgresql://"):
        if url.startswith(prefix):
            return "postgresql+psycopg://" + url[len(prefix):]
    return url


def make_engine(url: str, **kwargs) -> Engine:
    """Create the engine for a database URL.

    SQLite: creates the parent folder of the file, and every connection gets
    ``journal_mode=WAL``, ``synchronous=NORMAL``, ``busy_timeout=10000`` (ms) and
    ``foreign_keys=ON``. ``synchronous=NORMAL`` under WAL is safe against application crashes
    (no corruption, no lost commits); a power cut or OS crash can lose the commits made since
    the last checkpoint (the database stays consistent).
    PostgreSQL: ``postgres://``/``postgresql://`` URLs use psycopg 3; ``pool_pre_ping``
    replaces connections the server dropped. Extra ``kwargs`` go to
    :func:`sqlalchemy.create_engine`.

    Raises:
        sqlalchemy.exc.ArgumentError: the URL cannot be parsed.
    """
    url = normalise_url(url)
    parsed = make_url(url)
    if parsed.get_backend_name() == "sqlite":
        database = parsed.database
        if database and database != ":memory:" and not database.startswith("file:"):
            Path(database).expanduser().parent.mkdir(parents=True, exist_ok=True)
        engine = create_engine(url, **kwargs)
        event.listen(engine, "connect", _sqlite_on_connect)
        return engine
    kwargs.setdefault("pool_pre_ping", True)
    return create_engine(url, **kwargs)


def _sqlite_on_connect(dbapi_connection, _record) -> None:
    cursor = dbapi_connection.cursor()
    try:
        cursor.execute(f"PRAGMA busy_timeout = {SQLITE_BUSY_TIMEOUT_MS}")
        cursor.execute("PRAGMA foreign_keys = ON")
        _enable_wal(cursor)
        # Under WAL, NORMAL syncs the log at checkpoints instead of at every commit. The database
        # cannot be corrupted and an application crash loses nothing; only a power cut or OS crash
        # can lose the last commits before the next checkpoint. About 3x cheaper commits.
        cursor.execute("PRAGMA synchronous = NORMAL")
    finally:
        cursor.close()


def _enable_wal(cursor) -> None:
    """Switch the file to WAL (persistent). The switch needs the file briefly to itself and SQLite does
    not apply the busy timeout to it, so "database is locked" is retried for up to the busy timeout."""
    if cursor.execute("PRAGMA journal_mode").fetchone()[0] in ("wal", "memory"):
        return
    deadline = time.monotonic() + SQLITE_BUSY_TIMEOUT_MS / 1000
    while True:
        try:
            cursor.execute("PRAGMA journal_mode = WAL")
            return
        except sqlite3.OperationalError as exc:
            if "locked" not in str(exc) or time.monotonic() > deadline:
                raise
            time.sleep(0.02)


def make_session_factory(engine: Engine) -> sessionmaker[Session]:
    """A session factory bound to ``engine``; objects stay readable after commit (``expire_on_commit=False``)."""
    return sessionmaker(bind=engine, expire_on_commit=False)


@contextlib.contextmanager
def session_scope(factory: sessionmaker[Session]) -> Iterator[Session]:
    """Open a session, commit when the block succeeds, roll back and re-raise when it fails, always close."""
    session = factory()
    try:
        yield session
        session.commit()
    except BaseException:
        session.rollback()
        raise
    finally:
        session.close()


def alembic_config(url: str | None = None):
    """The Alembic :class:`~alembic.config.Config` of the project (``alembic.ini``, ``migrations/``).

    ``url`` (optional) becomes ``sqlalchemy.url`` for offline use; :func:`migrate` passes
    a live connection instead.
    """
    from alembic.config import Config

    config = Config(str(ALEMBIC_INI)) if ALEMBIC_INI.is_file() else Config()
    config.set_main_option("script_location", str(MIGRATIONS_DIR))
    if url:
        config.set_main_option("sqlalchemy.url", url.replace("%", "%%"))
    return config


@lru_cache(maxsize=1)
def head_revisions() -> frozenset[str]:
    """Revision ids of the migration heads in ``migrations/versions`` (read once per process)."""
    from alembic.script import ScriptDirectory

    return frozenset(ScriptDirectory.from_config(alembic_config()).get_heads())


def current_revisions(connection: Connection) -> frozenset[str]:
    """Revision ids stamped in the database's ``alembic_version`` table (empty for a new database)."""
    from alembic.runtime.migration import MigrationContext

    return frozenset(MigrationContext.configure(connection).get_current_heads())


def is_current(engine: Engine) -> bool:
    """True when the database is at the migration head (no upgrade needed)."""
    with engine.connect() as connection:
        return current_revisions(connection) == head_revisions()


def migrate(engine: Engine) -> None:
    """Bring the schema to the newest migration (Alembic ``upgrade head``).

    Costs one small query when the schema is already current. Safe when several
    processes start at once: PostgreSQL serialises upgrades with a transaction-level
    advisory lock (the whole upgrade is one transaction, DDL included); SQLite holds an
    exclusive lock on ``<database>.migrate.lock`` next to the file plus ``BEGIN IMMEDIATE``.
    A process that waited finds the schema current and does nothing. On SQLite, foreign keys are
    off during the upgrade (a batch migration rebuilds a table with ``DROP TABLE``, which would
    otherwise cascade-delete the rows of its child tables) and checked before the commit.

    Raises:
        sqlalchemy.exc.SQLAlchemyError: the database is unreachable or a migration failed
            (nothing is half-applied on PostgreSQL; the SQLite upgrade is one transaction too).
        RuntimeError: on SQLite, the upgraded schema fails ``PRAGMA foreign_key_check`` (rolled back).
    """
    if is_current(engine):
        return
    with _migration_file_lock(engine), engine.connect() as connection:
        sqlite = connection.dialect.name == "sqlite"
        if sqlite:  # a batch migration rebuilds a table: DROP TABLE must not cascade to its children's rows
            connection.exec_driver_sql("PRAGMA foreign_keys = OFF")
            connection.commit()
        try:
            with connection.begin():
                if sqlite:
                    connection.exec_driver_sql("BEGIN IMMEDIATE")
                else:
                    connection.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": MIGRATION_LOCK_KEY})
                if current_revisions(connection) == head_revisions():
                    return
                _upgrade(connection)
                if sqlite and connection.exec_driver_sql("PRAGMA foreign_key_check").first() is not None:
                    raise RuntimeError("the migration left rows whose parent row is missing; nothing was applied")
        finally:
            if sqlite:
                connection.exec_driver_sql("PRAGMA foreign_keys = ON")
                connection.commit()


def _upgrade(connection: Connection) -> None:
    from alembic import command

    config = alembic_config()
    config.attributes["connection"] = connection
    command.upgrade(config, "head")


@contextlib.contextmanager
def _migration_file_lock(engine: Engine) -> Iterator[None]:
    """Exclusive ``flock`` on ``<sqlite file>.migrate.lock``; nothing for other databases or in-memory SQLite."""
    database = engine.url.database if engine.dialect.name == "sqlite" else None
    if fcntl is None or not database or database == ":memory:" or database.startswith("file:"):
        yield
        return
    lock_path = Path(database).expanduser().with_name(Path(database).name + ".migrate.lock")
    with lock_path.open("a") as handle:
        fcntl.flock(handle, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)
