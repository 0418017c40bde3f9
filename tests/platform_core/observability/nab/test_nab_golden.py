"""The scorer reproduces the dataset's golden expectations from the published detectors' scores."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from platform_core.observability.nab.corpus import Corpus, evaluate, load_score_table
from platform_core.observability.nab.data import (
    discover_files,
    load_profiles,
    load_series,
    load_windows,
)

TOLERANCE = 1e-6


@pytest.fixture(scope="module")
def corpus(nab_root: Path) -> Corpus:
    names = discover_files(nab_root / "data")
    timestamps = {n: load_series(nab_root / "data", n).timestamps for n in names}
    return Corpus.build(timestamps, load_windows(nab_root / "labels" / "combined_windows.json"))


@pytest.mark.parametrize("detector", ["numenta", "windowedGaussian"])
def test_golden_scores_are_reproduced(corpus: Corpus, nab_root: Path, detector: str) -> None:
    expected = json.loads((nab_root / "golden" / "expected_scores.json").read_text())
    profiles = load_profiles(nab_root / "config" / "profiles.json")
    scores = load_score_table(nab_root / "golden" / f"{detector}_anomaly_scores.csv.gz")
    assert len(corpus.layouts) == expected["files"] == 48
    assert corpus.n_windows == expected["windows"] == 83

    swept = evaluate(corpus, scores, profiles)
    for profile in profiles:
        want = expected[detector][profile.name]
        fixed = evaluate(corpus, scores, (profile,), threshold=want["threshold"])[profile.name]
        assert fixed.raw == pytest.approx(want["raw"], abs=TOLERANCE)
        assert fixed.normalized == pytest.approx(want["normalized"], abs=TOLERANCE)
        best = swept[profile.name]
        assert best.threshold == pytest.approx(want["sweep_best_threshold"], abs=1e-12)
        assert best.raw == pytest.approx(want["sweep_best_raw"], abs=TOLERANCE)
        assert best.normalized == pytest.approx(want["sweep_best_normalized"], abs=TOLERANCE)
