"""NAB scoring rules on hand-computed toy cases (SCORING.md)."""

from __future__ import annotations

import math

import numpy as np
import pytest

from platform_core.observability.nab.data import STANDARD_PROFILES, Profile, window_rows
from platform_core.observability.nab.scoring import (
    NOTHING_THRESHOLD,
    FileLayout,
    file_outcome,
    file_score,
    normalized,
    probation_rows,
    scaled_sigmoid,
    sweep,
)

STANDARD, LOW_FP, LOW_FN = STANDARD_PROFILES


def detections(n: int, rows: list[int]) -> np.ndarray:
    scores = np.zeros(n)
    scores[rows] = 1.0
    return scores


def test_scaled_sigmoid_reference_values() -> None:
    assert scaled_sigmoid(-1.0) == pytest.approx(0.98661430, abs=1e-8)
    assert scaled_sigmoid(0.0) == 0.0
    assert scaled_sigmoid(0.5) == pytest.approx(-0.84828364, abs=1e-8)
    assert scaled_sigmoid(3.0001) == -1.0


def test_probation_is_15_percent_capped_at_750() -> None:
    assert probation_rows(1000) == 150
    assert probation_rows(1127) == 169
    assert probation_rows(22695) == 750


@pytest.mark.parametrize(
    ("profile", "expected"),
    [(STANDARD, 0.586375), (LOW_FP, 0.312958), (LOW_FN, 0.586375)],
)
def test_toy_file_from_scoring_md(profile: Profile, expected: float) -> None:
    layout = FileLayout.build(1000, [(400, 499)])
    scores = detections(1000, [100, 300, 450, 460, 520, 900])
    assert file_score(scores, layout, profile, 0.5) == pytest.approx(expected, abs=1e-6)


def test_no_detection_costs_the_fn_weight_per_window() -> None:
    layout = FileLayout.build(1000, [(400, 499)])
    none = np.zeros(1000)
    assert file_score(none, layout, STANDARD, 0.5) == -1.0
    assert file_score(none, layout, LOW_FN, 0.5) == -2.0


def test_first_row_of_window_earns_exactly_tp_and_later_rows_less() -> None:
    layout = FileLayout.build(1000, [(400, 499)])
    start = file_score(detections(1000, [400]), layout, STANDARD, 0.5)
    middle = file_score(detections(1000, [450]), layout, STANDARD, 0.5)
    end = file_score(detections(1000, [499]), layout, STANDARD, 0.5)
    assert start == pytest.approx(1.0)
    # A(-(b - i + 1)/w) / A(-1) with i = 450: x = -0.5
    assert middle == pytest.approx(scaled_sigmoid(-0.5) / scaled_sigmoid(-1.0))
    assert end == pytest.approx(scaled_sigmoid(-1 / 100) / scaled_sigmoid(-1.0))
    assert 0.0 < end < middle < start
    # only the best detection in a window counts; more hits in the window are free
    assert file_score(detections(1000, [400, 450, 499]), layout, STANDARD, 0.5) == start


def test_false_positives_outside_windows() -> None:
    layout = FileLayout.build(1000, [(400, 499)])
    before = file_score(detections(1000, [300]), layout, STANDARD, 0.5) + 1.0
    just_after = file_score(detections(1000, [500]), layout, STANDARD, 0.5) + 1.0
    far_after = file_score(detections(1000, [900]), layout, STANDARD, 0.5) + 1.0
    assert before == pytest.approx(-0.11)
    assert just_after == pytest.approx(0.11 * scaled_sigmoid(1 / 99))
    assert -0.11 < just_after < 0.0
    assert far_after == pytest.approx(-0.11)
    # every detected row outside windows is its own false positive (runs are not merged)
    run = file_score(detections(1000, [300, 301, 302]), layout, STANDARD, 0.5) + 1.0
    assert run == pytest.approx(-0.33)


def test_detections_in_probation_are_ignored_and_windows_inside_it_do_not_count() -> None:
    layout = FileLayout.build(1000, [(10, 20), (400, 499)])
    assert layout.counted == (1,)
    assert file_score(detections(1000, [15, 100]), layout, STANDARD, 0.5) == -1.0


def test_threshold_applies_with_greater_or_equal() -> None:
    layout = FileLayout.build(1000, [(400, 499)])
    scores = np.zeros(1000)
    scores[400] = 0.7
    assert file_score(scores, layout, STANDARD, 0.7) == pytest.approx(1.0)
    assert file_score(scores, layout, STANDARD, 0.7000001) == -1.0
    assert file_outcome(scores, layout, 0.7) == (1, 0)


def test_sweep_finds_best_threshold_and_prefers_higher_on_ties() -> None:
    layout = FileLayout.build(1000, [(400, 499)])
    scores = np.zeros(1000)
    scores[400] = 0.9  # true positive
    scores[300] = 0.8  # false positive: lowering the threshold to 0.8 costs 0.11
    scores[200] = 0.95  # false positive above the hit: needed to get the hit
    best = sweep([scores], [layout], STANDARD)
    assert best.threshold == pytest.approx(0.9)
    assert best.raw == pytest.approx(1.0 - 0.11)
    # all-zero scores: detecting everything is awful, detecting nothing gives -1
    nothing = sweep([np.zeros(1000)], [layout], STANDARD)
    assert nothing.threshold == NOTHING_THRESHOLD
    assert nothing.raw == -1.0


def test_sweep_agrees_with_brute_force_over_candidates() -> None:
    rng = np.random.default_rng(7)
    layouts = [FileLayout.build(600, [(200, 259), (400, 459)]), FileLayout.build(800, [])]
    scores = [np.round(rng.random(600), 2), np.round(rng.random(800), 2)]
    for profile in STANDARD_PROFILES:
        best = sweep(scores, layouts, profile)
        candidates = {
            float(v) for s, lay in zip(scores, layouts, strict=True) for v in s[lay.probation :]
        }
        brute = max(
            sum(file_score(s, lay, profile, t) for s, lay in zip(scores, layouts, strict=True))
            for t in [*candidates, NOTHING_THRESHOLD]
        )
        assert best.raw == pytest.approx(brute, abs=1e-9)


def test_normalization_maps_null_to_0_and_perfect_to_100() -> None:
    assert normalized(-83.0, 83, STANDARD) == 0.0
    assert normalized(83.0, 83, STANDARD) == 100.0
    assert normalized(-166.0, 83, LOW_FN) == 0.0
    assert math.isclose(normalized(0.0, 83, STANDARD), 50.0)


def test_window_rows_use_first_matching_row_and_reject_unknown_boundaries() -> None:
    ts = (
        "2014-01-01 00:00:00",
        "2014-01-01 00:05:00",
        "2014-01-01 00:05:00",
        "2014-01-01 00:10:00",
    )
    rows = window_rows(ts, [("2014-01-01 00:05:00.000000", "2014-01-01 00:10:00.000000")])
    assert rows == [(1, 3)]
    with pytest.raises(ValueError, match="does not match"):
        window_rows(ts, [("2014-01-02 00:00:00.000000", "2014-01-02 00:10:00.000000")])
