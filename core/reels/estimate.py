"""How long a reel will be and what it will cost: speech length estimates, prices per scene, totals.

Durations are seconds, money USD.
"""

from __future__ import annotations

from typing import Any

from core.reels import pricing, validation
from core.reels.validation import (
    CJK_CHARS_PER_SECOND,
    CJK_RE,
    MIN_SCENE_SECONDS,
    SPEED_MAX,
    SPEED_MIN,
    WORD_RE,
    WORDS_PER_MINUTE,
    Estimate,
    is_number,
    sorted_scenes,
)

# --------------------------------------------------------------------------------------------
# Estimates and the HeyGen request
# --------------------------------------------------------------------------------------------


def estimate_script_seconds(script: str, speed: float = 1.0) -> float:
    """Expected speech length of ``script`` in seconds.

    150 words per minute for text written with spaces (words = runs of letters/digits,
    so emoji and punctuation add nothing); Chinese and Japanese characters (Han, kana),
    which are written without spaces, at 4 characters per second. Divided by ``speed``
    (0.5–1.5; anything else counts as 1.0). At least 1 s for a non-empty script; 0 for an
    empty one.
    """
    text = (script or "").strip()
    if not text:
        return 0.0
    cjk = len(CJK_RE.findall(text))
    words = len(WORD_RE.findall(CJK_RE.sub(" ", text)))
    seconds = words * 60.0 / WORDS_PER_MINUTE + cjk / CJK_CHARS_PER_SECOND
    if not is_number(speed) or not SPEED_MIN <= speed <= SPEED_MAX:
        speed = 1.0
    return max(MIN_SCENE_SECONDS, seconds / speed)


def scene_price_per_second(reel: Any, index: Any, avatar_id: str | None) -> float:
    """USD per second of a scene of ``reel`` showing look ``avatar_id``: the reel's engine and
    resolution and the look's avatar type; unknown looks price as studio avatars (the highest rate).

    Raises:
        ValueError: the reel's engine or resolution has no price.
    """
    look = index.look(avatar_id) if avatar_id else None
    kind = getattr(look, "avatar_type", None)
    kind = kind if kind in pricing.AVATAR_TYPES else "studio_avatar"
    return pricing.price_per_second(reel.engine, kind, reel.resolution)


def estimate_reel(reel: Any, index: Any, speech_durations: dict[int, float] | None = None) -> Estimate:
    """Expected duration (seconds) and cost (USD) of ``reel``.

    Each scene lasts its measured speech-preview length when ``speech_durations`` has an
    entry (seconds, keyed by scene ``position``; the preview is made at the scene's speed),
    else :func:`estimate_script_seconds`. Cost: each scene at the rate of the reel's engine,
    its look's avatar type and the reel's resolution (:mod:`core.pricing`), scaled so the
    total is billed in whole seconds (rounded up).

    Raises:
        ValueError: the reel's engine or resolution has no price.
    """
    speech_durations = speech_durations or {}
    durations, rates = [], []
    for scene in sorted_scenes(reel.scenes):
        measured = speech_durations.get(scene.position)
        if is_number(measured) and measured > 0:
            durations.append(float(measured))
        else:
            durations.append(estimate_script_seconds(scene.script, scene.speed))
        rates.append(scene_price_per_second(reel, index, scene.avatar_id))
    total = sum(durations)
    if total <= 0:
        return Estimate(0.0, 0.0, durations)
    scale = pricing.billed_seconds(total) / total
    cost = sum(rate * d for rate, d in zip(rates, durations, strict=True)) * scale
    return Estimate(total, cost, durations)


def scene_costs(reel: Any, index: Any, estimate: validation.Estimate) -> list[float]:
    """USD per scene (position order) whose sum is ``estimate.cost_usd``: each scene's duration at its
    price (:func:`core.reels.estimate.scene_price_per_second`), scaled like the total to whole seconds.

    Raises:
        ValueError: the reel's engine or resolution has no price.
    """
    scenes = sorted(reel.scenes, key=lambda s: s.position)
    weights = []
    for scene, seconds in zip(scenes, estimate.scene_durations, strict=True):
        weights.append(scene_price_per_second(reel, index, scene.avatar_id) * seconds)
    total = sum(weights)
    if total <= 0:
        return [0.0] * len(scenes)
    return [estimate.cost_usd * w / total for w in weights]
