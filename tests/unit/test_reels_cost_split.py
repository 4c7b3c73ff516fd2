"""Scene costs: each from its own seconds and rate, the billing rounding on its own line, summing exactly."""

from __future__ import annotations

import math
from decimal import Decimal

import pytest

from core.reels.estimate import cents, split_costs


def test_a_scene_keeps_its_cost_when_another_scene_changes():
    rate = 0.0667
    before = split_costs([rate, rate], [5.4, 3.3], rate * math.ceil(5.4 + 3.3))
    after = split_costs([rate, rate], [5.4, 9.9], rate * math.ceil(5.4 + 9.9))
    assert before.scenes[0] == after.scenes[0] == Decimal("0.36")  # 5.4 s × $0.0667 = $0.36018


def test_lines_add_up_to_the_total_as_shown():
    rates, durations = [0.0667, 0.05, 0.0833], [4.2, 7.7, 2.05]
    billed = math.ceil(sum(durations))  # 14 whole seconds for 13.95 s
    total = sum(r * d for r, d in zip(rates, durations, strict=True)) * billed / sum(durations)
    split = split_costs(rates, durations, total)
    assert split.scenes == [Decimal("0.28"), Decimal("0.39"), Decimal("0.17")]
    assert sum(split.scenes) + split.rounding == split.total == cents(total)


@pytest.mark.parametrize(("usd", "expected"), [(0.365, "0.37"), (0.364999, "0.36"), (0.0, "0.00"), (2.675, "2.68")])
def test_cents_round_half_up(usd, expected):
    assert cents(usd) == Decimal(expected)


def test_mismatched_lengths_are_refused():
    with pytest.raises(ValueError, match="2 rates for 1 scene"):
        split_costs([0.05, 0.05], [3.0], 0.2)
