"""Rightsizing: recommended requests and limits from usage, and what they cost."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import numpy as np
import pytest

from platform_core.cluster.schemas import ResourceList, ResourceRequirements
from platform_core.observability.rightsizing import (
    HOURS_PER_MONTH,
    MIB,
    PRICES,
    Resources,
    pod_usage,
    recommend,
)

T0 = datetime(2025, 3, 3, tzinfo=UTC)


def usage_series(days: float, cpu_per_pod: float, memory_per_pod: float, replicas: int = 2):
    rng = np.random.default_rng(0)
    times = [T0 + timedelta(minutes=i) for i in range(int(days * 1440))]
    cpu = [(t, replicas * cpu_per_pod * rng.uniform(0.5, 1.0)) for t in times]
    memory = [(t, replicas * memory_per_pod * rng.uniform(0.9, 1.0)) for t in times]
    ready = [(t, float(replicas)) for t in times]
    return cpu, memory, ready


def requirements(cpu_req: str, cpu_lim: str, mem_req: str, mem_lim: str) -> Resources:
    return Resources.of(
        ResourceRequirements(
            requests=ResourceList(cpu=cpu_req, memory=mem_req),
            limits=ResourceList(cpu=cpu_lim, memory=mem_lim),
        )
    )


def test_an_over_provisioned_app_gets_lower_requests_and_a_saving() -> None:
    usage = pod_usage(*usage_series(7, cpu_per_pod=0.08, memory_per_pod=200 * MIB))
    assert usage is not None
    assert usage.cpu_max == pytest.approx(0.08, rel=0.01)
    current = requirements("1", "2", "2Gi", "4Gi")

    result = recommend("web", 2, current, usage)

    rec = result.recommended
    assert rec.cpu_request < current.cpu_request and rec.memory_request < current.memory_request
    assert rec.cpu_request >= usage.cpu_p95 * 1000 * 1.2  # headroom above p95
    assert rec.memory_request >= usage.memory_p99 * 1.2
    assert rec.cpu_limit >= rec.cpu_request and rec.memory_limit >= usage.memory_max * 1.4
    assert result.monthly_saving > 0
    expected = 2 * HOURS_PER_MONTH * (1 * PRICES.cpu_core_hour + 2 * PRICES.memory_gib_hour)
    assert result.current_monthly_cost == pytest.approx(expected)
    assert result.notes == []
    assert rec.as_quantities()["requests"]["cpu"].endswith("m")


def test_usage_at_the_limits_is_never_cut_and_is_flagged() -> None:
    usage = pod_usage(*usage_series(2, cpu_per_pod=0.5, memory_per_pod=250 * MIB))
    assert usage is not None
    current = requirements("100m", "500m", "128Mi", "256Mi")

    result = recommend("api", 2, current, usage)

    assert result.recommended.cpu_limit >= current.cpu_limit
    assert result.recommended.memory_limit >= current.memory_limit
    assert result.monthly_saving < 0  # it needs more than it reserves
    assert any("throttled" in n for n in result.notes)
    assert any("OOM" in n for n in result.notes)


def test_a_short_history_is_said_to_be_short() -> None:
    usage = pod_usage(*usage_series(0.25, cpu_per_pod=0.05, memory_per_pod=100 * MIB))
    assert usage is not None
    result = recommend("worker", 1, requirements("100m", "500m", "128Mi", "256Mi"), usage)
    assert any("6.0 h" in n for n in result.notes)
    assert pod_usage([], [], []) is None
