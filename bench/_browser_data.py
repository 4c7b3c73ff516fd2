"""Team-scale data for ``bench/browser.py``: reels, their attempts and events, a draft, status changes.

The reels and attempts are :func:`status_board.insert_reels`'s (``active`` of them rendering); every
reel also gets ``events_per_reel`` audit events spread over its life, bulk-inserted in chunks.
PostgreSQL runs get a fresh schema of their own (dropped at the end).
"""

from __future__ import annotations

import random
import uuid
from datetime import timedelta

import _common  # noqa: F401 — puts the project root on sys.path (before core is imported)
from sqlalchemy import func, insert, select, text, update
from sqlalchemy.engine import make_url
from status_board import insert_reels

from core.db import make_engine, make_session_factory, migrate, session_scope
from core.models import Reel, ReelEvent, utcnow

#: One scene for the Compose interaction: a studio look and a Starfish voice of the real catalog.
LOOK_ID = "Abigail_expressive_2024112501"
VOICE_ID = "f8c69e517f424cafaecde32dde57096b"
_PATH = ["draft", "queued", "submitting", "pending", "processing", "completed"]
CHUNK = 50_000


def postgres_schema_url(base_url: str) -> tuple[str, str]:
    """``(url of a new empty schema on base_url's server, schema name)``."""
    schema = "rs_bench_" + uuid.uuid4().hex[:12]
    engine = make_engine(base_url)
    with engine.begin() as connection:
        connection.execute(text(f'CREATE SCHEMA "{schema}"'))
    engine.dispose()
    url = make_url(base_url).update_query_dict({"options": f"-csearch_path={schema}"})
    return url.render_as_string(hide_password=False), schema


def drop_postgres_schema(base_url: str, schema: str) -> None:
    """Drop a schema made by :func:`postgres_schema_url`."""
    engine = make_engine(base_url)
    with engine.begin() as connection:
        connection.execute(text(f'DROP SCHEMA IF EXISTS "{schema}" CASCADE'))
    engine.dispose()


def _events(first: int, last: int, per_reel: int, rng: random.Random):
    now = utcnow()
    rows = []
    for reel_id in range(first, last + 1):
        start = now - timedelta(days=rng.uniform(0, 30))
        for k in range(per_reel):
            step = _PATH[min(k, len(_PATH) - 1)]
            rows.append({"reel_id": reel_id, "at": start + timedelta(minutes=k * 3), "actor": "worker",
                         "from_status": _PATH[k - 1] if 0 < k < len(_PATH) else step, "to_status": step,
                         "detail": "" if k < len(_PATH) else "edit"})
        if len(rows) >= CHUNK:
            yield rows
            rows = []
    if rows:
        yield rows


_EVENT_COLUMNS = ("reel_id", "at", "actor", "from_status", "to_status", "detail")


def _copy_events(engine, chunks) -> None:
    """PostgreSQL: the events with ``COPY … FROM STDIN`` (a million rows in seconds, not minutes)."""
    raw = engine.raw_connection()
    try:
        with raw.cursor() as cursor, cursor.copy(f"COPY reel_events ({', '.join(_EVENT_COLUMNS)}) FROM STDIN") as copy:
            for rows in chunks:
                for row in rows:
                    copy.write_row(tuple(row[c] for c in _EVENT_COLUMNS))
        raw.commit()
    finally:
        raw.close()


def populate(url: str, reels: int, active: int, events_per_reel: int) -> dict:
    """Migrate ``url`` and fill it; returns ``{"draft": id of the local user's one-scene draft, "events": n}``."""
    from core.access.users import actor_for, local_user
    from core.reels.drafts import create_reel
    from core.reels.validation import SceneInput
    from ui.identity import os_account_name

    engine = make_engine(url)
    migrate(engine)
    factory = make_session_factory(engine)
    insert_reels(factory, reels, active)
    rng = random.Random(11)
    if engine.dialect.name == "postgresql":
        _copy_events(engine, _events(1, reels, events_per_reel, rng))
    with factory() as session:
        if engine.dialect.name != "postgresql":
            for rows in _events(1, reels, events_per_reel, rng):
                session.execute(insert(ReelEvent), rows)
            session.commit()
        if engine.dialect.name == "postgresql":  # explicit ids do not move the sequence
            session.execute(text("SELECT setval(pg_get_serial_sequence('reels', 'id'), (SELECT max(id) FROM reels))"))
            session.commit()
        events = session.scalar(select(func.count()).select_from(ReelEvent))
    with session_scope(factory) as session:  # the local user's draft: the person at the browser in local mode
        actor = actor_for(local_user(session, os_account_name()))
        draft = create_reel(session, actor=actor, title="Benchmark draft", mode="studio", scenes=[
            SceneInput(position=1, avatar_id=LOOK_ID, voice_id=VOICE_ID, script="Hello there.")]).id
    engine.dispose()
    return {"draft": draft, "events": events}


class StatusChanger:
    """Moves rendering reels to ``failed`` one at a time, as the worker would (status and updated_at)."""

    def __init__(self, url: str, active: int) -> None:
        self.engine = make_engine(url)
        self.factory = make_session_factory(self.engine)
        self.next_id = 1
        self.active = active

    def change(self) -> int:
        """Fail the next rendering reel now; returns its id."""
        reel_id = self.next_id
        if reel_id > self.active:
            raise RuntimeError(f"all {self.active} rendering reels were changed already")
        self.next_id += 1
        with session_scope(self.factory) as session:
            session.execute(update(Reel).where(Reel.id == reel_id).values(
                status="failed", failure_code="RENDER_FAILED", failure_message="The render failed.",
                updated_at=utcnow()))
        return reel_id

    def close(self) -> None:
        self.engine.dispose()
