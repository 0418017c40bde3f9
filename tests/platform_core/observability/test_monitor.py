"""The anomaly monitor: detection on twin faults, replay equivalence, bounded state."""

from __future__ import annotations

from datetime import timedelta

from platform_core.observability.ingest import MetricIngestor
from platform_core.observability.monitor import MONITORED_METRICS, AnomalyMonitor
from platform_core.observability.store import MetricStore
from platform_core.observability.twin_bench.runner import World, make_world


async def ingested_world(
    store: MetricStore, seed: int, tag: str, hours: float
) -> tuple[World, MetricIngestor]:
    world = await make_world(seed, tag)
    await world.twin.advance(hours * 3600)
    ingest = MetricIngestor(world.twin, store, lookback=timedelta(hours=hours))
    await ingest.ingest_many(world.pairs)
    return world, ingest


async def test_a_latency_spike_on_a_warmed_series_is_detected_within_two_minutes(
    metric_store: MetricStore,
) -> None:
    world, ingest = await ingested_world(metric_store, 8, "monitor-latency", hours=26)
    app = world.app("api")
    monitor = AnomalyMonitor(metric_store)
    warm = await monitor.observe(app)
    assert warm.warmed_up and warm.detections == ()
    injected = await world.twin.now()
    world.twin.inject_fault(world.workspace, "app", "api", "latency_spike")

    found = []
    for _ in range(2):
        await world.twin.advance(60)
        await ingest.ingest(app, world.workspace)
        found += (await monitor.observe(app)).detections

    latency = [d for d in found if d.metric == "latency_p95"]
    assert latency, [d.summary() for d in found]
    first = latency[0]
    assert first.timestamp is not None and first.timestamp - injected <= timedelta(minutes=2)
    assert first.observed > first.expected_high + 1000  # +1.5 s on a p95 of tens of ms
    assert first.since == first.timestamp
    assert "latency_p95" in first.summary() and "ANOMALY" in first.summary()


async def test_replaying_the_store_reaches_the_same_verdicts_as_watching(
    metric_store: MetricStore,
) -> None:
    world, ingest = await ingested_world(metric_store, 9, "monitor-replay", hours=2)
    app = world.app("web")
    watching = AnomalyMonitor(metric_store)
    healthy = list((await watching.observe(app)).detections)
    for _ in range(16):  # eight more hours, observed every half hour
        await world.twin.advance(1800)
        await ingest.ingest(app, world.workspace)
        healthy += (await watching.observe(app)).detections
    restarted = AnomalyMonitor(metric_store)  # a new process: no state, 10 h in the store
    replay = await restarted.observe(app)
    world.twin.inject_fault(world.workspace, "app", "web", "error_spike")
    await world.twin.advance(20 * 60)
    await ingest.ingest(app, world.workspace)

    seen = await watching.observe(app)
    replayed = await restarted.observe(app)

    assert healthy == []  # ten healthy hours, no alarm
    assert replay.warmed_up and replay.new_points == 10  # only the last 10 min are reported
    assert seen.new_points == replayed.new_points == 20
    assert any(d.metric == "error_rate" for d in seen.detections)
    assert replayed.detections == seen.detections
    assert replayed.scores == seen.scores
    assert replayed.latest == seen.latest
    assert set(seen.latest) == set(MONITORED_METRICS)


async def test_state_is_bounded_and_idle_applications_are_forgotten(
    metric_store: MetricStore,
) -> None:
    world, _ = await ingested_world(metric_store, 10, "monitor-bounds", hours=1)
    now = [0.0]
    monitor = AnomalyMonitor(
        metric_store, max_apps=2, idle_timeout=timedelta(hours=1), clock=lambda: now[0]
    )
    web, api, worker = (world.app(name) for name in ("web", "api", "worker"))
    for app in (web, api, worker):
        await monitor.observe(app)
    assert len(monitor) == 2  # the least recently observed (web) was dropped

    now[0] += 2 * 3600
    again = await monitor.observe(web)

    assert len(monitor) == 1  # api and worker sat idle for two hours
    assert again.warmed_up  # web was rebuilt from the store


async def test_a_young_series_alarms_on_a_fault_and_stays_anomalous_while_it_lasts(
    metric_store: MetricStore,
) -> None:
    world, ingest = await ingested_world(metric_store, 11, "monitor-young", hours=3)
    app = world.app("web")
    monitor = AnomalyMonitor(metric_store)
    assert (await monitor.observe(app)).detections == ()
    world.twin.inject_fault(world.workspace, "app", "web", "error_spike")

    ticks = []
    for _ in range(3):
        await world.twin.advance(60)
        await ingest.ingest(app, world.workspace)
        ticks.append(await monitor.observe(app))

    alarm = next(d for d in ticks[0].detections if d.metric == "error_rate")
    assert alarm.score >= 0.75  # a young series needs strong evidence to open an episode
    assert "error_rate" in ticks[0].anomalous
    second = ticks[1].latest["error_rate"]
    assert "error_rate" in ticks[1].anomalous and second.since == alarm.timestamp
    assert second.timestamp is not None and second.timestamp - alarm.timestamp >= timedelta(
        minutes=1
    )
