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

    ``median_ratio``/``p90_ratio``: seconds of rendering per second of output; ``low_ratio``: the
    fast end of the range an ETA shows (``p90_ratio`` is its slow end); ``samples``: attempts used
    (0 = the default prior, HeyGen's typical 5–15 min per minute of video). ``overhead_s``: fixed
    queue time.
    """

    median_ratio: float = 8.0
    p90_ratio: float = 20.0
    samples: int = 0
    overhead_s: float = 0.0
    low_ratio: float = 5.0

    @property
    def stuck_ratio(self) -> float:
        """The slow-end ratio the stuck check trusts: this history's once it has
        :data:`STUCK_MIN_SAMPLES` renders, else the prior's (one fast render must not make every
        slower one look stuck)."""
        return self.p90_ratio if self.samples >= STUCK_MIN_SAMPLES else max(self.p90_ratio, PRIOR_P90_RATIO)

    def remaining(self, duration_s: float | None, elapsed_s: float) -> tuple[float, float]:
        """``(soonest, latest)`` seconds left for an output of ``duration_s`` seconds rendering for
        ``elapsed_s`` seconds (either may be negative: past that end of the range)."""
        duration = duration_s if duration_s and duration_s > 0 else 30.0
        return (self.overhead_s + self.low_ratio * duration - elapsed_s,
                self.overhead_s + self.p90_ratio * duration - elapsed_s)

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


#: The prior's slow-end ratio (render seconds per second of video), and the history the stuck check needs.
PRIOR_P90_RATIO = 20.0
STUCK_MIN_SAMPLES = 3
#: Used until enough history exists: 5–15 min renders for about a minute of video (docs §1.7).
DEFAULT_RENDER_MODEL = RenderTimeModel()
#: Completed attempts needed before history replaces the prior: the first finished render already
#: says far more about this account (and the sandbox) than HeyGen's typical figures.
MIN_SAMPLES = 1
#: With a single finished render, the range an ETA shows around it (× its render-time ratio).
SINGLE_SAMPLE_RANGE = (0.7, 1.5)


def render_time_model(session: Session, *, recent: int = 200) -> RenderTimeModel:
    """The :class:`RenderTimeModel` from the last ``recent`` completed attempts (one query).

    Uses attempts with ``render_seconds`` and ``duration_s`` > 0; with none returns
    :data:`DEFAULT_RENDER_MODEL`. The ETA range runs from the fastest to the slowest ratio seen
    (10th to 90th percentile from ten renders on); one render gives :data:`SINGLE_SAMPLE_RANGE`
    around its ratio.
    """
    rows = session.execute(
        select(ReelAttempt.render_seconds, ReelAttempt.duration_s)
        .where(ReelAttempt.render_seconds.is_not(None), ReelAttempt.duration_s > 0)
        .order_by(ReelAttempt.id.desc()).limit(recent)
    ).all()
    ratios = sorted(r / d for r, d in rows)
    if len(ratios) < MIN_SAMPLES:
        return DEFAULT_RENDER_MODEL
    median = statistics.median(ratios)
    if len(ratios) == 1:
        low, high = (median * f for f in SINGLE_SAMPLE_RANGE)
    elif len(ratios) < 10:
        low, high = ratios[0], ratios[-1]
    else:
        deciles = statistics.quantiles(ratios, n=10, method="inclusive")
        low, high = deciles[0], deciles[-1]
    return RenderTimeModel(median_ratio=median, p90_ratio=max(high, median), low_ratio=min(low, median),
                           samples=len(ratios))


#: Floor of the "stuck" threshold in seconds, so tiny reels are not flagged after seconds.
STUCK_FLOOR_S = 120.0


def is_stuck(reel: Any, model: RenderTimeModel, now: datetime | None = None, max_minutes: float = 30.0) -> bool:
    """True when a rendering reel has taken too long.

    Threshold = min(max(3 × slow-end prediction (:attr:`RenderTimeModel.stuck_ratio`),
    :data:`STUCK_FLOOR_S`), ``max_minutes`` × 60)
    seconds, counted from ``processing_at`` (else ``submitted_at``). Only ``pending`` and
    ``processing`` reels can be stuck.
    """
    if reel.status not in RENDERING_STATUSES:
        return False
    started = reel.processing_at or reel.submitted_at
    if started is None:
        return False
    elapsed = ((now or utcnow()) - started).total_seconds()
    duration = reel.estimated_duration_s if reel.estimated_duration_s and reel.estimated_duration_s > 0 else 30.0
    predicted = 3 * (model.overhead_s + model.stuck_ratio * duration)
    return elapsed > min(max(predicted, STUCK_FLOOR_S), max_minutes * 60.0)
