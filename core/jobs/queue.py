"""The order in which queued reels are sent to HeyGen: interactive first, then batch rows fairly by owner.

A reel launched from Compose is ``interactive`` and is sent before any ``batch`` reel (oldest
interactive first). Batch reels share the remaining HeyGen slots by owner: each owner's batch
reels are ranked oldest first (1, 2, 3, …), the rank is added to the owner's batch reels already
at HeyGen, and the lowest sum goes next — so an owner with 500 queued rows takes turns with an
owner with 3 instead of going first 500 times. Ties go to the older reel. Batch reels fill at most
all HeyGen slots but one (:func:`batch_slots`): the last one is kept for a launch from Compose,
so it is sent at the next worker cycle instead of waiting for a batch reel to finish.

:func:`queue_order` is what the worker's claim uses and what the board shows as each reel's
place in the queue (:func:`queue_positions`), so the two never disagree.
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from core.models import ACTIVE_STATUSES, Reel


@dataclass(frozen=True)
class QueuedReel:
    """One queued reel in sending order: ``id``, ``owner`` and ``priority`` (``interactive``/``batch``)."""

    id: int
    owner: str
    priority: str


def batch_slots(concurrency: int) -> int:
    """HeyGen slots batch reels may fill: all but one (kept for launches from Compose) when there are two
    or more, so an interactive launch is sent at the next worker cycle even during a large batch."""
    return concurrency - 1 if concurrency >= 2 else concurrency


def active_batch_by_owner(session: Session) -> dict[str, int]:
    """``{owner: batch reels of that owner now at HeyGen}`` (submitting, pending, processing)."""
    return dict(session.execute(
        select(Reel.owner, func.count()).where(Reel.status.in_(ACTIVE_STATUSES), Reel.priority == "batch")
        .group_by(Reel.owner)
    ).all())


def queue_order(session: Session, *, limit: int | None = None) -> list[QueuedReel]:
    """Queued reels in the order the worker sends them (see the module docstring).

    Args:
        limit: at most this many reels (the claim needs only a few); ``None`` for all of them.
            Each owner contributes at most ``limit`` batch rows to the computation, so a
            limited call reads O(interactive + owners × limit) rows, not the whole batch.
    Returns:
        :class:`QueuedReel` items, the next one to send first.
    """
    interactive_q = (select(Reel.id, Reel.owner).where(Reel.status == "queued", Reel.priority != "batch")
                     .order_by(Reel.queued_at, Reel.id))
    if limit is not None:
        interactive_q = interactive_q.limit(limit)
    out = [QueuedReel(reel_id, owner, "interactive") for reel_id, owner in session.execute(interactive_q)]
    if limit is not None and len(out) >= limit:
        return out[:limit]
    rank = func.row_number().over(partition_by=Reel.owner, order_by=(Reel.queued_at, Reel.id)).label("rank")
    ranked = (select(Reel.id, Reel.owner, Reel.queued_at, rank)
              .where(Reel.status == "queued", Reel.priority == "batch").subquery())
    batch_q = select(ranked.c.id, ranked.c.owner, ranked.c.queued_at, ranked.c.rank)
    if limit is not None:
        batch_q = batch_q.where(ranked.c.rank <= limit)
    active = active_batch_by_owner(session)
    rows = session.execute(batch_q).all()
    rows.sort(key=lambda r: (active.get(r.owner, 0) + r.rank, r.queued_at, r.id))
    out.extend(QueuedReel(r.id, r.owner, "batch") for r in rows)
    return out if limit is None else out[:limit]


def queue_positions(session: Session) -> dict[int, int]:
    """``{reel id: place in the queue}`` for every queued reel; 1 is the next one sent to HeyGen."""
    return {item.id: n for n, item in enumerate(queue_order(session), start=1)}
