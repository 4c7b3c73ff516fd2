"""Alembic environment of Reel Studio.

Two ways in:

- ``core.db.migrate(engine)`` passes an open connection in ``config.attributes["connection"]``
  (inside its own transaction and lock); this file then only runs the migrations.
- By hand, ``alembic upgrade head`` from the project root: the URL comes from
  ``-x url=...``, else from ``core.config.load_settings().db_url`` (``DATABASE_URL``,
  ``.streamlit/secrets.toml``, or the SQLite file in ``DATA_DIR``).

SQLite gets ``render_as_batch`` so later ALTERs work through table copies.
"""

from __future__ import annotations

from logging.config import fileConfig

from alembic import context
from sqlalchemy import Connection

from core.models import Base

config = context.config
target_metadata = Base.metadata
if config.attributes.get("connection") is None and config.config_file_name:
    fileConfig(config.config_file_name, disable_existing_loggers=False)


def _url() -> str:
    from core.config import load_settings
    from core.db import normalise_url

    url = context.get_x_argument(as_dictionary=True).get("url") or load_settings().db_url
    return normalise_url(url)


def _configure(connection: Connection) -> None:
    context.configure(
        connection=connection,
        target_metadata=target_metadata,
        render_as_batch=connection.dialect.name == "sqlite",
        compare_type=True,
    )


def run_offline() -> None:
    """``alembic upgrade head --sql``: print the SQL instead of running it."""
    url = _url()
    context.configure(
        url=url,
        target_metadata=target_metadata,
        literal_binds=True,
        render_as_batch=url.startswith("sqlite"),
        dialect_opts={"paramstyle": "named"},
    )
    with context.begin_transaction():
        context.run_migrations()


def run_online() -> None:
    """Run the migrations on the connection given by ``core.db.migrate``, or on a new one."""
    connection = config.attributes.get("connection")
    if connection is not None:
        _configure(connection)
        with context.begin_transaction():
            context.run_migrations()
        return

    from core.db import make_engine

    engine = make_engine(_url())
    try:
        with engine.connect() as connection:
            _configure(connection)
            with context.begin_transaction():
                context.run_migrations()
    finally:
        engine.dispose()


if context.is_offline_mode():
    run_offline()
else:
    run_online()
