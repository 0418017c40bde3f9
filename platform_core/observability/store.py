"""The metric store: application metric series in ClickHouse (chDB embedded by default).

Raw samples are kept ``raw_ttl_days`` (14 by default) and 5-minute rollups ``rollup_ttl_days``
(400); both are idempotent under re-ingestion (see ``metric_schema`` for why and how). The store
shares its connection machinery, and with chDB its engine, with the execution history
(``platform_core.clickhouse``).

Reads choose the table by resolution: a step of 5 minutes or more reads the rollup (cheaper, and
the only thing left for old ranges); a finer step reads raw samples, and where raw samples have
already expired at the start of the range the rollup fills in that older part (coarser points,
marked by their 5-minute spacing). Every method filters on the application's organization first;
failures of the store raise ``ClickHouseUnavailableError``.
"""

from __future__ import annotations

import logging
import math
import uuid
from collections import defaultdict
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any, Literal, TypeVar

from clickhouse_connect.driver.client import Client

from platform_core.clickhouse import (
    ClickHouseTarget,
    ClickHouseUnavailableError,
    ConnectionUser,
    describe,
    parse_clickhouse_url,
)
from platform_core.observability import metric_schema as schema

logger = logging.getLogger("platform_core.observability")
T = TypeVar("T")
Aggregate = Literal["avg", "min", "max"]
Point = tuple[datetime, float]
Series = dict[str, list[Point]]


@dataclass(frozen=True, slots=True)
class AppKey:
    """One application of one tenant: the identity of its metric series."""

    organization_id: uuid.UUID
    workspace_id: uuid.UUID
    project: str
    application: str

    def __str__(self) -> str:
        return f"{self.workspace_id}/{self.project}/{self.application}"


@dataclass(frozen=True, slots=True)
class MetricSample:
    app: AppKey
    metric: str
    ts: datetime
    value: float


@dataclass(frozen=True, slots=True)
class SeriesSummary:
    """Distribution of one metric over a range; ``source`` says which table answered."""

    count: int
    mean: float
    p50: float
    p95: float
    p99: float
    max: float
    source: Literal["raw", "rollup"]


def as_utc(moment: datetime) -> datetime:
    """An aware UTC datetime (naive values are taken as UTC)."""
    if moment.tzinfo is None:
        return moment.replace(tzinfo=UTC)
    return moment.astimezone(UTC)


class MetricStore(ConnectionUser):
    """Async access to the metric tables: build with :meth:`from_url`, end with :meth:`close`."""

    label = "metric store"
    log = logger

    def __init__(
        self,
        target: ClickHouseTarget,
        *,
        raw_ttl_days: int = schema.DEFAULT_RAW_TTL_DAYS,
        rollup_ttl_days: int = schema.DEFAULT_ROLLUP_TTL_DAYS,
        connect_timeout: float = 5.0,
    ) -> None:
        statements = schema.schema_statements(target.database, raw_ttl_days, rollup_ttl_days)
        super().__init__(target, tuple(statements), connect_timeout)
        self.raw_ttl_days = raw_ttl_days
        self.rollup_ttl_days = rollup_ttl_days

    @classmethod
    def from_url(
        cls,
        url: str,
        *,
        database: str = "aiops",
        raw_ttl_days: int = schema.DEFAULT_RAW_TTL_DAYS,
        rollup_ttl_days: int = schema.DEFAULT_ROLLUP_TTL_DAYS,
        connect_timeout: float = 5.0,
    ) -> MetricStore:
        """A store on ``chdb:///abs/path`` or ``http(s)://user:pass@host:port/db``; no I/O yet."""
        return cls(
            parse_clickhouse_url(url, database),
            raw_ttl_days=raw_ttl_days,
            rollup_ttl_days=rollup_ttl_days,
            connect_timeout=connect_timeout,
        )

    def __repr__(self) -> str:
        return f"MetricStore({self.target.display!r})"

    async def close(self) -> None:
        await self._release()

    async def _run(self, work: Callable[[Client], T]) -> T:
        """As the base, and any failure of the work is the store being unavailable."""
        try:
            return await super()._run(work)
        except ClickHouseUnavailableError:
            raise
        except Exception as exc:
            raise ClickHouseUnavailableError(describe(exc)) from exc

    # -- writes -------------------------------------------------------------------------------

    async def write(self, samples: Iterable[MetricSample]) -> int:
        """Insert samples (non-finite values are skipped) and recompute the rollup buckets they
        touch; returns the number of samples written. Writing a sample again replaces it.

        One insert for the whole batch, and one rollup recompute per distinct time span (a batch
        of applications ingested to the same time shares one).
        """
        columns: list[list[Any]] = [[] for _ in schema.POINT_COLUMNS]
        spans: dict[AppKey, tuple[datetime, datetime, set[str]]] = {}
        for sample in samples:
            if not (math.isfinite(sample.value) and sample.metric):
                continue
            moment = as_utc(sample.ts)
            values = (*_key_values(sample.app), sample.metric, moment, float(sample.value))
            for column, value in zip(columns, values, strict=True):
                column.append(value)
            first, last, metrics = spans.get(sample.app, (moment, moment, set()))
            metrics.add(sample.metric)
            spans[sample.app] = (min(first, moment), max(last, moment), metrics)
        if not spans:
            return 0
        db = self.target.database
        recompute = schema.recompute_rollup_sql(db)
        batches = _recompute_batches(spans)

        def insert(client: Client) -> None:
            client.insert(
                schema.POINTS_TABLE,
                columns,
                column_names=list(schema.POINT_COLUMNS),
                database=db,
                column_oriented=True,
            )
            for parameters in batches:
                client.command(recompute, parameters=parameters)

        await self._run(insert)
        return len(columns[0])

    async def write_series(self, app: AppKey, series: Mapping[str, Sequence[Point]]) -> int:
        """Convenience: write ``{metric: [(ts, value), ...]}`` of one application."""
        return await self.write(
            MetricSample(app, metric, ts, value)
            for metric, points in series.items()
            for ts, value in points
        )

    # -- reads ----------------------------------------------------------------------------------

    async def read(
        self,
        app: AppKey,
        metrics: Sequence[str],
        start: datetime,
        end: datetime,
        step_seconds: int = 60,
        *,
        aggregate: Aggregate = "avg",
    ) -> Series:
        """``{metric: [(time, value), ...]}`` oldest first, one point per ``step_seconds``
        (the average of the samples in it, or their min/max); every requested metric is a key.

        A step of 300 s or more is answered from the 5-minute rollup (rounded up to a multiple
        of 300 s); a finer one from raw samples, with the rollup filling in where raw samples
        have expired.
        """
        if step_seconds < 1:
            raise ValueError("step_seconds must be at least 1")
        if aggregate not in ("avg", "min", "max"):
            raise ValueError(f"unknown aggregate {aggregate!r}")
        start, end = as_utc(start), as_utc(end)
        result: Series = {metric: [] for metric in metrics}
        if not metrics or end < start:
            return result
        if step_seconds >= schema.ROLLUP_SECONDS:
            step = math.ceil(step_seconds / schema.ROLLUP_SECONDS) * schema.ROLLUP_SECONDS
            result.update(await self._series(app, metrics, start, end, step, aggregate, True))
            return result
        result.update(await self._series(app, metrics, start, end, step_seconds, aggregate, False))
        await self._fill_expired(app, result, start, end, step_seconds, aggregate)
        return result

    async def _fill_expired(
        self,
        app: AppKey,
        result: Series,
        start: datetime,
        end: datetime,
        step: int,
        aggregate: Aggregate,
    ) -> None:
        """Prepend rollup points where raw samples start later than the range does."""
        gap = timedelta(seconds=max(step, schema.ROLLUP_SECONDS))
        firsts = {m: points[0][0] if points else None for m, points in result.items()}
        late = [m for m, first in firsts.items() if first is None or first - start > gap]
        if not late:
            return
        stop = max((f for f in firsts.values() if f is not None), default=end)
        older = await self._series(
            app, late, start, stop, schema.ROLLUP_SECONDS, aggregate, rollup=True
        )
        for metric, points in older.items():
            first = firsts[metric]
            keep = [p for p in points if first is None or p[0] + gap <= first]
            result[metric] = keep + result[metric]

    async def _series(
        self,
        app: AppKey,
        metrics: Sequence[str],
        start: datetime,
        end: datetime,
        step: int,
        aggregate: Aggregate,
        rollup: bool,
    ) -> Series:
        db = self.target.database
        sql = (
            schema.rollup_series_sql(db, aggregate)
            if rollup
            else schema.raw_series_sql(db, aggregate)
        )
        parameters = {
            **_app_parameters(app),
            "metrics": list(metrics),
            "start": start,
            "end": end,
            "step": step,
        }
        rows = await self._run(lambda c: c.query(sql, parameters=parameters).result_rows)
        out: Series = defaultdict(list)
        for metric, moment, value in rows:
            out[metric].append((as_utc(moment), float(value)))
        return dict(out)

    async def last_timestamp(self, app: AppKey) -> datetime | None:
        """Time of the newest raw sample of any metric of ``app`` (None when there is none)."""
        sql = schema.last_timestamp_sql(self.target.database)
        parameters = _app_parameters(app)
        rows = await self._run(lambda c: c.query(sql, parameters=parameters).result_rows)
        if not rows or not rows[0][1]:
            return None
        return as_utc(rows[0][0])

    async def summary(
        self, app: AppKey, metrics: Sequence[str], start: datetime, end: datetime
    ) -> dict[str, SeriesSummary]:
        """Distribution of each metric over [start, end]: from raw samples, or, for metrics
        whose raw samples have expired, from the 5-minute rollup (quantiles of averages)."""
        db = self.target.database
        parameters = {
            **_app_parameters(app),
            "metrics": list(metrics),
            "start": as_utc(start),
            "end": as_utc(end),
        }
        found = await self._summaries(schema.summary_sql(db), parameters, "raw")
        missing = [m for m in metrics if m not in found]
        if missing:
            parameters["metrics"] = missing
            found.update(await self._summaries(schema.rollup_summary_sql(db), parameters, "rollup"))
        return found

    async def _summaries(
        self, sql: str, parameters: dict[str, Any], source: Literal["raw", "rollup"]
    ) -> dict[str, SeriesSummary]:
        rows = await self._run(lambda c: c.query(sql, parameters=parameters).result_rows)
        return {
            metric: SeriesSummary(
                count=int(n),
                mean=float(mean),
                p50=float(q[0]),
                p95=float(q[1]),
                p99=float(q[2]),
                max=float(top),
                source=source,
            )
            for metric, n, mean, q, top in rows
            if n
        }


def _key_values(app: AppKey) -> tuple[uuid.UUID, uuid.UUID, str, str]:
    return (app.organization_id, app.workspace_id, app.project, app.application)


def _app_parameters(app: AppKey) -> dict[str, Any]:
    return {
        "org": app.organization_id,
        "ws": app.workspace_id,
        "project": app.project,
        "app": app.application,
    }


def _recompute_batches(
    spans: Mapping[AppKey, tuple[datetime, datetime, set[str]]],
) -> list[dict[str, Any]]:
    """Parameters of the rollup recomputes: applications grouped by the buckets they touched."""
    grouped: dict[tuple[datetime, datetime], tuple[list[tuple[Any, ...]], set[str]]] = {}
    for app, (first, last, metrics) in spans.items():
        span = (
            _bucket_start(first),
            _bucket_start(last) + timedelta(seconds=schema.ROLLUP_SECONDS),
        )
        keys, names = grouped.setdefault(span, ([], set()))
        keys.append(_key_values(app))
        names |= metrics
    return [
        {"keys": keys, "metrics": sorted(names), "start": start, "end": end}
        for (start, end), (keys, names) in grouped.items()
    ]


def _bucket_start(moment: datetime) -> datetime:
    seconds = math.floor(moment.timestamp() / schema.ROLLUP_SECONDS) * schema.ROLLUP_SECONDS
    return datetime.fromtimestamp(seconds, UTC)
