"""The measurements behind ``python -m platform_core.observability.twin_bench``.

Each runs the real pipeline (twin gateway -> :class:`MetricIngestor` -> :class:`MetricStore` ->
:class:`AnomalyMonitor`) on virtual time. Workspaces and organizations get ids derived from the
seed and a tag, so a run is reproducible and several runs can share one store.
"""

from __future__ import annotations

import time
import uuid
from collections import Counter
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from statistics import median
from typing import Any

import numpy as np

from platform_core.cluster.schemas import ApplicationSpec, ResourceQuotaSpec
from platform_core.cluster.twin.cluster import SimulatedCluster
from platform_core.observability.anomaly import Detection
from platform_core.observability.forecast import forecast_series, naive_forecast
from platform_core.observability.ingest import MetricIngestor
from platform_core.observability.monitor import AnomalyMonitor
from platform_core.observability.store import AppKey, MetricStore

APPS = (
    ("web", "ghcr.io/acme/web:1.4.2", 2),
    ("api", "ghcr.io/acme/api:2.3.0", 3),
    ("worker", "ghcr.io/acme/worker:0.9.1", 1),
)
FAULTS: tuple[tuple[str, dict[str, Any]], ...] = (
    ("crash_loop", {"cause": "bad_image"}),
    ("crash_loop", {"cause": "bad_command"}),
    ("oom_kill", {}),
    ("memory_leak", {}),
    ("cpu_spike", {}),
    ("latency_spike", {}),
    ("error_spike", {}),
    ("pending_pods", {"cause": "quota"}),
    ("pending_pods", {"cause": "capacity"}),
)
EPISODE_GAP = timedelta(minutes=30)
_NAMESPACE = uuid.UUID("6f1c8a52-3d7e-4c1a-9a52-0c6f0e7d2b11")


@dataclass
class World:
    twin: SimulatedCluster
    workspace: str
    apps: list[AppKey]

    @property
    def pairs(self) -> list[tuple[AppKey, str]]:
        return [(app, self.workspace) for app in self.apps]

    def app(self, name: str) -> AppKey:
        return next(a for a in self.apps if a.application == name)


async def make_world(seed: int, tag: str, apps: int = 1) -> World:
    """A twin with one workspace, project ``app`` and ``apps`` copies of web/api/worker."""
    twin = SimulatedCluster(seed=seed)
    org = uuid.uuid5(_NAMESPACE, f"org-{tag}-{seed}")
    workspace = uuid.uuid5(_NAMESPACE, f"ws-{tag}-{seed}")
    await twin.provision_workspace(str(workspace))
    await twin.advance(120)
    quota = ResourceQuotaSpec(cpu="64", memory="128Gi")
    await twin.create_namespace(str(workspace), "app", quota=quota)
    keys = []
    for copy in range(apps):
        for name, image, replicas in APPS:
            app_name = name if copy == 0 else f"{name}-{copy}"
            spec = ApplicationSpec(name=app_name, image=image, replicas=replicas)
            await twin.create_application(str(workspace), "app", spec)
            keys.append(AppKey(org, workspace, "app", app_name))
    return World(twin, str(workspace), keys)


# -- false alarms ---------------------------------------------------------------------------------


@dataclass
class AlarmCount:
    alarms: int = 0
    episodes: int = 0
    by_metric: Counter[str] = field(default_factory=Counter)


@dataclass
class FalseAlarmReport:
    """``confirmed``: observe calls (one a minute) where a metric was anomalous at the latest
    point for at least a minute, the bar a scheduler would open an incident at."""

    apps: int
    hours: float
    points: int
    gated: AlarmCount
    ungated: AlarmCount
    confirmed: int
    seconds: float


async def false_alarms(
    store: MetricStore, *, seed: int, warm_hours: float = 3, hours: float = 24, tick: int = 60
) -> FalseAlarmReport:
    """Alarms on healthy applications after ``warm_hours`` of history, over ``hours``: with the
    monitor's default young-series gate, and without it (``young_alarm_score=0``)."""
    world = await make_world(seed, "false-alarms")
    ingestor = MetricIngestor(world.twin, store, lookback=timedelta(hours=warm_hours))
    gated = AnomalyMonitor(store)
    ungated = AnomalyMonitor(store, young_alarm_score=0.0)
    await world.twin.advance(warm_hours * 3600)
    await ingestor.ingest_many(world.pairs)
    for app in world.apps:
        await gated.observe(app)
        await ungated.observe(app)
    found: dict[str, list[tuple[AppKey, Detection]]] = {"gated": [], "ungated": []}
    points = confirmed = 0
    started = time.perf_counter()
    for _ in range(int(hours * 3600 // tick)):
        await world.twin.advance(tick)
        await ingestor.ingest_many(world.pairs)
        for app in world.apps:
            result = await gated.observe(app)
            points += result.new_points
            found["gated"] += [(app, d) for d in result.detections]
            found["ungated"] += [(app, d) for d in (await ungated.observe(app)).detections]
            confirmed += any(_lasting(result.latest[m]) for m in result.anomalous)
    return FalseAlarmReport(
        apps=len(world.apps),
        hours=hours,
        points=points,
        gated=_count(found["gated"]),
        ungated=_count(found["ungated"]),
        confirmed=confirmed,
        seconds=time.perf_counter() - started,
    )


def _lasting(detection: Detection) -> bool:
    if detection.since is None or detection.timestamp is None:
        return False
    return detection.timestamp - detection.since >= timedelta(minutes=1)


def _count(alarms: list[tuple[AppKey, Detection]]) -> AlarmCount:
    count = AlarmCount(alarms=len(alarms))
    last: dict[AppKey, datetime] = {}
    for app, detection in sorted(alarms, key=lambda a: a[1].timestamp or datetime.min):
        count.by_metric[detection.metric] += 1
        moment = detection.timestamp
        if moment is None:
            continue
        if app not in last or moment - last[app] > EPISODE_GAP:
            count.episodes += 1
        last[app] = moment
    return count


# -- detection delay ------------------------------------------------------------------------------


@dataclass
class DelayResult:
    fault: str
    first_seconds: int | None
    first_metric: str | None
    by_metric: dict[str, int]


async def detection_delay(
    store: MetricStore,
    fault: str,
    params: dict[str, Any],
    *,
    seed: int,
    history_hours: float,
    target: str = "api",
    window_minutes: int = 60,
) -> DelayResult:
    """Minutes of virtual time from injecting ``fault`` into ``target`` to the first alarm on
    its metrics (ticks of one minute: ingest, then observe)."""
    label = fault + (f"({params['cause']})" if "cause" in params else "")
    world = await make_world(seed, f"delay-{label}-{history_hours}")
    app = world.app(target)
    ingestor = MetricIngestor(world.twin, store, lookback=timedelta(hours=history_hours))
    monitor = AnomalyMonitor(store)
    await world.twin.advance(history_hours * 3600)
    await ingestor.ingest(app, world.workspace)
    await monitor.observe(app)
    injected = await world.twin.now()
    world.twin.inject_fault(world.workspace, "app", target, fault, **params)
    first: dict[str, int] = {}
    for _ in range(window_minutes):
        await world.twin.advance(60)
        await ingestor.ingest(app, world.workspace)
        for detection in (await monitor.observe(app)).detections:
            if detection.timestamp is not None:
                delay = int((detection.timestamp - injected).total_seconds())
                first.setdefault(detection.metric, delay)
    earliest = min(first.items(), key=lambda item: item[1]) if first else (None, None)
    return DelayResult(label, earliest[1], earliest[0], first)


# -- forecast accuracy ----------------------------------------------------------------------------


@dataclass
class ForecastReport:
    metric: str
    origins: int
    horizon_minutes: int
    mae_model: float
    mae_naive: float
    coverage: float
    level: float
    model: str


async def forecast_accuracy(
    *, seed: int, history_days: int = 7, origins: int = 24, horizon_minutes: int = 60
) -> list[ForecastReport]:
    """Rolling-origin MAE of the forecast against the last value, on twin request rate and CPU
    (5-minute points, one origin per hour over the last day)."""
    world = await make_world(seed, "forecast")
    await world.twin.advance((history_days * 24 + origins) * 3600)
    end = await world.twin.now()
    start = end - timedelta(days=history_days, hours=origins)
    app = world.app("web")
    data = await world.twin.get_metrics(
        world.workspace,
        "app",
        app.application,
        start=start,
        end=end,
        step_seconds=300,
        metrics=["request_rate", "cpu"],
    )
    steps = horizon_minutes // 5
    reports = []
    for series in data.series:
        times = [p.timestamp for p in series.points]
        values = [p.value for p in series.points]
        errors, naive, inside = [], [], 0
        model = ""
        for k in range(origins):
            cut = len(values) - (origins - k) * 12
            actual = np.asarray(values[cut : cut + steps])
            result = forecast_series(
                times[:cut],
                values[:cut],
                horizon=timedelta(minutes=horizon_minutes),
                step_seconds=300,
            )
            model = result.model
            predicted = np.asarray(result.mean[: len(actual)])
            errors += list(np.abs(predicted - actual))
            naive += list(np.abs(np.asarray(naive_forecast(values[:cut], len(actual))) - actual))
            low, high = (
                np.asarray(result.low[: len(actual)]),
                np.asarray(result.high[: len(actual)]),
            )
            inside += int(np.sum((actual >= low) & (actual <= high)))
        reports.append(
            ForecastReport(
                metric=series.metric,
                origins=origins,
                horizon_minutes=horizon_minutes,
                mae_model=float(np.mean(errors)),
                mae_naive=float(np.mean(naive)),
                coverage=inside / len(errors),
                level=0.9,
                model=model,
            )
        )
    return reports


# -- store throughput and latency -----------------------------------------------------------------


@dataclass
class StoreReport:
    apps: int
    points: int
    ingest_seconds: float
    read_ms: dict[str, float]
    observe_warmup_ms: float
    observe_tick_ms: float


async def store_performance(
    store: MetricStore, *, seed: int, copies: int = 10, hours: float = 24
) -> StoreReport:
    """Backfill ``hours`` for ``3 * copies`` applications with one ``ingest_many``, then time
    reads (median of 5) and the monitor's warm-up and per-tick observe."""
    world = await make_world(seed, "store", apps=copies)
    await world.twin.advance(hours * 3600)
    ingestor = MetricIngestor(world.twin, store, lookback=timedelta(hours=hours))
    started = time.perf_counter()
    result = await ingestor.ingest_many(world.pairs)
    ingest_seconds = time.perf_counter() - started
    app = world.apps[0]
    end = await world.twin.now()
    metrics = ["cpu", "memory", "request_rate", "latency_p95", "error_rate"]
    ranges = {
        "1h@60s": (timedelta(hours=1), 60),
        "24h@60s": (timedelta(hours=24), 60),
        "24h@300s (rollup)": (timedelta(hours=24), 300),
    }
    read_ms = {}
    for name, (span, step) in ranges.items():
        samples = []
        for _ in range(5):
            began = time.perf_counter()
            await store.read(app, metrics, end - span, end, step)
            samples.append(1000 * (time.perf_counter() - began))
        read_ms[name] = median(samples)
    monitor = AnomalyMonitor(store)
    began = time.perf_counter()
    await monitor.observe(app)
    warmup_ms = 1000 * (time.perf_counter() - began)
    await world.twin.advance(60)
    await ingestor.ingest(app, world.workspace)
    began = time.perf_counter()
    await monitor.observe(app)
    tick_ms = 1000 * (time.perf_counter() - began)
    return StoreReport(len(world.apps), result.points, ingest_seconds, read_ms, warmup_ms, tick_ms)
