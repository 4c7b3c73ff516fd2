"""The board's history: CSV export, owners, the status timeline and render times for the charts.
"""

from __future__ import annotations

import io
from datetime import datetime, timedelta

import pandas as pd
from sqlalchemy import select
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
    ``days`` days; buckets are hours when everything happened within two days, else days.
    """
    now = now or utcnow()
    rows = session.execute(
        select(ReelEvent.at, ReelEvent.to_status)
        .where(ReelEvent.at >= now - timedelta(days=days))
        .where((ReelEvent.from_status.is_(None)) | (ReelEvent.from_status != ReelEvent.to_status))
    ).all()
    if not rows:
        return pd.DataFrame({"bucket": pd.Series([], dtype="datetime64[ns, UTC]"), "status": [], "reels": []})
    frame = pd.DataFrame(rows, columns=["at", "status"])
    frame["at"] = pd.to_datetime(frame["at"], utc=True)
    span = frame["at"].max() - frame["at"].min()
    frame["bucket"] = frame["at"].dt.floor("h" if span <= pd.Timedelta(days=2) else "D")
    counts = frame.groupby(["bucket", "status"]).size().reset_index(name="reels")
    order = {s: i for i, s in enumerate(REEL_STATUSES)}
    return counts.sort_values(["bucket", "status"], key=lambda s: s.map(order) if s.name == "status" else s,
                              ignore_index=True)


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
