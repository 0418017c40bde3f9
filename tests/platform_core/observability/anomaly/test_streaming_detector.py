"""Behaviour of the univariate streaming detector: causality, range, determinism, detection."""

from __future__ import annotations

from datetime import datetime, timedelta

import numpy as np
import pytest

from platform_core.observability.anomaly.streaming import (
    StreamingAnomalyDetector,
    StreamingConfig,
    score_series,
)

START = datetime(2024, 5, 1)
STEP = timedelta(minutes=5)
DAY = 288  # points per day at 5-minute sampling


def daily_series(n: int, seed: int = 0) -> tuple[np.ndarray, list[datetime]]:
    """A CPU-like metric: daily cycle plus noise."""
    rng = np.random.default_rng(seed)
    t = np.arange(n)
    values = 40 + 20 * np.sin(2 * np.pi * t / DAY) + rng.normal(0, 1.5, n)
    return values, [START + i * STEP for i in range(n)]


def test_scores_are_causal_prefix_identical() -> None:
    values, stamps = daily_series(2000, seed=1)
    values[1500] += 60  # an anomaly late in the series must not change earlier scores
    full = score_series(values, stamps)
    for cut in (1, 10, 300, 999, 1500, 1501):
        prefix = score_series(values[:cut], stamps[:cut])
        np.testing.assert_array_equal(prefix, full[:cut])


def test_scores_are_in_unit_interval_and_deterministic() -> None:
    values, stamps = daily_series(1500, seed=2)
    values[[700, 1100]] = [200.0, -50.0]
    first = score_series(values, stamps)
    second = score_series(values, stamps)
    np.testing.assert_array_equal(first, second)
    assert np.all((first >= 0.0) & (first <= 1.0))
    assert not np.signbit(first).any()  # no -0.0 in written results
    assert np.isfinite(first).all()


def test_spike_is_flagged_and_explained() -> None:
    values, stamps = daily_series(1200, seed=3)
    values[1000] = 200.0
    detector = StreamingAnomalyDetector("cpu_percent")
    scores = [detector.update(v, t) for v, t in zip(values[:1001], stamps[:1001], strict=True)]
    found = detector.explain()
    assert found is not None
    assert scores[1000] >= 0.5
    # the strongest signal since warm-up (new extremes of the noise also score, less)
    assert scores[1000] > max(scores[200:1000]) + 0.05
    assert found.is_anomaly and found.metric == "cpu_percent"
    assert found.observed == 200.0
    assert found.since == stamps[1000]
    assert found.expected_high < 100.0
    assert found.expected_low <= values[999] + 5 and found.expected_high >= values[999] - 5
    assert "above" in found.reason
    assert "cpu_percent" in found.summary()


def test_pattern_at_the_wrong_time_of_day_is_flagged() -> None:
    """A value inside the usual range but at the wrong hour: only the time of day tells."""
    values, stamps = daily_series(DAY * 6, seed=4)
    night = int(DAY * 5.75)  # daily minimum (~20) expected; inject the daily maximum instead
    values[night : night + 6] = 60.0 + np.arange(6) * 0.1
    scores = score_series(values, stamps)
    assert scores[night : night + 6].max() >= 0.5
    assert scores[DAY * 2 : night].max() < 0.5


def test_one_alert_per_episode_thanks_to_suppression() -> None:
    values, stamps = daily_series(1500, seed=5)
    values[1000:1030] += 80.0  # a 30-point outage-like plateau
    scores = score_series(values, stamps)
    alerts = np.flatnonzero(scores[1000:1100] >= 0.5)
    assert alerts.size >= 1 and alerts[0] <= 1
    assert alerts.size <= 3


def test_since_marks_the_start_of_an_episode() -> None:
    values, stamps = daily_series(1600, seed=5)
    values[[1000, 1020, 1400]] = [150.0, 170.0, 200.0]  # two close spikes, one much later
    detector = StreamingAnomalyDetector()
    since = {}
    for i, (v, t) in enumerate(zip(values, stamps, strict=True)):
        detector.update(v, t)
        found = detector.explain()
        if i in (1000, 1020, 1400):
            assert found is not None and found.is_anomaly
            since[i] = found.since
    assert since[1000] == stamps[1000]
    assert since[1020] == stamps[1000]  # same episode: within the suppression span
    assert since[1400] == stamps[1400]  # a new episode


def test_quiet_series_stays_quiet() -> None:
    values, stamps = daily_series(DAY * 8, seed=6)
    scores = score_series(values, stamps)
    assert (scores[DAY:] >= 0.5).sum() <= 2


def test_non_finite_values_are_ignored() -> None:
    values, stamps = daily_series(600, seed=7)
    detector = StreamingAnomalyDetector()
    for v, t in zip(values[:500], stamps[:500], strict=True):
        detector.update(v, t)
    assert detector.update(float("nan"), stamps[500]) == 0.0
    assert detector.update(float("inf"), stamps[500]) == 0.0
    assert detector.count == 500


def test_expected_range_tracks_the_daily_cycle() -> None:
    values, stamps = daily_series(DAY * 4, seed=8)
    detector = StreamingAnomalyDetector()
    for v, t in zip(values, stamps, strict=True):
        detector.update(v, t)
    low, high = detector.expected_range(stamps[-1] + STEP)
    nxt = 40 + 20 * np.sin(2 * np.pi * len(values) / DAY)
    assert low < nxt < high
    assert high - low < 20  # much tighter than the daily swing of 40


def test_works_without_timestamps_and_with_epoch_or_iso_times() -> None:
    values, stamps = daily_series(800, seed=9)
    values[700] = 150.0
    bare = score_series(values)
    iso = score_series(values, [s.isoformat() for s in stamps])
    epoch = score_series(values, [s.timestamp() for s in stamps])
    assert bare[700] >= 0.5 and iso[700] >= 0.5 and epoch[700] >= 0.5
    with pytest.raises(ValueError, match="differ in length"):
        score_series(values, stamps[:10])


def test_memory_is_bounded_by_the_configured_windows() -> None:
    config = StreamingConfig(history=200, calibration_window=150, range_window=300)
    detector = StreamingAnomalyDetector(config=config)
    values, stamps = daily_series(2000, seed=10)
    for v, t in zip(values, stamps, strict=True):
        detector.update(v, t)
    assert len(detector._tail) == 150
    assert detector._novelty._filled == 200
    assert len(detector._raw_recent) <= config.suppression + 1
