"""What the home and settings pages summarise: attention items, new videos, recent reels, worker health.

Database reads only (never HeyGen). Times are aware UTC datetimes; durations seconds.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from urllib.parse import urlsplit, urlunsplit

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from core import generation
from core.generation import BoardRow, RenderTimeModel
from core.models import ReelEvent, WorkerLease, utcnow
from core.worker import LEASE_NAME

#: When a person has no recorded activity, "new since you last looked" starts this long ago.
DEFAULT_LOOKBACK = timedelta(hours=24)


@dataclass(frozen=True)
class Attention:
    """Reels that need a person: ``failed`` (newest first, with reasons) and ``stuck`` renders."""

    failed: list[BoardRow]
    stuck: list[BoardRow]

    @property
    def empty(self) -> bool:
        """True when nothing needs attention."""
        return not self.failed and not self.stuck


def attention(
    session: Session, *, owner: str | None = None, model: RenderTimeModel | None = None,
    now: datetime | None = None, stuck_after_minutes: float = 30.0, limit: int = 10,
) -> Attention:
    """Failed reels (at most ``limit``) and stuck reels of ``owner`` (everyone when ``None``): two queries."""
    now = now or utcnow()
    model = model or generation.render_time_model(session)
    failed = generation.board(session, statuses=("failed",), owner=owner, limit=limit, model=model, now=now)
    rendering = generation.board(session, statuses=generation.RENDERING_STATUSES, owner=owner, model=model,
                                 now=now, stuck_after_minutes=stuck_after_minutes)
    return Attention(failed=failed, stuck=[r for r in rendering if r.stuck])


def last_activity(session: Session, actor: str) -> datetime | None:
    """When ``actor`` last did something recorded in ``reel_events`` (created, launched, retried …)."""
    if not actor:
        return None
    return session.execute(select(func.max(ReelEvent.at)).where(ReelEvent.actor == actor)).scalar_one_or_none()


def default_last_seen(session: Session, actor: str, now: datetime | None = None) -> datetime:
    """Where "finished since you last looked" starts for a new visit: the person's last recorded
    activity, else :data:`DEFAULT_LOOKBACK` ago."""
    now = now or utcnow()
    return last_activity(session, actor) or now - DEFAULT_LOOKBACK


def finished_since(
    session: Session, since: datetime, *, owner: str | None = None, limit: int = 20,
) -> list[BoardRow]:
    """Reels of ``owner`` (everyone when ``None``) completed after ``since``, newest first."""
    rows = generation.board(session, statuses=("completed",), owner=owner, since=since, limit=limit * 5)
    return [r for r in rows if r.completed_at and r.completed_at > since][:limit]


def recent_reels(session: Session, *, owner: str | None = None, limit: int = 8) -> list[BoardRow]:
    """The ``limit`` reels of ``owner`` with the newest activity."""
    return generation.board(session, owner=owner, limit=limit)


@dataclass(frozen=True)
class WorkerStatus:
    """The worker lease as stored in ``worker_leases``.

    ``holder``: the worker acting now (``host:pid:id``) or ``None``; ``last_cycle_at``: when the
    holder last renewed its lease (each cycle renews it); ``alive``: the lease has not expired.
    """

    holder: str | None
    acquired_at: datetime | None
    last_cycle_at: datetime | None
    expires_at: datetime | None
    alive: bool


def worker_status(session: Session, *, lease_seconds: float, now: datetime | None = None) -> WorkerStatus:
    """Read the lease row; ``last_cycle_at`` = ``expires_at`` − ``lease_seconds``."""
    now = now or utcnow()
    lease = session.get(WorkerLease, LEASE_NAME)
    if lease is None or lease.holder is None or lease.expires_at is None:
        return WorkerStatus(None, None, None, None, False)
    last = lease.expires_at - timedelta(seconds=lease_seconds)
    return WorkerStatus(lease.holder, lease.acquired_at, last, lease.expires_at, lease.expires_at > now)


def hide_password(url: str) -> str:
    """``url`` with any password replaced by ``***`` (``redis://:s3cret@host:6379/0`` → ``redis://:***@host:6379/0``).

    Plain paths are returned unchanged. For SQLAlchemy URLs prefer
    ``engine.url.render_as_string(hide_password=True)``.
    """
    parts = urlsplit(url)
    if not parts.scheme or parts.password is None:
        return url
    user = parts.username or ""
    host = parts.hostname or ""
    if ":" in host:
        host = f"[{host}]"
    netloc = f"{user}:***@{host}" + (f":{parts.port}" if parts.port else "")
    return urlunsplit((parts.scheme, netloc, parts.path, parts.query, parts.fragment))
