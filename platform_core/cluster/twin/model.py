"""The load model: traffic, CPU, latency and errors as vectorised functions of time.

The same functions serve two callers. A metrics query evaluates one application at many times;
the periodic tick evaluates every application at one time. Both are NumPy broadcasts, so neither
loops in Python.

* Traffic follows a daily curve (low around 04:00, peak around 16:00 in the application's own
  phase) with deterministic noise: ``noise(seed, bucket)`` is a SplitMix64 hash of the
  application's seed and the 15-second bucket, so the same instant always has the same value.
* CPU demand is requests x cost per request (times a fault factor) plus idle cost per pod; a pod
  cannot use more than its limit, so utilisation of the limit above 1 means throttling.
* p95 latency grows like a queue as utilisation approaches 1; errors appear when demand exceeds
  capacity (requests time out) and are total when no pod is ready (the Service has no endpoints).
"""

from __future__ import annotations

import numpy as np
from numpy.typing import ArrayLike, NDArray

Floats = NDArray[np.float64]
BUCKET_SECONDS = 15.0
_GOLDEN = np.uint64(0x9E3779B97F4A7C15)
_MIX1 = np.uint64(0xBF58476D1CE4E5B9)
_MIX2 = np.uint64(0x94D049BB133111EB)
_QUEUE_CAP = 0.98


def noise(seed: ArrayLike, t: ArrayLike, salt: int = 0) -> Floats:
    """Deterministic noise in [-1, 1) per (seed, 15 s bucket, salt)."""
    bucket = np.floor(np.asarray(t, dtype=np.float64) / BUCKET_SECONDS).astype(np.int64)
    with np.errstate(over="ignore"):  # wrapping multiplication is the point of the hash
        x = np.asarray(seed, dtype=np.uint64) + np.uint64(salt) * _MIX2
        x = x ^ (bucket.astype(np.uint64) * _GOLDEN)
        x = (x ^ (x >> np.uint64(30))) * _MIX1
        x = (x ^ (x >> np.uint64(27))) * _MIX2
        x = x ^ (x >> np.uint64(31))
    return np.asarray((x >> np.uint64(11)).astype(np.float64) / 2.0**52 - 1.0, dtype=np.float64)


def daily(t: ArrayLike, phase_h: ArrayLike) -> Floats:
    """Share of peak traffic at time ``t``: 0.3 at 04:00, 1.0 at 16:00 (shifted by phase)."""
    hour = (np.asarray(t, dtype=np.float64) / 3600.0 + np.asarray(phase_h)) % 24.0
    return np.asarray(0.3 + 0.7 * (0.5 - 0.5 * np.cos(2 * np.pi * (hour - 4.0) / 24.0)))


def request_rate(t: ArrayLike, base_rps: ArrayLike, phase_h: ArrayLike, seed: ArrayLike) -> Floats:
    """Incoming requests per second for the whole application."""
    base = np.asarray(base_rps, dtype=np.float64)
    return np.asarray(base * daily(t, phase_h) * (1.0 + 0.08 * noise(seed, t, 1)))


def demand_per_pod(
    rps: ArrayLike, cpu_per_req: ArrayLike, factor: ArrayLike, ready: ArrayLike, idle: ArrayLike
) -> Floats:
    """CPU (millicores) each ready pod would use if unthrottled; NaN without ready pods."""
    ready_f = np.asarray(ready, dtype=np.float64)
    with np.errstate(divide="ignore", invalid="ignore"):
        per_pod = np.asarray(rps) * np.asarray(cpu_per_req) * np.asarray(factor) / ready_f
    return np.asarray(np.where(ready_f > 0, per_pod + np.asarray(idle), np.nan))


def utilisation(demand: ArrayLike, cpu_limit: ArrayLike) -> Floats:
    """Demand over limit: above 1 the pods are CPU-throttled."""
    return np.asarray(np.asarray(demand) / np.maximum(np.asarray(cpu_limit, dtype=np.float64), 1.0))


def latency_p95(
    util: ArrayLike, base_latency: ArrayLike, lat_add: ArrayLike, seed: ArrayLike, t: ArrayLike
) -> Floats:
    """p95 latency in ms: base x queueing factor + injected latency, with a little noise."""
    rho = np.clip(np.nan_to_num(np.asarray(util, dtype=np.float64), nan=0.0), 0.0, _QUEUE_CAP)
    queue = 1.0 + rho**4 / (1.0 - rho)
    jitter = 1.0 + 0.1 * noise(seed, t, 2)
    return np.asarray(np.asarray(base_latency) * queue * jitter + np.asarray(lat_add))


def error_ratio(
    util: ArrayLike,
    base_err: ArrayLike,
    err_add: ArrayLike,
    ready: ArrayLike,
    seed: ArrayLike,
    t: ArrayLike,
) -> Floats:
    """Share of failed requests: background + injected + overload timeouts; 1 with no pods."""
    u = np.nan_to_num(np.asarray(util, dtype=np.float64), nan=0.0)
    with np.errstate(divide="ignore", invalid="ignore"):
        overload = np.where(u > 1.0, 0.5 * (1.0 - 1.0 / u), 0.0)
    background = np.asarray(base_err) * (1.0 + 0.5 * noise(seed, t, 3))
    total = np.clip(background + np.asarray(err_add) + overload, 0.0, 1.0)
    return np.asarray(np.where(np.asarray(ready) > 0, total, 1.0))
