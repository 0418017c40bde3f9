"""Predictive scaling: replicas needed for a forecast request rate, from observed capacity.

What one replica can take is learned from the application's own history: total CPU is fitted
as ``cpu = cpu_per_request * request_rate + idle_cpu * replicas`` (least squares, both
coefficients non-negative). A replica is sized to run at ``target_utilisation`` of its CPU
request (what a HorizontalPodAutoscaler on CPU aims for), so for a request rate ``r`` the
replicas needed are the smallest ``n`` with ``(cpu_per_request * r + idle_cpu * n) / n <=
target_utilisation * cpu_request``. The upper bound of the forecast's interval is used, so the
plan covers the load the forecast considers plausible, not just its middle.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

import numpy as np

from platform_core.observability.forecast import Forecast


@dataclass(frozen=True)
class CapacityFit:
    """CPU cost of traffic: cores per request/second, and cores per idle replica."""

    cpu_per_request: float
    idle_cpu_per_replica: float
    samples: int


@dataclass(frozen=True)
class ReplicaStep:
    """Replicas recommended for one interval of the forecast."""

    start: datetime
    end: datetime
    peak_request_rate: float
    replicas: int
    cpu_per_replica: float


def fit_capacity(
    cpu: Sequence[float], request_rate: Sequence[float], replicas: Sequence[float]
) -> CapacityFit | None:
    """Fit total CPU (cores) on request rate and ready replicas; None without usable data."""
    x_rate = np.asarray(request_rate, dtype=np.float64)
    x_rep = np.asarray(replicas, dtype=np.float64)
    y = np.asarray(cpu, dtype=np.float64)
    keep = np.isfinite(x_rate) & np.isfinite(x_rep) & np.isfinite(y) & (x_rep > 0)
    if int(keep.sum()) < 10:
        return None
    x_rate, x_rep, y = x_rate[keep], x_rep[keep], y[keep]
    both = np.column_stack([x_rate, x_rep])
    coef, *_ = np.linalg.lstsq(both, y, rcond=None)
    per_request, idle = float(coef[0]), float(coef[1])
    if per_request < 0:  # fall back to the one coefficient that makes sense
        per_request, idle = 0.0, float(y @ x_rep) / float(x_rep @ x_rep)
    elif idle < 0:
        per_request, idle = float(y @ x_rate) / max(float(x_rate @ x_rate), 1e-12), 0.0
    return CapacityFit(max(per_request, 0.0), max(idle, 0.0), int(keep.sum()))


def replicas_needed(
    request_rate: float,
    fit: CapacityFit,
    cpu_request: float,
    *,
    target_utilisation: float = 0.7,
    min_replicas: int = 1,
    max_replicas: int = 200,
) -> int:
    """Smallest replica count keeping each replica at ``target_utilisation`` of its request."""
    budget = target_utilisation * cpu_request - fit.idle_cpu_per_replica
    if budget <= 0:
        raise ValueError(
            "an idle replica alone uses more than the target share of its CPU request; "
            "raise the CPU request"
        )
    needed = math.ceil(max(request_rate, 0.0) * fit.cpu_per_request / budget - 1e-9)
    return min(max(needed, min_replicas), max_replicas)


def plan_replicas(
    forecast: Forecast,
    fit: CapacityFit,
    cpu_request: float,
    *,
    interval: timedelta = timedelta(minutes=15),
    target_utilisation: float = 0.7,
    min_replicas: int = 1,
    max_replicas: int = 200,
) -> list[ReplicaStep]:
    """Replicas per ``interval`` of a request-rate forecast, sized on its upper bound."""
    steps: list[ReplicaStep] = []
    if not forecast.times:
        return steps
    start = forecast.times[0]
    while start <= forecast.times[-1]:
        end = start + interval
        peak = max(
            (h for t, h in zip(forecast.times, forecast.high, strict=True) if start <= t < end),
            default=0.0,
        )
        n = replicas_needed(
            peak,
            fit,
            cpu_request,
            target_utilisation=target_utilisation,
            min_replicas=min_replicas,
            max_replicas=max_replicas,
        )
        per_replica = (fit.cpu_per_request * peak + fit.idle_cpu_per_replica * n) / n
        steps.append(ReplicaStep(start, end, peak, n, per_replica))
        start = end
    return steps
