"""HeyGen Pay-As-You-Go API prices, in one place (USD per second of output).

Source: developers.heygen.com/docs/pricing as published after the 2026-05-12 change
("Avatar V priced like Avatar IV"); see docs/heygen-v3.md §8. Re-check before quoting
money. Partial seconds are billed as whole seconds (HeyGen does not document the
rounding; we round up, as the sandbox does), so estimates err on the high side.
"""

from __future__ import annotations

import math

ENGINES = ("avatar_iv", "avatar_v", "avatar_iii")
AVATAR_TYPES = ("photo_avatar", "digital_twin", "studio_avatar")
RESOLUTIONS = ("720p", "1080p", "4k")

#: USD per second of video: engine -> avatar type -> (720p/1080p rate, 4K rate).
VIDEO_USD_PER_SECOND: dict[str, dict[str, tuple[float, float]]] = {
    "avatar_iv": {
        "photo_avatar": (0.05, 0.0667),
        "digital_twin": (0.0667, 0.0833),
        "studio_avatar": (0.0667, 0.0833),
    },
    "avatar_v": {
        "photo_avatar": (0.05, 0.0667),
        "digital_twin": (0.0667, 0.0833),
        "studio_avatar": (0.0667, 0.0833),
    },
    "avatar_iii": {
        "photo_avatar": (0.0167, 0.02),
        "digital_twin": (0.0167, 0.02),
        "studio_avatar": (0.0167, 0.02),
    },
}

#: USD per second of generated speech (Starfish text-to-speech, ``POST /v3/voices/speech``).
SPEECH_USD_PER_SECOND = 0.000667


def price_per_second(engine: str, avatar_type: str, resolution: str) -> float:
    """USD per second of output for one engine, avatar type and resolution.

    ``engine``: ``avatar_iv``, ``avatar_v`` or ``avatar_iii``; ``avatar_type``:
    ``photo_avatar``, ``digital_twin`` or ``studio_avatar``; ``resolution``: ``720p``,
    ``1080p`` (same rate) or ``4k``.

    Raises:
        ValueError: an unknown engine, avatar type or resolution (the message names it).
    """
    if engine not in VIDEO_USD_PER_SECOND:
        raise ValueError(f"Unknown engine {engine!r}; expected one of {', '.join(ENGINES)}.")
    by_type = VIDEO_USD_PER_SECOND[engine]
    if avatar_type not in by_type:
        raise ValueError(f"Unknown avatar type {avatar_type!r}; expected one of {', '.join(AVATAR_TYPES)}.")
    if resolution not in RESOLUTIONS:
        raise ValueError(f"Unknown resolution {resolution!r}; expected one of {', '.join(RESOLUTIONS)}.")
    standard, four_k = by_type[avatar_type]
    return four_k if resolution == "4k" else standard


def billed_seconds(duration_s: float) -> int:
    """Whole seconds billed for ``duration_s`` seconds (rounded up; 0 for nothing).

    Raises:
        ValueError: ``duration_s`` is negative or not a finite number.
    """
    if not math.isfinite(duration_s) or duration_s < 0:
        raise ValueError(f"Duration must be a non-negative number of seconds, got {duration_s!r}.")
    return math.ceil(round(duration_s, 6))
