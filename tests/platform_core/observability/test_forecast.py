"""Load forecasting and the replica plan built on it."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import numpy as np
import pytest

from platform_core.observability.forecast import forecast_series, naive_forecast
from platform_core.observability.scaling import (
    CapacityFit,
    fit_capacity,
    plan_replicas,
    replicas_needed,
)

T0 = datetime(2025, 3, 3, tzinfo=UTC)
STEP = 300
PER_DAY = 288


def traffic(days: float, seed: int = 0) -> tuple[list[datetime], np.ndarray]:
    """Requests per second: a daily curve (peak in the afternoon), growing 2 % a day, noisy."""
    n = int(days * PER_DAY)
    t = np.arange(n) * STEP
    hour = (t / 3600) % 24
    daily = 0.3 + 0.7 * (0.5 - 0.5 * np.cos(2 * np.pi * (hour - 4) / 24))
    growth = 1 + 0.02 * t / 86400
    noise = 1 + 0.05 * np.random.default_rng(seed).standard_normal(n)
    return [T0 + timedelta(seconds=int(s)) for s in t], 40 * daily * growth * noise


def test_the_forecast_beats_the_last_value_on_a_daily_pattern() -> None:
    times, values = traffic(8)
    errors, naive, inside, total = [], [], 0, 0
    for origin in range(7 * PER_DAY, 8 * PER_DAY - 12, 6):  # every 30 min of the last day
        fc = forecast_series(
            times[:origin], values[:origin], horizon=timedelta(hours=1), step_seconds=STEP
        )
        actual = values[origin : origin + 12]
        errors.append(np.mean(np.abs(np.asarray(fc.mean) - actual)))
        naive.append(np.mean(np.abs(np.asarray(naive_forecast(values[:origin], 12)) - actual)))
        inside += int(np.sum((actual >= fc.low) & (actual <= fc.high)))
        total += len(actual)

    assert np.mean(errors) < 0.6 * np.mean(naive)
    assert 0.8 <= inside / total <= 0.99  # a 90 % interval that roughly holds
    assert fc.times[0] == times[origin - 1] + timedelta(seconds=STEP)
    assert len(fc.times) == 12 and fc.level == 0.9
    assert "daily profile" in fc.model and "trend" in fc.model


def test_a_short_history_gets_a_level_model_and_a_widening_interval() -> None:
    times, values = traffic(0.25)
    fc = forecast_series(times, values, horizon=timedelta(hours=1), step_seconds=STEP)
    assert "daily" not in fc.model and "trend" not in fc.model
    widths = np.asarray(fc.high) - np.asarray(fc.low)
    assert np.all(np.diff(widths) >= -1e-9)
    assert all(v >= 0 for v in fc.low)


def test_capacity_is_learned_from_cpu_and_traffic() -> None:
    rng = np.random.default_rng(1)
    rate = rng.uniform(5, 50, 500)
    replicas = rng.integers(2, 5, 500).astype(float)
    cpu = 0.004 * rate + 0.01 * replicas + rng.normal(0, 0.001, 500)

    fit = fit_capacity(cpu, rate, replicas)

    assert fit is not None
    assert fit.cpu_per_request == pytest.approx(0.004, rel=0.05)
    assert fit.idle_cpu_per_replica == pytest.approx(0.01, rel=0.2)
    assert fit_capacity([1.0], [1.0], [1.0]) is None


def test_replicas_keep_each_one_at_the_target_share_of_its_request() -> None:
    fit = CapacityFit(cpu_per_request=0.004, idle_cpu_per_replica=0.01, samples=100)
    # 100 req/s cost 0.4 cores; a 250m request at 70 % leaves 0.165 cores of traffic per replica
    assert replicas_needed(100, fit, 0.25) == 3
    assert replicas_needed(0, fit, 0.25) == 1
    with pytest.raises(ValueError, match="raise the CPU request"):
        replicas_needed(100, fit, 0.01)

    times, values = traffic(3)
    fc = forecast_series(times, values, horizon=timedelta(hours=1), step_seconds=STEP)
    plan = plan_replicas(fc, fit, 0.1, interval=timedelta(minutes=15))
    assert len(plan) == 4
    for step in plan:
        assert step.replicas == replicas_needed(step.peak_request_rate, fit, 0.1)
        assert step.cpu_per_replica <= 0.07 + 1e-9
    assert max(s.peak_request_rate for s in plan) == pytest.approx(max(fc.high))
