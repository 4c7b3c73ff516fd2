"""The board's history: CSV export, owners, the status timeline and render times for the charts.
"""

from __future__ import annotations

import io
from datetime import UTC, datetime, timedelta

import pandas as pd
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from core.models import REEL_STATUSES, Reel, ReelAttempt, ReelEvent, utcnow

#: Columns of the CSV export, with their headers.
CSV_COLUMNS = {
    "id": "reel_id", "title": "title", "owner": "owner", "status": "status", "stage": "stage",
    "progress": "progress", "submitted": "submitted_utc", "updated": "updated_utc",
    "completed_at": "completed_utc", "duration_s": "duration_s", "estimated_cost_usd": "estimated_cost_usd",
    "attempt": "attempt", "video_id": "video_id", "video": "video_url", "failure": "failure_reason",
    "stuck": "stuck",
}


def board_csv(frame: pd.DataFrame) -> bytes:
    """UTF-8 CSV of a :func:`load_board` table: one line per reel, ISO 8601 UTC times, progress 0..1."""
    out = frame[list(CSV_COLUMNS)].rename(columns=CSV_COLUMNS).copy()
    for column in ("submitted_utc", "updated_utc", "completed_utc"):
        out[column] = out[column].map(lambda t: t.isoformat() if pd.notna(t) else "")
    out["progress"] = out["progress"].round(3)
    out["stage"] = out["stage"].astype(str).str.replace("⚠️ ", "", regex=False)
    buffer = io.StringIO()
    out.to_csv(buffer, index=False)
    return buffer.getvalue().encode("utf-8")


def owners(session: Session) -> list[str]:
    """Distinct non-empty reel owners, sorted case-insensitively (one query)."""
    names = session.scalars(select(Reel.owner).where(Reel.owner != "").distinct()).all()
    return sorted(names, key=str.lower)


def status_timeline(session: Session, *, days: int = 14, now: datetime | None = None) -> pd.DataFrame:
    """Status changes per time bucket from ``reel_events``: columns ``bucket`` (aware UTC), ``status``, ``reels``.

    Counts the reels that reached each status (events whose status changed) in the last
    ``days`` days; buckets are hours when everything happened within two days, else days. The
    database groups and counts (two queries, a few hundred rows back): a team's history holds
    millions of events, far too many to fetch.
    """
    now = now or utcnow()
    changes = ((ReelEvent.at >= now - timedelta(days=days))
               & ((ReelEvent.from_status.is_(None)) | (ReelEvent.from_status != ReelEvent.to_status)))
    first, last = session.execute(select(func.min(ReelEvent.at), func.max(ReelEvent.at)).where(changes)).one()
    if first is None:
        return pd.DataFrame({"bucket": pd.Series([], dtype="datetime64[ns, UTC]"), "status": [], "reels": []})
    unit = "hour" if _as_utc(last) - _as_utc(first) <= timedelta(days=2) else "day"
    bucket = _bucket(session.get_bind().dialect.name, unit).label("bucket")
    rows = session.execute(select(bucket, ReelEvent.to_status, func.count()).where(changes)
                           .group_by(bucket, ReelEvent.to_status)).all()
    counts = pd.DataFrame(rows, columns=["bucket", "status", "reels"])
    counts["bucket"] = pd.to_datetime(counts["bucket"], utc=True)
    counts["reels"] = counts["reels"].astype("int64")
    order = {s: i for i, s in enumerate(REEL_STATUSES)}
    return counts.sort_values(["bucket", "status"], key=lambda s: s.map(order) if s.name == "status" else s,
                              ignore_index=True)


def _as_utc(t: datetime | str) -> datetime:
    if isinstance(t, str):  # SQLite's min()/max() of a timestamp come back as text
        t = datetime.fromisoformat(t)
    return t.replace(tzinfo=UTC) if t.tzinfo is None else t


def _bucket(dialect: str, unit: str):
    """``reel_events.at`` truncated to the UTC ``unit`` (``"hour"`` or ``"day"``), in SQL."""
    if dialect == "postgresql":
        return func.date_trunc(unit, func.timezone("UTC", ReelEvent.at))
    return func.strftime("%Y-%m-%d %H:00:00" if unit == "hour" else "%Y-%m-%d 00:00:00", ReelEvent.at)


def render_times(session: Session, *, limit: int = 500) -> pd.DataFrame:
    """Finished renders from ``reel_attempts``: ``finished_at`` (UTC), ``video_s`` (output seconds),
    ``render_min`` (minutes from submission to completion), ``reel_id``; newest ``limit`` first."""
    rows = session.execute(
        select(ReelAttempt.reel_id, ReelAttempt.finished_at, ReelAttempt.duration_s, ReelAttempt.render_seconds)
        .where(ReelAttempt.render_seconds.is_not(None))
        .order_by(ReelAttempt.id.desc()).limit(limit)
    ).all()
    frame = pd.DataFrame(rows, columns=["reel_id", "finished_at", "video_s", "render_s"])
    frame["finished_at"] = pd.to_datetime(frame["finished_at"], utc=True)
    frame["render_min"] = frame["render_s"].astype(float) / 60.0
    return frame.drop(columns=["render_s"])
