"""What the home and settings pages summarise: attention items, new videos, recent reels, worker health.

Database reads only (never HeyGen). Times are aware UTC datetimes; durations seconds.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from core import models
from core.board import rows as board_rows
from core.board import timing
from core.board.rows import BoardRow
from core.board.timing import RenderTimeModel
from core.models import ReelEvent, utcnow

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
    model = model or timing.render_time_model(session)
    failed = board_rows.board(session, statuses=("failed",), owner=owner, limit=limit, model=model, now=now)
    rendering = board_rows.board(session, statuses=models.RENDERING_STATUSES, owner=owner, model=model,
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
    rows = board_rows.board(session, statuses=("completed",), owner=owner, since=since, limit=limit * 5)
    return [r for r in rows if r.completed_at and r.completed_at > since][:limit]


def recent_reels(session: Session, *, owner: str | None = None, limit: int = 8) -> list[BoardRow]:
    """The ``limit`` reels of ``owner`` with the newest activity."""
    return board_rows.board(session, owner=owner, limit=limit)
