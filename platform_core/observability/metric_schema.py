"""The metric tables in ClickHouse: DDL, column order and the queries of the metric store.

Two tables, in the same database as the execution history (``aiops``):

``metric_points`` (raw samples)
    One row per (application, metric, timestamp). ``ReplacingMergeTree(ingested_at)`` keyed by
    the full series identity and the timestamp, read with ``FINAL``: writing the same minute twice
    (a retried ingestion, two replicas, an overlapping backfill) leaves one value, the latest.
``metric_rollup_5m`` (5-minute rollup)
    count, sum, min, max and last value per 5-minute bucket, ``ReplacingMergeTree(computed_at)``,
    read with ``FINAL``.

Why the rollup is not a materialized view: a view aggregates each *insert block*, so a minute
written twice would be counted twice in count and sum (and a corrected value could never be taken
back), and a bucket filled by two inserts needs its partial states merged, which rules out
replacing them. Instead every write recomputes the buckets it touched from the deduplicated raw
rows (``INSERT ... SELECT ... FROM metric_points FINAL``) and the new row replaces the old one.
That is exact and idempotent, also with concurrent writers: the recompute that starts last sees
every raw row written before it and carries the highest ``computed_at``.

Retention (TTL) counts from when a row was written (``ingested_at`` / ``computed_at``, wall
time), not from the sample's timestamp: the twin's clock is virtual and can lie months in the
past, where a TTL on ``ts`` would drop every sample at the first merge. With a real cluster the
two differ only by the ingestion lag. The configured retention is applied on every start with
``MODIFY TTL`` (metadata only: existing parts are not rewritten, merges apply it).

Every row carries ``organization_id`` first in its sort key, and every query below filters on
it first: tenant isolation is the filter, and the sort key makes it the cheap one.
"""

from __future__ import annotations

from platform_core.clickhouse import check_identifier

POINTS_TABLE = "metric_points"
ROLLUP_TABLE = "metric_rollup_5m"
ROLLUP_SECONDS = 300
DEFAULT_RAW_TTL_DAYS = 14
DEFAULT_ROLLUP_TTL_DAYS = 400

POINT_COLUMNS = (
    "organization_id",
    "workspace_id",
    "project",
    "application",
    "metric",
    "ts",
    "value",
)

_SERIES_DDL = """
    organization_id UUID,
    workspace_id UUID,
    project String,
    application String,
    metric LowCardinality(String),"""

_POINTS_DDL = """
CREATE TABLE IF NOT EXISTS {db}.metric_points
({series}
    ts DateTime64(3, 'UTC'),
    value Float64,
    ingested_at DateTime64(3, 'UTC') DEFAULT now64(3)
)
ENGINE = ReplacingMergeTree(ingested_at)
PARTITION BY toYYYYMM(ts)
ORDER BY (organization_id, workspace_id, project, application, metric, ts)
TTL toDateTime(ingested_at) + INTERVAL {raw_ttl} DAY
"""

_ROLLUP_DDL = """
CREATE TABLE IF NOT EXISTS {db}.metric_rollup_5m
({series}
    bucket DateTime('UTC'),
    samples UInt32,
    sum Float64,
    min Float64,
    max Float64,
    last Float64,
    computed_at DateTime64(3, 'UTC')
)
ENGINE = ReplacingMergeTree(computed_at)
PARTITION BY toYYYYMM(bucket)
ORDER BY (organization_id, workspace_id, project, application, metric, bucket)
TTL toDateTime(computed_at) + INTERVAL {rollup_ttl} DAY
"""

_MODIFY_TTL = (
    "ALTER TABLE {db}.{table} MODIFY TTL toDateTime({column}) + INTERVAL {days} DAY "
    "SETTINGS materialize_ttl_after_modify = 0"
)


def schema_statements(
    database: str,
    raw_ttl_days: int = DEFAULT_RAW_TTL_DAYS,
    rollup_ttl_days: int = DEFAULT_ROLLUP_TTL_DAYS,
) -> list[str]:
    """Idempotent DDL: create both tables, then bring their TTL to the configured retention."""
    db = check_identifier(database)
    raw, rollup = int(raw_ttl_days), int(rollup_ttl_days)
    if raw < 1 or rollup < 1:
        raise ValueError("retention must be at least one day")
    values = {"db": db, "series": _SERIES_DDL, "raw_ttl": raw, "rollup_ttl": rollup}
    return [
        f"CREATE DATABASE IF NOT EXISTS {db}",
        _POINTS_DDL.format(**values),
        _ROLLUP_DDL.format(**values),
        _MODIFY_TTL.format(db=db, table=POINTS_TABLE, column="ingested_at", days=raw),
        _MODIFY_TTL.format(db=db, table=ROLLUP_TABLE, column="computed_at", days=rollup),
    ]


# Queries. Identifiers are validated or constants of this module; every value is a bound
# server-side parameter ({name:Type}), so the f-strings below never carry user input.

_APP_FILTER = (
    "organization_id = {org:UUID} AND workspace_id = {ws:UUID} "
    "AND project = {project:String} AND application = {app:String}"
)
_METRICS_FILTER = "metric IN {metrics:Array(String)}"
_KEYS_FILTER = (
    "(organization_id, workspace_id, project, application) "
    "IN {keys:Array(Tuple(UUID, UUID, String, String))}"
)
_TS = "DateTime64(3, 'UTC')"

Aggregate = str  # "avg", "min" or "max"; checked by the store

_RAW_AGGREGATES = {"avg": "avg(value)", "min": "min(value)", "max": "max(value)"}
_ROLLUP_AGGREGATES = {"avg": "sum(sum) / sum(samples)", "min": "min(min)", "max": "max(max)"}


def raw_series_sql(database: str, aggregate: Aggregate) -> str:
    """Raw samples averaged (or min/max) per ``step`` seconds, per metric, oldest first."""
    db = check_identifier(database)
    value = _RAW_AGGREGATES[aggregate]
    return (
        f"SELECT metric, toStartOfInterval(ts, toIntervalSecond({{step:UInt32}})) AS t, "  # noqa: S608
        f"{value} AS v FROM {db}.{POINTS_TABLE} FINAL "
        f"WHERE {_APP_FILTER} AND {_METRICS_FILTER} "
        f"AND ts >= {{start:{_TS}}} AND ts <= {{end:{_TS}}} "
        "GROUP BY metric, t ORDER BY metric, t"
    )


def rollup_series_sql(database: str, aggregate: Aggregate) -> str:
    """5-minute buckets merged per ``step`` seconds (a multiple of 300), per metric."""
    db = check_identifier(database)
    value = _ROLLUP_AGGREGATES[aggregate]
    return (
        f"SELECT metric, toStartOfInterval(bucket, toIntervalSecond({{step:UInt32}})) AS t, "  # noqa: S608
        f"{value} AS v FROM {db}.{ROLLUP_TABLE} FINAL "
        f"WHERE {_APP_FILTER} AND {_METRICS_FILTER} "
        f"AND bucket >= toStartOfInterval({{start:{_TS}}}, toIntervalSecond({ROLLUP_SECONDS})) "
        f"AND bucket <= {{end:{_TS}}} "
        "GROUP BY metric, t ORDER BY metric, t"
    )


def last_timestamp_sql(database: str) -> str:
    db = check_identifier(database)
    return f"SELECT max(ts) AS last, count() AS n FROM {db}.{POINTS_TABLE} WHERE {_APP_FILTER}"  # noqa: S608


def summary_sql(database: str) -> str:
    """Per metric over raw samples: count, mean, p50/p95/p99 (exact) and max."""
    db = check_identifier(database)
    return (
        "SELECT metric, count() AS n, avg(value) AS mean, "  # noqa: S608
        "quantilesExact(0.5, 0.95, 0.99)(value) AS q, max(value) AS top "
        f"FROM {db}.{POINTS_TABLE} FINAL "
        f"WHERE {_APP_FILTER} AND {_METRICS_FILTER} "
        f"AND ts >= {{start:{_TS}}} AND ts <= {{end:{_TS}}} GROUP BY metric"
    )


def rollup_summary_sql(database: str) -> str:
    """The same summary from 5-minute averages (quantiles) and bucket maxima (max)."""
    db = check_identifier(database)
    return (
        "SELECT metric, sum(samples) AS n, sum(sum) / sum(samples) AS mean, "  # noqa: S608
        "quantilesExact(0.5, 0.95, 0.99)(sum / samples) AS q, max(max) AS top "
        f"FROM {db}.{ROLLUP_TABLE} FINAL "
        f"WHERE {_APP_FILTER} AND {_METRICS_FILTER} "
        f"AND bucket >= toStartOfInterval({{start:{_TS}}}, toIntervalSecond({ROLLUP_SECONDS})) "
        f"AND bucket <= {{end:{_TS}}} GROUP BY metric"
    )


def recompute_rollup_sql(database: str) -> str:
    """Rebuild the 5-minute buckets in [start, end) of the applications ``keys`` (tuples of
    organization, workspace, project, application) from deduplicated raw samples."""
    db = check_identifier(database)
    bucket = f"toStartOfInterval(ts, toIntervalSecond({ROLLUP_SECONDS}))"
    return (
        f"INSERT INTO {db}.{ROLLUP_TABLE} "  # noqa: S608
        "SELECT organization_id, workspace_id, project, application, metric, "
        f"{bucket} AS bucket, count(), sum(value), min(value), max(value), argMax(value, ts), "
        f"now64(3) FROM {db}.{POINTS_TABLE} FINAL "
        f"WHERE {_KEYS_FILTER} AND {_METRICS_FILTER} "
        f"AND ts >= {{start:{_TS}}} AND ts < {{end:{_TS}}} "
        "GROUP BY organization_id, workspace_id, project, application, metric, bucket"
    )
