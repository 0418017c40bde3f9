"""Ingestion from the cluster gateway: cursor, chunking, restarts, failures of one application."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime, timedelta
from itertools import pairwise
from typing import Any

import pytest

from platform_core.cluster.schemas import ApplicationMetrics, MetricName
from platform_core.cluster.twin.cluster import SimulatedCluster
from platform_core.errors import NotFound
from platform_core.observability.ingest import ALL_METRICS, MetricIngestor
from platform_core.observability.store import AppKey, MetricStore
from platform_core.observability.twin_bench.runner import make_world

MINUTE = timedelta(minutes=1)


class CountingGateway:
    """The twin, with the range queries it answered."""

    def __init__(self, twin: SimulatedCluster) -> None:
        self.twin = twin
        self.queries: list[tuple[str, datetime, datetime]] = []

    async def now(self) -> datetime:
        return await self.twin.now()

    async def get_metrics(
        self,
        workspace: str,
        namespace: str,
        application: str,
        *,
        start: datetime,
        end: datetime,
        step_seconds: int,
        metrics: Sequence[MetricName],
    ) -> ApplicationMetrics:
        self.queries.append((application, start, end))
        return await self.twin.get_metrics(
            workspace,
            namespace,
            application,
            start=start,
            end=end,
            step_seconds=step_seconds,
            metrics=metrics,
        )


def ingestor(gateway: Any, store: MetricStore, **options: Any) -> MetricIngestor:
    return MetricIngestor(gateway, store, **options)


async def stored_minutes(store: MetricStore, app: AppKey, metric: str) -> list[datetime]:
    start = datetime(2025, 1, 1, tzinfo=UTC)
    series = await store.read(app, [metric], start, start + timedelta(days=30))
    return [t for t, _ in series[metric]]


async def test_two_ingests_leave_no_gap_and_no_duplicate(metric_store: MetricStore) -> None:
    world = await make_world(1, "ingest-cursor")
    await world.twin.advance(2 * 3600)
    app = world.app("web")
    gateway = CountingGateway(world.twin)
    ingest = ingestor(gateway, metric_store, lookback=timedelta(hours=1))

    first = await ingest.ingest(app, world.workspace)
    await world.twin.advance(10 * 60 + 30)  # ten and a half minutes later
    second = await ingest.ingest(app, world.workspace)

    assert first == 61 * len(ALL_METRICS)  # an hour back, both ends included
    assert second == 10 * len(ALL_METRICS)  # the half-finished minute waits for the next call
    times = await stored_minutes(metric_store, app, "cpu")
    assert all(b - a == MINUTE for a, b in pairwise(times))
    now = await world.twin.now()
    assert now - MINUTE < times[-1] <= now
    assert times[0] == times[-1] - 70 * MINUTE
    # what was stored is exactly what the cluster answers for the whole range at once
    whole = await world.twin.get_metrics(
        world.workspace, "app", "web", start=times[0], end=times[-1], step_seconds=60
    )
    stored = await metric_store.read(app, list(ALL_METRICS), times[0], times[-1])
    for series in whole.series:
        assert stored[series.metric] == [(p.timestamp, p.value) for p in series.points]


async def test_a_long_range_is_fetched_in_chunks_below_the_gateway_limit(
    metric_store: MetricStore,
) -> None:
    world = await make_world(2, "ingest-chunks")
    await world.twin.advance(3 * 3600)
    gateway = CountingGateway(world.twin)
    ingest = ingestor(gateway, metric_store, lookback=timedelta(hours=2), max_points=50)

    written = await ingest.ingest(world.app("api"), world.workspace)

    assert written == 121 * len(ALL_METRICS)
    assert len(gateway.queries) == 3  # 50 + 50 + 21 points
    assert all((end - start) <= 49 * MINUTE for _, start, end in gateway.queries)


async def test_a_restarted_ingestor_continues_from_the_store(metric_store: MetricStore) -> None:
    world = await make_world(3, "ingest-restart")
    await world.twin.advance(2 * 3600)
    app = world.app("worker")
    await ingestor(world.twin, metric_store).ingest(app, world.workspace)
    await world.twin.advance(5 * 60)
    gateway = CountingGateway(world.twin)

    written = await ingestor(gateway, metric_store).ingest(app, world.workspace)

    last = await metric_store.last_timestamp(app)
    assert written == 5 * len(ALL_METRICS)
    assert last is not None
    assert gateway.queries == [("worker", last - 4 * MINUTE, last)]


async def test_a_long_outage_is_backfilled_only_so_far(metric_store: MetricStore) -> None:
    world = await make_world(4, "ingest-outage")
    await world.twin.advance(3600)
    app = world.app("web")
    await ingestor(world.twin, metric_store).ingest(app, world.workspace)
    await world.twin.advance(5 * 3600)

    ingest = ingestor(
        world.twin, metric_store, lookback=timedelta(hours=1), max_backfill=timedelta(hours=2)
    )
    await ingest.ingest(app, world.workspace)

    times = await stored_minutes(metric_store, app, "cpu")
    gap = max(b - a for a, b in pairwise(times))
    assert timedelta(hours=2, minutes=55) < gap < timedelta(hours=3, minutes=5)


async def test_one_failing_application_does_not_stop_the_others(
    metric_store: MetricStore,
) -> None:
    world = await make_world(5, "ingest-failure")
    await world.twin.advance(3600)
    gone = AppKey(world.apps[0].organization_id, world.apps[0].workspace_id, "app", "deleted")
    ingest = ingestor(world.twin, metric_store, lookback=timedelta(minutes=30))

    result = await ingest.ingest_many([*world.pairs, (gone, world.workspace)])

    assert set(result.written) == set(world.apps)
    assert result.points == 3 * 31 * len(ALL_METRICS)
    assert isinstance(result.failed[gone], NotFound)
    with pytest.raises(NotFound):
        await ingest.ingest(gone, world.workspace)
