"""Multivariate detector: flags and explains anomalies in an application's metric vector."""

from __future__ import annotations

from datetime import datetime, timedelta

import numpy as np
import pytest

from platform_core.observability.anomaly.multivariate import (
    MultivariateConfig,
    MultivariateDetection,
    MultivariateDetector,
)

METRICS = ["cpu", "memory", "request_rate", "latency_ms", "error_rate"]
CONFIG = MultivariateConfig(window=400, min_train=100, refit_every=100, n_estimators=50)
START = datetime(2024, 6, 1)
N = 600
SPIKE = 520  # latency spike, all else normal
BROKEN = 560  # CPU high for a normal request rate: a relationship break


def app_metrics(seed: int) -> list[dict[str, float]]:
    rng = np.random.default_rng(seed)
    out = []
    for i in range(N):
        rate = 100 + 30 * np.sin(2 * np.pi * i / 288) + rng.normal(0, 4)
        out.append(
            {
                "cpu": 20 + 0.3 * rate + rng.normal(0, 1.5),
                "memory": 512 + rng.normal(0, 4),
                "request_rate": rate,
                "latency_ms": 50 + rng.normal(0, 2),
                "error_rate": abs(rng.normal(0.01, 0.002)),
            }
        )
    out[SPIKE]["latency_ms"] = 95.0
    out[BROKEN]["cpu"] = out[BROKEN]["cpu"] + 20.0
    return out


def run(samples: list[dict[str, float]]) -> list[MultivariateDetection]:
    detector = MultivariateDetector(METRICS, CONFIG)
    return [detector.update(s, START + i * timedelta(minutes=1)) for i, s in enumerate(samples)]


@pytest.fixture(scope="module")
def stream() -> tuple[list[dict[str, float]], list[MultivariateDetection]]:
    samples = app_metrics(seed=11)
    return samples, run(samples)


def test_spike_in_one_metric_is_flagged_and_explained(
    stream: tuple[list[dict[str, float]], list[MultivariateDetection]],
) -> None:
    samples, results = stream
    hit = results[SPIKE]
    assert hit.is_anomaly and hit.score >= 0.5
    culprit = hit.culprit
    assert culprit is not None
    assert culprit.metric == "latency_ms"
    assert culprit.observed == 95.0
    assert culprit.expected_low < 50.0 < culprit.expected_high < 95.0
    assert culprit.is_anomaly and culprit.since == START + SPIKE * timedelta(minutes=1)
    assert "latency_ms above" in culprit.reason
    assert all(not m.is_anomaly for m in hit.metrics[1:])
    assert samples[SPIKE]["latency_ms"] == culprit.observed


def test_broken_relationship_is_flagged_on_the_right_metric(
    stream: tuple[list[dict[str, float]], list[MultivariateDetection]],
) -> None:
    _, results = stream
    hit = results[BROKEN]
    assert hit.is_anomaly
    culprit = hit.culprit
    assert culprit is not None and culprit.metric in {"cpu", "request_rate"}
    # the expected range is what the other metrics imply, and excludes what was observed
    assert not culprit.expected_low <= culprit.observed <= culprit.expected_high


def test_normal_samples_rarely_alarm_and_scores_are_bounded(
    stream: tuple[list[dict[str, float]], list[MultivariateDetection]],
) -> None:
    _, results = stream
    scores = np.array([r.score for r in results])
    assert np.all((scores >= 0.0) & (scores < 1.0))
    assert np.all(scores[: CONFIG.min_train] == 0.0)  # no model yet: no opinion
    normal = np.delete(
        scores[CONFIG.min_train :], [SPIKE - CONFIG.min_train, BROKEN - CONFIG.min_train]
    )
    assert (normal >= 0.5).mean() <= 0.01


def test_scores_are_deterministic_and_causal() -> None:
    samples = app_metrics(seed=12)
    first = [r.score for r in run(samples)]
    assert first == [r.score for r in run(samples)]
    altered = [dict(s) for s in samples]
    for s in altered[450:]:
        s["memory"] *= 3.0  # the future changes...
    changed = [r.score for r in run(altered)]
    assert changed[:450] == first[:450]  # ...the past scores do not
    assert changed[450] >= 0.5


def test_missing_metrics_are_imputed_and_names_validated() -> None:
    detector = MultivariateDetector(METRICS, CONFIG)
    for s in app_metrics(seed=13)[:150]:
        detector.update(s)
    partial = detector.update({"cpu": 50.0, "request_rate": 100.0})
    assert len(partial.metrics) == len(METRICS)
    assert np.isfinite(partial.score)
    with pytest.raises(ValueError, match="distinct"):
        MultivariateDetector(["cpu", "cpu"])
