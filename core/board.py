"""The status board as data: display rows, stage text, CSV export and chart data.

Everything here reads the database only (never HeyGen). The rows themselves come from
:func:`core.generation.board` (one indexed query); this module turns them into a
``pandas.DataFrame`` for the page and a CSV for export, and reads the history tables
(``reel_events``, ``reel_attempts``) for the charts. Times are aware UTC datetimes,
durations seconds, money USD.
"""

from __future__ import annotations

import io
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

import numpy as np
import pandas as pd
from sqlalchemy import Select, String, select, type_coerce
from sqlalchemy.orm import Session

from core import generation
from core.generation import BoardRow, RenderTimeModel
from core.models import REEL_STATUSES, Reel, ReelAttempt, ReelEvent, utcnow

#: How each status reads on the board.
STATUS_LABELS: dict[str, str] = {
    "draft": "Draft",
    "queued": "Queued",
    "submitting": "Submitting",
    "pending": "Pending at HeyGen",
    "processing": "Rendering",
    "completed": "Completed",
    "failed": "Failed",
    "cancelled": "Cancelled",
    "stuck": "Stuck",
}
#: The board's colour code (hex) per status, in :data:`core.models.REEL_STATUSES` order, plus ``stuck``.
STATUS_COLORS: dict[str, str] = {
    "draft": "#BDBDBD",
    "queued": "#64B5F6",
    "submitting": "#1E88E5",
    "pending": "#9575CD",
    "processing": "#FB8C00",
    "completed": "#43A047",
    "failed": "#E53935",
    "cancelled": "#424242",
    "stuck": "#B71C1C",
}
#: Most rows the board shows at once (newest activity first).
BOARD_LIMIT = 20_000


def status_label(status: str) -> str:
    """``"Failed"`` for ``"failed"``, ``"Pending at HeyGen"`` for ``"pending"``; unknown statuses as they are."""
    return STATUS_LABELS.get(status, status)


def human_duration(seconds: float | None) -> str:
    """``"45 s"``, ``"3 min"``, ``"1 h 5 min"``; ``"—"`` for ``None``."""
    if seconds is None:
        return "—"
    seconds = max(0.0, float(seconds))
    if seconds < 60:
        return f"{seconds:.0f} s"
    minutes = round(seconds / 60)
    if minutes < 60:
        return f"{minutes} min"
    hours, rest = divmod(minutes, 60)
    return f"{hours} h {rest} min" if rest else f"{hours} h"


def human_ago(t: datetime | None, now: datetime | None = None) -> str:
    """``"just now"``, ``"3 min ago"``, ``"2 h ago"``, ``"5 days ago"``; ``"never"`` for ``None``."""
    if t is None:
        return "never"
    seconds = ((now or utcnow()) - t).total_seconds()
    if seconds < 45:
        return "just now"
    if seconds < 3600:
        return f"{max(1, round(seconds / 60))} min ago"
    if seconds < 48 * 3600:
        return f"{round(seconds / 3600)} h ago"
    return f"{round(seconds / 86400)} days ago"


def stage_text(row: BoardRow, model: RenderTimeModel, now: datetime | None = None) -> str:
    """One phrase saying where a reel is, e.g. ``"Rendering — about 3 min left"``.

    Remaining time = the model's expected render seconds for the reel's estimated length
    minus the time since submission. Stuck reels (``row.stuck``) say so first.
    """
    now = now or utcnow()
    status = row.status
    if row.stuck:
        started = row.processing_at or row.submitted_at
        waited = (now - started).total_seconds() if started else None
        return f"⚠️ Stuck — no result after {human_duration(waited)}"
    if status == "draft":
        return "Not launched yet"
    if status == "queued":
        return "Waiting for a free HeyGen slot" if (row.attempt or 0) <= 1 else f"Queued again (attempt {row.attempt})"
    if status == "submitting":
        return "Sending to HeyGen"
    if status in generation.RENDERING_STATUSES:
        verb = "Waiting at HeyGen" if status == "pending" else "Rendering"
        if row.submitted_at is None:
            return verb
        left = model.expected_seconds(row.estimated_duration_s) - (now - row.submitted_at).total_seconds()
        if left <= 0:
            return f"{verb} — taking longer than usual"
        if left < 60:
            return f"{verb} — less than a minute left"
        return f"{verb} — about {human_duration(left)} left"
    if status == "completed":
        return f"Ready — {human_duration(row.duration_s)} video" if row.duration_s else "Ready"
    if status == "failed":
        return f"Failed (attempt {row.attempt})" if (row.attempt or 0) > 1 else "Failed"
    if status == "cancelled":
        return "Cancelled before submission"
    return status


def failure_reason(row: BoardRow) -> str | None:
    """``"Your HeyGen balance is too low. (insufficient_credit)"`` or ``None`` when the reel has no failure."""
    if row.status != "failed" and not row.failure_message:
        return None
    message = (row.failure_message or "HeyGen gave no reason.").strip()
    return f"{message} ({row.failure_code})" if row.failure_code else message


@dataclass(frozen=True)
class BoardFilter:
    """What the board shows.

    ``statuses``: any of these (empty = all); ``owner``: exact owner (empty = everyone);
    ``start``/``end``: last activity (``updated_at``) on or after ``start`` and on or before
    ``end`` (whole days in ``tz``); ``query``: case-insensitive text in title, owner or video_id.
    """

    statuses: tuple[str, ...] = ()
    owner: str = ""
    start: date | None = None
    end: date | None = None
    query: str = ""
    tz: str = "UTC"


def day_bounds(start: date | None, end: date | None, tz: str = "UTC") -> tuple[datetime | None, datetime | None]:
    """``(since, until)`` aware UTC datetimes covering whole days ``start``..``end`` in ``tz`` (until exclusive)."""
    zone = ZoneInfo(tz)
    since = datetime.combine(start, time.min, zone).astimezone(UTC) if start else None
    until = datetime.combine(end + timedelta(days=1), time.min, zone).astimezone(UTC) if end else None
    return since, until


#: Columns of :func:`load_board`'s table, in display order.
FRAME_COLUMNS = [
    "id", "title", "owner", "status_label", "status_tags", "stage", "progress", "submitted", "updated", "duration_s",
    "thumbnail", "video", "failure", "stuck", "status", "attempt", "video_id", "completed_at",
    "estimated_cost_usd",
]
_FETCH = [
    "id", "title", "owner", "status", "attempt", "video_id", "updated_at", "queued_at", "submitted_at",
    "processing_at", "completed_at", "estimated_duration_s", "estimated_cost_usd", "duration_s", "video_url",
    "thumbnail_url", "failure_code", "failure_message",
]
_TIMES = ("updated_at", "queued_at", "submitted_at", "processing_at", "completed_at")


def board_statement(f: BoardFilter, *, limit: int = BOARD_LIMIT) -> Select:
    """The board's one SELECT: :func:`core.generation.board`'s filters and order, plus the end of the date range.

    Time columns come back as the driver delivers them (ISO text on SQLite, datetimes on
    PostgreSQL) so that thousands of rows are parsed at once by pandas, not one by one.
    """
    since, until = day_bounds(f.start, f.end, f.tz)
    columns = [type_coerce(getattr(Reel, c), String).label(c) if c in _TIMES else getattr(Reel, c) for c in _FETCH]
    stmt = generation.board_filters(select(*columns), statuses=f.statuses, owner=f.owner, since=since,
                                    until=until, query=f.query)
    return stmt.limit(limit)


def _minutes_text(seconds: pd.Series) -> pd.Series:
    """:func:`human_duration` of many values of at least a minute (others give ``""``), all at once."""
    minutes = np.round(seconds.where(seconds >= 60) / 60)
    texts = {m: human_duration(m * 60) for m in minutes.dropna().unique()}
    return minutes.map(texts).astype(object).fillna("")


def _stages(raw: pd.DataFrame, stuck: pd.Series, model: RenderTimeModel, now: datetime) -> pd.Series:
    """:func:`stage_text` for every row; only rendering reels need per-row arithmetic."""
    status, attempt = raw["status"], raw["attempt"].fillna(0).astype(int)
    stage = status.map({"draft": "Not launched yet", "queued": "Waiting for a free HeyGen slot",
                        "submitting": "Sending to HeyGen", "failed": "Failed",
                        "cancelled": "Cancelled before submission"})
    again = attempt > 1
    stage = stage.mask(status.eq("queued") & again, "Queued again (attempt " + attempt.astype(str) + ")")
    stage = stage.mask(status.eq("failed") & again, "Failed (attempt " + attempt.astype(str) + ")")
    done = status.eq("completed")
    if done.any():
        length = raw["duration_s"].where(done & (raw["duration_s"] > 0))
        texts = {d: f"Ready — {human_duration(d)} video" for d in length.dropna().unique()}
        stage = stage.mask(done, length.map(texts).astype(object).fillna("Ready"))
    rendering = status.isin(generation.RENDERING_STATUSES)
    if rendering.any():
        verb = status.map({"pending": "Waiting at HeyGen", "processing": "Rendering"})
        length = raw["estimated_duration_s"].where(raw["estimated_duration_s"] > 0, 30.0)
        elapsed = (pd.Timestamp(now) - raw["submitted_at"]).dt.total_seconds()
        left = (model.overhead_s + model.median_ratio * length - elapsed).where(rendering)
        about = verb + " — about " + _minutes_text(left) + " left"
        text = about.mask(left < 60, verb + " — less than a minute left")
        text = text.mask(left <= 0, verb + " — taking longer than usual")
        text = text.mask(raw["submitted_at"].isna(), verb)
        stage = stage.mask(rendering, text)
    if stuck.any():
        started = raw["processing_at"].fillna(raw["submitted_at"])
        waited = (pd.Timestamp(now) - started).dt.total_seconds().where(stuck)
        stage = stage.mask(stuck, "⚠️ Stuck — no result after " + _minutes_text(waited))
    return stage.fillna(status)


def _table(raw: pd.DataFrame, model: RenderTimeModel, now: datetime, stuck_after_minutes: float) -> pd.DataFrame:
    """Vectorised :meth:`RenderTimeModel.progress`, :func:`core.generation.is_stuck`, labels and texts."""
    for column in _TIMES:
        # One unit for every time column (an all-empty column would otherwise come back in seconds).
        raw[column] = pd.to_datetime(raw[column], utc=True, format="ISO8601").astype("datetime64[us, UTC]")
    for column in ("estimated_duration_s", "estimated_cost_usd", "duration_s"):
        raw[column] = raw[column].astype(float)
    for column in ("title", "failure_message", "failure_code"):  # text even when every value is empty
        raw[column] = raw[column].astype(object)
    status = raw["status"]
    now_ts = pd.Timestamp(now)
    rendering = status.isin(generation.RENDERING_STATUSES)
    length = raw["estimated_duration_s"].where(raw["estimated_duration_s"] > 0, 30.0)
    expected = (model.overhead_s + model.median_ratio * length).clip(lower=1.0)
    ratio = ((now_ts - raw["submitted_at"]).dt.total_seconds() / expected).clip(0.02, 0.95)
    progress = np.select([status.eq("completed"), status.eq("submitting"), rendering & raw["submitted_at"].notna()],
                         [1.0, 0.02, ratio], 0.0)
    started = raw["processing_at"].fillna(raw["submitted_at"])
    limit = (3 * (model.overhead_s + model.p90_ratio * length)).clip(lower=generation.STUCK_FLOOR_S)
    limit = limit.clip(upper=stuck_after_minutes * 60.0)
    stuck = rendering & started.notna() & ((now_ts - started).dt.total_seconds() > limit)
    has_failure = status.eq("failed") | raw["failure_message"].notna()
    message = raw["failure_message"].fillna("HeyGen gave no reason.").str.strip()
    failure = message.where(raw["failure_code"].isna(), message + " (" + raw["failure_code"].fillna("") + ")")
    labels = {s: status_label(s) for s in status.unique()}
    title = raw["title"].fillna("")
    return pd.DataFrame({
        "id": raw["id"],
        "title": title.where(title != "", "Reel " + raw["id"].astype(str)),
        "owner": raw["owner"],
        "status_label": status.map(labels),
        "status_tags": [[st, "stuck"] if flag else [st] for st, flag in zip(status.tolist(), stuck.tolist(), strict=True)],
        "stage": _stages(raw, stuck, model, now),
        "progress": progress.astype(float),
        "submitted": raw["submitted_at"].fillna(raw["queued_at"]),
        "updated": raw["updated_at"],
        "duration_s": raw["duration_s"].where(raw["duration_s"] > 0, raw["estimated_duration_s"]),
        "thumbnail": raw["thumbnail_url"],
        "video": raw["video_url"].where(status.eq("completed"), None),
        "failure": failure.where(has_failure, None),
        "stuck": stuck.astype(bool),
        "status": status,
        "attempt": raw["attempt"],
        "video_id": raw["video_id"],
        "completed_at": raw["completed_at"],
        "estimated_cost_usd": raw["estimated_cost_usd"],
    }, columns=FRAME_COLUMNS)


def load_board(
    session: Session, f: BoardFilter, *, stuck_after_minutes: float = 30.0, now: datetime | None = None,
    limit: int = BOARD_LIMIT,
) -> tuple[pd.DataFrame, RenderTimeModel]:
    """The filtered board as a table with :data:`FRAME_COLUMNS`, and the render-time model used for it.

    Two queries: :func:`core.generation.render_time_model`, then :func:`board_statement` (one
    indexed SELECT, no per-row queries). The values equal what :func:`core.generation.board`
    gives row by row (``progress``, ``stuck``; checked by the tests), computed for all rows at
    once. ``status_label`` the label, ``status_tags`` ``[status]`` or ``[status, "stuck"]`` (coloured tags); ``stage`` from :func:`stage_text`; ``submitted`` the
    submission, else launch time, and ``updated`` aware UTC; ``duration_s`` the real length when
    finished, else the estimate; ``video`` the MP4 link of completed reels; ``failure`` from
    :func:`failure_reason`; ``status`` the raw status.
    """
    now = now or utcnow()
    model = generation.render_time_model(session)
    rows = session.execute(board_statement(f, limit=limit)).all()
    columns = list(zip(*rows, strict=True)) if rows else [()] * len(_FETCH)
    raw = pd.DataFrame({name: pd.Series(values, dtype=object) for name, values in zip(_FETCH, columns, strict=True)})
    return _table(raw, model, now, stuck_after_minutes), model


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
