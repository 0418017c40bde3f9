"""Ingestion: application metrics from the cluster gateway into the metric store.

The gateway answers range queries (the twin from its load model, a real cluster from Prometheus'
HTTP API), on the cluster's clock. Each call of :meth:`MetricIngestor.ingest` fetches from the
application's cursor up to the last complete step before ``gateway.now()``:

* the cursor is where this process fetched up to last time, or, when it has none (first call,
  restart, another replica did the previous ticks), the newest stored sample: the store is the
  truth, and a replica whose cursor lags only fetches and rewrites some points again;
* the first run starts ``lookback`` before now, and a long outage is backfilled at most
  ``max_backfill`` (older data is not worth a burst of range queries);
* a range is fetched in chunks of fewer than the gateway's maximum points per series (11,000,
  Prometheus' limit) and each chunk is written before the next is asked for.

Writes are idempotent (see ``metric_schema``), so overlapping or retried ingestion never doubles
a value. ``delay`` keeps the newest steps back on a real cluster, where the last scrape interval
may not have landed in Prometheus yet.
"""

from __future__ import annotations

import asyncio
import math
from collections import OrderedDict
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import get_args

from platform_core.cluster.protocol import ClusterGateway
from platform_core.cluster.schemas import MetricName
from platform_core.observability.store import AppKey, MetricSample, MetricStore, as_utc

ALL_METRICS: tuple[MetricName, ...] = get_args(MetricName)
GATEWAY_MAX_POINTS = 11_000
_MAX_CURSORS = 100_000


@dataclass
class IngestResult:
    """Points written per application, and the applications whose fetch failed (and why)."""

    written: dict[AppKey, int] = field(default_factory=dict)
    failed: dict[AppKey, Exception] = field(default_factory=dict)

    @property
    def points(self) -> int:
        return sum(self.written.values())


class MetricIngestor:
    """Moves each application's metrics from the gateway into the store, from its cursor on."""

    def __init__(
        self,
        gateway: ClusterGateway,
        store: MetricStore,
        *,
        lookback: timedelta = timedelta(hours=6),
        step_seconds: int = 60,
        max_backfill: timedelta = timedelta(days=7),
        delay: timedelta = timedelta(0),
        metrics: Sequence[MetricName] = ALL_METRICS,
        max_points: int = GATEWAY_MAX_POINTS,
    ) -> None:
        if step_seconds < 1 or max_points < 2:
            raise ValueError("step_seconds must be >= 1 and max_points >= 2")
        self.gateway = gateway
        self.store = store
        self.lookback = lookback
        self.step_seconds = step_seconds
        self.max_backfill = max(max_backfill, lookback)
        self.delay = delay
        self.metrics = tuple(metrics)
        self.max_points = max_points
        self._fetched: OrderedDict[AppKey, datetime] = OrderedDict()

    async def ingest(self, app: AppKey, cluster_workspace: str) -> int:
        """Fetch and store ``app``'s new points; returns how many were written.

        ``cluster_workspace`` is the identifier the gateway knows the workspace by (the
        platform's workspace id). Gateway errors (``NotFound`` for a deleted application, ...)
        and ``ClickHouseUnavailableError`` propagate; nothing is skipped, the next call retries
        from the same cursor.
        """
        result = await self.ingest_many([(app, cluster_workspace)])
        if app in result.failed:
            raise result.failed[app]
        return result.written.get(app, 0)

    async def ingest_many(
        self, apps: Sequence[tuple[AppKey, str]], *, concurrency: int = 8
    ) -> IngestResult:
        """Ingest several applications with one store write per round of chunks.

        A gateway error fails only its application (in ``failed``; the others are written); a
        store error fails the whole call.
        """
        step = timedelta(seconds=self.step_seconds)
        end = _floor(as_utc(await self.gateway.now()) - self.delay, self.step_seconds)
        result = IngestResult()
        pending: dict[AppKey, tuple[str, datetime]] = {}
        for app, workspace in apps:
            start = await self._start(app, end)
            if start <= end:
                pending[app] = (workspace, start)
        limit = asyncio.Semaphore(max(1, concurrency))
        chunk = step * (self.max_points - 1)
        while pending:
            spans = {
                app: (ws, start, min(start + chunk, end)) for app, (ws, start) in pending.items()
            }
            fetched = await asyncio.gather(
                *(self._fetch(limit, app, ws, a, b) for app, (ws, a, b) in spans.items()),
                return_exceptions=True,
            )
            samples: list[MetricSample] = []
            for app, outcome in zip(spans, fetched, strict=True):
                if isinstance(outcome, Exception):
                    result.failed[app] = outcome
                    continue
                if isinstance(outcome, BaseException):
                    raise outcome
                samples += outcome
                result.written[app] = result.written.get(app, 0) + len(outcome)
            await self.store.write(samples)
            pending = {}
            for app, (ws, _, stop) in spans.items():
                if app in result.failed:
                    continue
                self._remember(app, stop)
                if stop + step <= end:
                    pending[app] = (ws, stop + step)
        return result

    async def _start(self, app: AppKey, end: datetime) -> datetime:
        """Where ``app``'s next fetch begins: after this process's cursor, else the store's."""
        cursor = self._fetched.get(app) or await self.store.last_timestamp(app)
        if cursor is not None:
            start = cursor + timedelta(seconds=self.step_seconds)
        else:
            start = end - self.lookback
        floor = end - self.max_backfill
        return _ceil(max(start, floor), self.step_seconds)

    async def _fetch(
        self, limit: asyncio.Semaphore, app: AppKey, workspace: str, start: datetime, end: datetime
    ) -> list[MetricSample]:
        async with limit:
            result = await self.gateway.get_metrics(
                workspace,
                app.project,
                app.application,
                start=start,
                end=end,
                step_seconds=self.step_seconds,
                metrics=self.metrics,
            )
        return [
            MetricSample(app, series.metric, point.timestamp, point.value)
            for series in result.series
            if series.pod is None
            for point in series.points
            if math.isfinite(point.value)
        ]

    def _remember(self, app: AppKey, fetched_until: datetime) -> None:
        self._fetched[app] = fetched_until
        self._fetched.move_to_end(app)
        while len(self._fetched) > _MAX_CURSORS:
            self._fetched.popitem(last=False)

    def forget(self, app: AppKey) -> None:
        """Drop the in-process cursor of an application (deleted, or moved elsewhere)."""
        self._fetched.pop(app, None)


def _floor(moment: datetime, step: int) -> datetime:
    return datetime.fromtimestamp(math.floor(moment.timestamp() / step) * step, UTC)


def _ceil(moment: datetime, step: int) -> datetime:
    return datetime.fromtimestamp(math.ceil(moment.timestamp() / step) * step, UTC)
