"""How long a reel will be and what it will cost: speech length estimates, prices per scene, totals.

Durations are seconds, money USD. HeyGen bills a video in whole seconds, so a reel's cost is its
scenes' seconds at their rates scaled up to the billed whole seconds. Spreading that scale over
the scenes would move a scene's cost when *another* scene changes ($0.36 → $0.37 with no edit to
it); :func:`scene_costs` prices each scene on its own and shows the rounding as one line.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal
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
    own_audio,
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

    A scene with an own recording lasts the recording's measured length. Otherwise each scene
    lasts its measured speech-preview length when ``speech_durations`` has an
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
        recording = own_audio(scene)
        if getattr(scene, "audio_asset_ref", None):
            durations.append(float(recording.duration_s or 0.0) if recording is not None else 0.0)
        elif is_number(measured) and measured > 0:
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


def scene_costs(reel: Any, index: Any, estimate: validation.Estimate) -> CostSplit:
    """Per-scene costs of ``estimate`` that stay put and add up (:func:`split_costs`): each scene its own
    seconds at its own price (:func:`scene_price_per_second`), in cents; what billing in whole seconds
    and cent rounding add is :attr:`CostSplit.rounding`, so the lines sum to the total as shown. A
    scene's cost therefore changes only when that scene (or the reel's engine/resolution) changes.

    Raises:
        ValueError: the reel's engine or resolution has no price.
    """
    scenes = sorted(reel.scenes, key=lambda s: s.position)
    rates = [scene_price_per_second(reel, index, scene.avatar_id) for scene in scenes]
    return split_costs(rates, estimate.scene_durations, estimate.cost_usd)


def cents(usd: float) -> Decimal:
    """``usd`` rounded half-up to whole cents (``0.365`` -> ``Decimal("0.37")``), as every cost is shown."""
    return Decimal(repr(float(usd))).quantize(Decimal("0.01"), rounding=ROUND_HALF_UP)


@dataclass(frozen=True)
class CostSplit:
    """``scenes``: USD per scene (position order, whole cents); ``rounding``: USD the whole-second
    billing and cent rounding add (may be 0 or a cent below); ``total``: the estimate in cents.
    ``sum(scenes) + rounding == total`` exactly (as decimals)."""

    scenes: list[Decimal]
    rounding: Decimal
    total: Decimal


def split_costs(rates: Sequence[float], durations: Sequence[float], total_usd: float) -> CostSplit:
    """Split an estimate of ``total_usd`` over scenes with ``rates`` (USD per second) and
    ``durations`` (seconds): each scene ``cents(rate × seconds)``, the rest in ``rounding``.

    Raises:
        ValueError: ``rates`` and ``durations`` differ in length.
    """
    if len(rates) != len(durations):
        raise ValueError(f"{len(rates)} rates for {len(durations)} scene durations.")
    scenes = [cents(rate * max(0.0, seconds)) for rate, seconds in zip(rates, durations, strict=True)]
    total = cents(total_usd)
    return CostSplit(scenes, total - sum(scenes, Decimal("0")), total)
