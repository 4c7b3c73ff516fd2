"""How long renders take: the render-time model from history, progress, ETA and the stuck check.

Times are aware UTC datetimes; durations seconds.
"""

from __future__ import annotations

import statistics
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from core.models import RENDERING_STATUSES, ReelAttempt, utcnow

# --------------------------------------------------------------------------- board and statistics


@dataclass(frozen=True)
class RenderTimeModel:
    """Render time per second of output video, learned from completed attempts.

    ``median_ratio``/``p90_ratio``: seconds of rendering per second of output;
    ``samples``: attempts used (0 = the default prior). ``overhead_s``: fixed queue time.
    """

    median_ratio: float = 8.0
    p90_ratio: float = 20.0
    samples: int = 0
    overhead_s: float = 0.0

    def expected_seconds(self, duration_s: float | None, *, p90: bool = False) -> float:
        """Predicted render seconds for an output of ``duration_s`` seconds (30 s when unknown)."""
        duration = duration_s if duration_s and duration_s > 0 else 30.0
        return self.overhead_s + (self.p90_ratio if p90 else self.median_ratio) * duration

    def progress(self, reel: Any, now: datetime | None = None) -> float:
        """Estimated progress 0..1 of ``reel`` (a Reel or :class:`BoardRow`).

        completed → 1; draft/queued/cancelled/failed → 0; submitting → 0.02; rendering →
        elapsed since submission ÷ expected seconds, capped at 0.95.
        """
        if reel.status == "completed":
            return 1.0
        if reel.status == "submitting":
            return 0.02
        started = reel.submitted_at
        if reel.status not in RENDERING_STATUSES or started is None:
            return 0.0
        elapsed = ((now or utcnow()) - started).total_seconds()
        expected = max(self.expected_seconds(reel.estimated_duration_s), 1.0)
        return max(0.02, min(0.95, elapsed / expected))


#: Used until enough history exists: 5–15 min renders for about a minute of video (docs §1.7).
DEFAULT_RENDER_MODEL = RenderTimeModel()
#: Completed attempts needed before history replaces the prior.
MIN_SAMPLES = 3


def render_time_model(session: Session, *, recent: int = 200) -> RenderTimeModel:
    """The :class:`RenderTimeModel` from the last ``recent`` completed attempts (one query).

    Uses attempts with ``render_seconds`` and ``duration_s`` > 0; with fewer than
    :data:`MIN_SAMPLES` returns :data:`DEFAULT_RENDER_MODEL`.
    """
    rows = session.execute(
        select(ReelAttempt.render_seconds, ReelAttempt.duration_s)
        .where(ReelAttempt.render_seconds.is_not(None), ReelAttempt.duration_s > 0)
        .order_by(ReelAttempt.id.desc()).limit(recent)
    ).all()
    ratios = sorted(r / d for r, d in rows)
    if len(ratios) < MIN_SAMPLES:
        return DEFAULT_RENDER_MODEL
    p90 = statistics.quantiles(ratios, n=10, method="inclusive")[-1]
    return RenderTimeModel(median_ratio=statistics.median(ratios), p90_ratio=max(p90, ratios[0]),
                           samples=len(ratios))


#: Floor of the "stuck" threshold in seconds, so tiny reels are not flagged after seconds.
STUCK_FLOOR_S = 120.0


def is_stuck(reel: Any, model: RenderTimeModel, now: datetime | None = None, max_minutes: float = 30.0) -> bool:
    """True when a rendering reel has taken too long.

    Threshold = min(max(3 × p90 prediction, :data:`STUCK_FLOOR_S`), ``max_minutes`` × 60)
    seconds, counted from ``processing_at`` (else ``submitted_at``). Only ``pending`` and
    ``processing`` reels can be stuck.
    """
    if reel.status not in RENDERING_STATUSES:
        return False
    started = reel.processing_at or reel.submitted_at
    if started is None:
        return False
    elapsed = ((now or utcnow()) - started).total_seconds()
    predicted = 3 * model.expected_seconds(reel.estimated_duration_s, p90=True)
    return elapsed > min(max(predicted, STUCK_FLOOR_S), max_minutes * 60.0)
