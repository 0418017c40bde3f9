"""Building blocks: tail calibration, windowed range, subsequence nearest-neighbour distance."""

from __future__ import annotations

import numpy as np
import pytest

from platform_core.observability.anomaly.calibration import (
    ExponentialTail,
    ParetoTail,
    SortedWindow,
)
from platform_core.observability.anomaly.features import RangeTracker, SubsequenceNovelty
from platform_core.observability.anomaly.timeutil import day_phase, to_datetime


def test_sorted_window_keeps_only_the_last_values_in_order() -> None:
    window = SortedWindow(3)
    for v in [5.0, 1.0, 4.0, 2.0]:
        window.push(v)
    assert len(window) == 3
    assert window.top(3) == [1.0, 2.0, 4.0]  # 5.0 was evicted
    assert window.quantile(0.5) == 2.0
    assert window.count_at_least(2.0) == 2


def test_pareto_tail_is_empirical_inside_and_decays_beyond_history() -> None:
    rng = np.random.default_rng(0)
    tail = ParetoTail(size=1000)
    for v in rng.exponential(1.0, 1000):
        tail.push(float(v))
    assert tail.tail(0.0) == pytest.approx(1.0)
    median_p = tail.tail(float(np.log(2.0)))
    assert 0.4 < median_p < 0.6
    p_max = tail.tail(8.0)
    p_far = tail.tail(80.0)
    assert p_far < p_max < 0.02
    assert p_far < 1 / 1001  # beyond everything seen: rarer than the empirical floor


def test_pareto_tail_is_neutral_until_it_has_history() -> None:
    tail = ParetoTail(min_history=20)
    for _ in range(19):
        tail.push(1.0)
    assert tail.tail(1e9) == 1.0


def test_exponential_tail_extrapolates_beyond_upper_quantile() -> None:
    rng = np.random.default_rng(1)
    tail = ExponentialTail([float(v) for v in rng.normal(0.5, 0.02, 1000)])
    assert tail.tail(0.5) == pytest.approx(0.5, abs=0.06)
    assert tail.tail(0.6) < 1e-4 < tail.tail(0.55)


def test_range_tracker_matches_brute_force_windowed_min_max() -> None:
    rng = np.random.default_rng(2)
    data = rng.normal(0, 1, 500)
    tracker = RangeTracker(window=50)
    for i, v in enumerate(data):
        if i:
            past = data[max(0, i - 50) : i]
            span = past.max() - past.min()
            want = max(0.0, v - past.max(), past.min() - v) / span if span > 0 else 0.0
            assert tracker.excess(float(v)) == pytest.approx(want)
        tracker.push(float(v))
    assert tracker.low == data[-50:].min() and tracker.high == data[-50:].max()


def test_subsequence_novelty_is_zero_for_repeats_and_large_for_new_shapes() -> None:
    novelty = SubsequenceNovelty(length=2, history=100, day_weight=0.0)
    pattern = [0.0, 1.0, 0.0, 1.0] * 10
    distances = [novelty.update(v, None, 1.0) for v in pattern]
    assert distances[-1] == 0.0  # (0, 1) was seen before
    assert novelty.update(5.0, None, 1.0) == pytest.approx(np.sqrt(17 / 2))  # vs (0, 1)


def test_subsequence_novelty_uses_time_of_day() -> None:
    novelty = SubsequenceNovelty(length=1, history=100, day_weight=0.5)
    for _ in range(20):
        novelty.update(1.0, 0.0, 1.0)  # always 1.0 at midnight
    assert novelty.update(1.0, 0.0, 1.0) == 0.0
    assert novelty.update(1.0, 0.5, 1.0) == pytest.approx(1.0)  # same value at noon


def test_timestamps_are_normalised() -> None:
    moment = to_datetime("2024-01-02T06:00:00Z")
    assert moment is not None and moment.hour == 6
    assert day_phase(moment) == pytest.approx(0.25)
    assert to_datetime(0) is not None
    assert to_datetime(None) is None and day_phase(None) is None
