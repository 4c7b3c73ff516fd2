"""core.pricing: the HeyGen price table of docs/heygen-v3.md §8 and whole-second billing."""

from __future__ import annotations

import math

import pytest

from core.reels import pricing


@pytest.mark.parametrize(
    ("engine", "avatar_type", "resolution", "usd"),
    [
        ("avatar_iv", "photo_avatar", "720p", 0.05),
        ("avatar_iv", "photo_avatar", "1080p", 0.05),
        ("avatar_iv", "photo_avatar", "4k", 0.0667),
        ("avatar_iv", "digital_twin", "1080p", 0.0667),
        ("avatar_iv", "studio_avatar", "1080p", 0.0667),
        ("avatar_iv", "studio_avatar", "4k", 0.0833),
        ("avatar_v", "photo_avatar", "1080p", 0.05),
        ("avatar_v", "digital_twin", "4k", 0.0833),
        ("avatar_iii", "photo_avatar", "1080p", 0.0167),
        ("avatar_iii", "studio_avatar", "720p", 0.0167),
        ("avatar_iii", "digital_twin", "4k", 0.02),
    ],
)
def test_price_per_second_matches_the_published_table(engine, avatar_type, resolution, usd):
    assert pricing.price_per_second(engine, avatar_type, resolution) == usd


def test_every_engine_and_type_has_a_price_and_4k_never_costs_less():
    for engine in pricing.ENGINES:
        for avatar_type in pricing.AVATAR_TYPES:
            standard = pricing.price_per_second(engine, avatar_type, "1080p")
            assert standard == pricing.price_per_second(engine, avatar_type, "720p")
            assert pricing.price_per_second(engine, avatar_type, "4k") >= standard > 0


@pytest.mark.parametrize(
    ("args", "word"),
    [
        (("avatar_ii", "studio_avatar", "1080p"), "engine"),
        (("avatar_iv", "hologram", "1080p"), "avatar type"),
        (("avatar_iv", "studio_avatar", "8k"), "resolution"),
    ],
)
def test_unknown_inputs_are_refused_with_their_name(args, word):
    with pytest.raises(ValueError, match=word):
        pricing.price_per_second(*args)


@pytest.mark.parametrize(("seconds", "billed"), [(0, 0), (0.2, 1), (44.01, 45), (45.0, 45), (45.0000000001, 45)])
def test_partial_seconds_are_billed_as_whole_seconds(seconds, billed):
    assert pricing.billed_seconds(seconds) == billed


@pytest.mark.parametrize("bad", [-1.0, math.nan, math.inf])
def test_impossible_durations_are_refused(bad):
    with pytest.raises(ValueError, match="non-negative"):
        pricing.billed_seconds(bad)
