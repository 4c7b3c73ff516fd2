"""How reels read on the board: status labels and colours, durations, "ago", stage and failure text."""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING

from core import models
from core.models import utcnow

if TYPE_CHECKING:
    from core.board.rows import BoardRow
    from core.board.timing import RenderTimeModel

#: How each status reads on the board.
STATUS_LABELS: dict[str, str] = {
    "draft": "Draft",
    "awaiting_approval": "Awaiting approval",
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
    "awaiting_approval": "#FDD835",
    "queued": "#64B5F6",
    "submitting": "#1E88E5",
    "pending": "#9575CD",
    "processing": "#FB8C00",
    "completed": "#43A047",
    "failed": "#E53935",
    "cancelled": "#424242",
    "stuck": "#B71C1C",
}


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


#: What a queued reel waits for: the worker picks queued reels up on its next cycle.
QUEUED_TEXT = "Queued — sent on the worker's next cycle"
NO_HISTORY_TEXT = "no finished render yet to time it (HeyGen: often 5–15 min per minute of video)"


def eta_span(soonest: float, latest: float) -> str:
    """A range of seconds left: ``"10–25 s"``, ``"2–4 min"``, ``"up to 3 min"``, ``"about 20 s"``."""
    lo, hi = max(0.0, soonest), max(0.0, latest)
    if hi < 60:
        a, b = round(lo), max(1, round(hi))
        return f"about {b} s" if a == b else (f"up to {b} s" if a == 0 else f"{a}–{b} s")
    a, b = int(lo // 60), max(1, -int(-hi // 60))
    return f"about {b} min" if a == b else (f"up to {b} min" if a == 0 else f"{a}–{b} min")


def eta_text(verb: str, soonest: float, latest: float, samples: int) -> str:
    """``"Rendering — 10–25 s left"``; with no render history, says so instead of guessing."""
    if samples <= 0:
        return f"{verb} — {NO_HISTORY_TEXT}"
    if latest <= 0:
        return f"{verb} — taking longer than usual"
    return f"{verb} — {eta_span(soonest, latest)} left"


def stage_text(row: BoardRow, model: RenderTimeModel, now: datetime | None = None) -> str:
    """One phrase saying where a reel is, e.g. ``"Rendering — about 3 min left"``.

    Remaining time = the model's render-time range for the reel's estimated length minus the
    time since submission (:func:`eta_text`). Stuck reels (``row.stuck``) say so first.
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
        return QUEUED_TEXT if (row.attempt or 0) <= 1 else f"Queued again (attempt {row.attempt})"
    if status == "submitting":
        return "Sending to HeyGen"
    if status in models.RENDERING_STATUSES:
        verb = "Waiting at HeyGen" if status == "pending" else "Rendering"
        if row.submitted_at is None:
            return verb
        soonest, latest = model.remaining(row.estimated_duration_s, (now - row.submitted_at).total_seconds())
        return eta_text(verb, soonest, latest, model.samples)
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


def format_seconds(seconds: float) -> str:
    """``"42 s"`` below a minute, else ``"1 min 05 s"`` (rounded to whole seconds)."""
    whole = round(seconds)
    if whole < 60:
        return f"{whole} s"
    return f"{whole // 60} min {whole % 60:02d} s"
