"""Metric history for tools: the metric store when the service runs one, else the cluster.

The store keeps days of history at one-minute resolution and months of 5-minute rollups; the
cluster's range queries (Prometheus, or the twin) answer too, from whatever the cluster retains.
A tool gets the store's answer when it has data, and the cluster's otherwise (no store, the
store is down, or it has not ingested this application yet), with a note saying so.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Literal

from platform_core.clickhouse import ClickHouseUnavailableError, describe
from platform_core.cluster.schemas import MetricName
from platform_core.observability.ingest import GATEWAY_MAX_POINTS
from platform_core.observability.store import Aggregate, AppKey, Series
from tools.base import ToolContext
from tools.targets import Target

logger = logging.getLogger(__name__)
Source = Literal["metric store", "cluster"]


@dataclass(frozen=True)
class History:
    series: Series
    source: Source
    note: str | None = None

    def span(self, metric: str) -> timedelta:
        points = self.series.get(metric, [])
        return points[-1][0] - points[0][0] if len(points) > 1 else timedelta(0)


def app_key(ctx: ToolContext, target: Target, application: str) -> AppKey:
    if target.workspace is None:
        raise ValueError("an application key needs a workspace")
    return AppKey(ctx.organization.id, target.workspace.id, target.namespace, application)


async def load_history(
    ctx: ToolContext,
    target: Target,
    application: str,
    metrics: Sequence[MetricName],
    start: datetime,
    end: datetime,
    step_seconds: int,
    *,
    aggregate: Aggregate = "avg",
    prefer_longest: bool = False,
) -> History:
    """``{metric: [(time, value)]}`` of one application over [start, end].

    With ``prefer_longest`` the cluster is asked too when the store's history starts more than
    a day after ``start`` (the store was added recently), and the longer history wins.
    """
    note = None
    stored: History | None = None
    if ctx.metrics is not None:
        try:
            series = await ctx.metrics.read(
                app_key(ctx, target, application),
                list(metrics),
                start,
                end,
                step_seconds,
                aggregate=aggregate,
            )
        except ClickHouseUnavailableError as exc:
            logger.warning("metric store unavailable, reading from the cluster: %s", describe(exc))
            note = "the metric store is unavailable: history read from the cluster"
        else:
            if any(series.values()):
                stored = History(series, "metric store")
                if not prefer_longest or _starts_by(series, start + timedelta(days=1)):
                    return stored
            else:
                note = "the metric store has no data for this application: read from the cluster"
    cluster = History(
        await _from_cluster(ctx, target, application, metrics, start, end, step_seconds),
        "cluster",
        note,
    )
    if stored is not None and _points(stored.series) >= _points(cluster.series):
        return stored
    return cluster


def _starts_by(series: Series, moment: datetime) -> bool:
    firsts = [points[0][0] for points in series.values() if points]
    return bool(firsts) and min(firsts) <= moment


def _points(series: Series) -> int:
    return max((len(points) for points in series.values()), default=0)


async def _from_cluster(
    ctx: ToolContext,
    target: Target,
    application: str,
    metrics: Sequence[MetricName],
    start: datetime,
    end: datetime,
    step_seconds: int,
) -> Series:
    """Range queries in chunks below the gateway's points-per-series limit."""
    series: Series = {metric: [] for metric in metrics}
    chunk = timedelta(seconds=step_seconds * (GATEWAY_MAX_POINTS - 1))
    cursor = start
    while cursor <= end:
        stop = min(cursor + chunk, end)
        result = await ctx.gateway.get_metrics(
            target.cluster_workspace,
            target.namespace,
            application,
            start=cursor,
            end=stop,
            step_seconds=step_seconds,
            metrics=list(metrics),
        )
        for one in result.series:
            if one.pod is None:
                series[one.metric] += [(p.timestamp, p.value) for p in one.points]
        cursor = stop + timedelta(seconds=step_seconds)
    return series
