"""What people read about batches: progress per batch, and the results file (CSV or XLSX).

Database reads only. Durations are seconds, money USD.
"""

from __future__ import annotations

from dataclasses import dataclass

import pandas as pd
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from core.models import ACTIVE_STATUSES, Batch, BatchRow, Reel


@dataclass(frozen=True)
class BatchProgress:
    """One batch at a glance: ``rows`` in the sheet, ``reels`` made, and reels per state."""

    id: int
    title: str
    owner: str
    rows: int
    reels: int
    completed: int
    failed: int
    rendering: int
    queued: int
    cancelled: int

    @property
    def done(self) -> float:
        """Share of the batch's reels that ended (completed, failed or cancelled), 0..1."""
        return (self.completed + self.failed + self.cancelled) / self.reels if self.reels else 0.0


def batch_progress(session: Session, *, owner: str | None = None, limit: int = 50) -> list[BatchProgress]:
    """The newest batches (``owner``: only theirs) with their reels counted by state: two GROUP BY queries."""
    stmt = select(Batch).order_by(Batch.created_at.desc(), Batch.id.desc()).limit(limit)
    if owner:
        stmt = stmt.where(Batch.owner == owner)
    batches = list(session.scalars(stmt))
    if not batches:
        return []
    ids = [b.id for b in batches]
    rows = dict(session.execute(select(BatchRow.batch_id, func.count()).where(BatchRow.batch_id.in_(ids))
                                .group_by(BatchRow.batch_id)).all())
    counts: dict[int, dict[str, int]] = {}
    for batch_id, status, n in session.execute(select(Reel.batch_id, Reel.status, func.count())
                                               .where(Reel.batch_id.in_(ids)).group_by(Reel.batch_id, Reel.status)):
        counts.setdefault(batch_id, {})[status] = n
    out = []
    for b in batches:
        c = counts.get(b.id, {})
        rendering = sum(c.get(s, 0) for s in ACTIVE_STATUSES)
        out.append(BatchProgress(b.id, b.title, b.owner, rows.get(b.id, 0), sum(c.values()), c.get("completed", 0),
                                 c.get("failed", 0), rendering, c.get("queued", 0), c.get("cancelled", 0)))
    return out


#: Columns added after the row's own values in the results file.
RESULT_COLUMNS = ["row", "reel_id", "status", "failure_reason", "video_id", "duration_s", "cost_usd", "video_url"]


def batch_results(session: Session, batch_id: int) -> pd.DataFrame:
    """One line per row of the batch: the row's original values, then :data:`RESULT_COLUMNS` (``row`` 1-based).

    ``cost_usd`` is the launch estimate; rows left out have an empty ``status``.
    """
    batch = session.get(Batch, batch_id)
    if batch is None:
        return pd.DataFrame()
    rows = session.execute(
        select(BatchRow.number, BatchRow.values, BatchRow.excluded, Reel.id, Reel.status, Reel.failure_message,
               Reel.failure_code, Reel.video_id, Reel.duration_s, Reel.estimated_cost_usd, Reel.video_url)
        .outerjoin(Reel, (Reel.batch_id == BatchRow.batch_id) & (Reel.batch_row == BatchRow.number))
        .where(BatchRow.batch_id == batch_id).order_by(BatchRow.number)
    ).all()
    records = []
    for number, values, excluded, reel_id, status, message, code, video_id, duration, cost, url in rows:
        reason = f"{message} ({code})" if message and code else (message or code or "")
        if reel_id is None:
            status = "excluded" if excluded else "not launched"
        records.append({**{c: values.get(c, "") for c in batch.columns}, "row": number, "reel_id": reel_id, "status": status,
                        "failure_reason": reason, "video_id": video_id, "duration_s": duration, "cost_usd": cost,
                        "video_url": url})
    return pd.DataFrame(records, columns=[*batch.columns, *RESULT_COLUMNS])


