"""Range queries over the load model, evaluated lazily and vectorised.

Nothing is sampled while the clock runs. A query builds the time grid (``start + k * step``, like
a Prometheus range query), looks up the application's readiness timeline at those instants
(``searchsorted``), evaluates the load model on the whole grid at once, and derives per-pod series
from each pod's container instances (running, ready and memory ``min(limit, base + slope * t)``).
Application series are the pod series summed (CPU, memory, restarts) or the service-level values
(request rate, p95 latency, error rate, available replicas). Points where a series has no data (a
pod not running yet, no ready pods for latency) are left out, as Prometheus leaves them out.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from platform_core.cluster.schemas import (
    METRIC_UNITS,
    ApplicationMetrics,
    MetricName,
    MetricPoint,
    MetricSeries,
)
from platform_core.cluster.twin import effects, model
from platform_core.cluster.twin.core import TwinCore
from platform_core.cluster.twin.model import Floats
from platform_core.cluster.twin.state import App, Namespace, Pod
from platform_core.errors import InvalidInput

MAX_POINTS = 11_000
ALL_METRICS: tuple[MetricName, ...] = tuple(METRIC_UNITS)
_RESTART_REASONS = {"Error", "OOMKilled"}


@dataclass(slots=True)
class AppState:
    """The load model evaluated for one application on a time grid."""

    t: Floats
    known: Floats  # 1.0 where the application existed
    ready: Floats
    rps: Floats
    demand: Floats  # millicores per ready pod
    util: Floats
    latency: Floats
    errors: Floats
    lat_add: Floats
    err_add: Floats


def app_state(core: TwinCore, app: App, t: Floats) -> AppState:
    tl = app.timeline
    idx = np.searchsorted(np.asarray(tl.t), t, side="right") - 1
    known = idx >= 0
    at = np.clip(idx, 0, None)

    def column(values: list[int] | list[float]) -> Floats:
        return np.where(known, np.asarray(values, dtype=np.float64)[at], 0.0)

    ready, cpu_lim = column(tl.ready), column(tl.cpu_lim)
    lat_add, err_add = column(tl.lat_add), column(tl.err_add)
    load = app.load
    rps = model.request_rate(t, load.base_rps, load.phase_h, load.seed)
    factor = effects.cpu_factor(core, app, t)
    demand = model.demand_per_pod(rps, load.cpu_per_req, factor, ready, load.idle_cpu)
    util = model.utilisation(demand, cpu_lim)
    latency = model.latency_p95(util, load.base_latency, lat_add, load.seed, t)
    errors = model.error_ratio(util, load.base_err, err_add, ready, load.seed, t)
    return AppState(
        t, known.astype(np.float64), ready, rps, demand, util, latency, errors, lat_add, err_add
    )


def app_pods(ns: Namespace, app: App) -> list[Pod]:
    """Current pods (terminating included) and recently removed ones."""
    current = [p for rs in app.rsets.values() for n in rs.pods if (p := ns.pods.get(n)) is not None]
    names = {p.name for p in current}
    return [*(p for p in app.old_pods if p.name not in names), *current]


def pod_series(app: App, pod: Pod, state: AppState) -> dict[MetricName, Floats]:
    t = state.t
    running = np.zeros(t.shape, dtype=bool)
    ready = np.zeros(t.shape, dtype=bool)
    memory = np.full(t.shape, np.nan)
    gone = pod.gone_at if pod.gone_at is not None else math.inf
    for run in pod.runs:
        end = min(run.end if run.end is not None else math.inf, gone)
        inside = (t >= run.start) & (t < end)
        running |= inside
        grown = run.mem_base + run.mem_slope * np.maximum(0.0, t - run.mem_t0)
        wobble = 1.0 + 0.02 * model.noise(pod.seed, t, 5)
        memory = np.where(inside, np.minimum(float(pod.mem_lim), grown * wobble), memory)
        if run.ready_at is not None:
            ready |= inside & (t >= run.ready_at)
    idle = np.where(running, app.load.idle_cpu, np.nan)
    cpu = np.where(ready, np.minimum(state.demand, float(pod.cpu_lim)), idle) / 1000.0
    with np.errstate(divide="ignore", invalid="ignore"):
        share = state.rps / state.ready
    alive = (t >= pod.created) & (t < gone)
    restarts = [r.end for r in pod.runs if r.end is not None and r.reason in _RESTART_REASONS]
    before = pod.restarts - len(restarts)
    counted = before + np.searchsorted(
        np.sort(np.asarray(restarts, dtype=np.float64)), t, side="right"
    )
    return {
        "cpu": cpu,
        "memory": memory,
        "request_rate": np.where(ready, share, np.nan),
        "latency_p95": np.where(ready, state.latency - state.lat_add + pod.lat_add, np.nan),
        "error_rate": np.where(
            ready, np.clip(state.errors - state.err_add + pod.err_add, 0, 1), np.nan
        ),
        "available_replicas": np.where(alive, ready.astype(np.float64), np.nan),
        "restarts": np.where(alive, counted.astype(np.float64), np.nan),
    }


def app_series(
    state: AppState, per_pod: list[dict[MetricName, Floats]]
) -> dict[MetricName, Floats]:
    known = state.known > 0

    def total(metric: MetricName) -> Floats:
        if not per_pod:
            return np.where(known, 0.0, np.nan)
        stacked = np.vstack([series[metric] for series in per_pod])
        return np.where(known, np.nansum(stacked, axis=0), np.nan)

    return {
        "cpu": total("cpu"),
        "memory": total("memory"),
        "request_rate": np.where(known, state.rps, np.nan),
        "latency_p95": np.where(known & (state.ready > 0), state.latency, np.nan),
        "error_rate": np.where(known, state.errors, np.nan),
        "available_replicas": np.where(known, state.ready, np.nan),
        "restarts": total("restarts"),
    }


def grid(core: TwinCore, start: float, end: float, step: int) -> Floats:
    if step < 1:
        raise InvalidInput("step_seconds must be at least 1")
    end = min(end, core.t)
    if end < start:
        raise InvalidInput("end must not be before start")
    first = math.ceil(start / step) * step
    count = int((end - first) // step) + 1 if end >= first else 0
    if count > MAX_POINTS:
        raise InvalidInput(
            f"exceeded maximum resolution of {MAX_POINTS} points per series; "
            "use a larger step or a shorter range"
        )
    return np.asarray(first + step * np.arange(count), dtype=np.float64)


def query(
    core: TwinCore,
    ns: Namespace,
    app: App,
    *,
    start: float,
    end: float,
    step: int,
    metrics: tuple[MetricName, ...],
    per_pod: bool,
) -> ApplicationMetrics:
    t = grid(core, start, end, step)
    state = app_state(core, app, t)
    pods = app_pods(ns, app)
    pod_values = [pod_series(app, pod, state) for pod in pods]
    series = [
        _series(core, name, None, t, values)
        for name, values in app_series(state, pod_values).items()
        if name in metrics
    ]
    if per_pod:
        for pod, values in zip(pods, pod_values, strict=True):
            if np.any(np.isfinite(values["restarts"])):
                series += [_series(core, name, pod.name, t, values[name]) for name in metrics]
    return ApplicationMetrics(
        application=app.name,
        namespace=ns.name,
        start=core.dt(start),
        end=core.dt(min(end, core.t)),
        step_seconds=step,
        series=series,
    )


def _series(
    core: TwinCore, metric: MetricName, pod: str | None, t: Floats, values: Floats
) -> MetricSeries:
    keep = np.isfinite(values)
    points = [
        MetricPoint(timestamp=core.dt(float(ts)), value=round(float(v), 6))
        for ts, v in zip(t[keep], values[keep], strict=True)
    ]
    return MetricSeries(metric=metric, unit=METRIC_UNITS[metric], pod=pod, points=points)
