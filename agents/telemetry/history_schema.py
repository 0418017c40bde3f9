"""The execution-history tables in ClickHouse: DDL, column order, and the read queries.

Three tables, one row per run, per model call and per tool call. Every row carries
``organization_id``, first in its sort key: tenant isolation is enforced by every read filtering
on it, and the sort key makes that filter the cheap one. Event times are ``DateTime64(6, 'UTC')``
(exact round trip of Python datetimes); rows expire 90 days after the event by TTL, and a row
already past it when inserted is discarded at once (a skewed clock loses history); partitions
are monthly so expiry drops whole parts. ``seq`` numbers a turn's model and tool calls together,
in the order the runtime reported them.
"""

from __future__ import annotations

import re

from platform_core.clickhouse import check_identifier

RUNS_TABLE = "agent_runs"
MODEL_CALLS_TABLE = "agent_model_calls"
TOOL_CALLS_TABLE = "agent_tool_calls"

DEFAULT_DATABASE = "aiops"
DEFAULT_TTL_DAYS = 90

_IDENTIFIER = re.compile(r"^[A-Za-z_][A-Za-z0-9_]{0,63}$")

# Columns every row shares: who, where, which run. Order matters: it is the insert order.
_CONTEXT_DDL = """
    organization_id UUID,
    run_id UUID,
    session_id String,
    user_id String,
    workspace Nullable(String),"""

_RUNS_DDL = """
CREATE TABLE IF NOT EXISTS {db}.agent_runs
({context}
    provider LowCardinality(String),
    model LowCardinality(String),
    tags Array(String),
    user_message String,
    started_at DateTime64(6, 'UTC'),
    ended_at DateTime64(6, 'UTC'),
    latency_ms UInt64,
    status LowCardinality(String),
    steps UInt32,
    input_tokens UInt64,
    output_tokens UInt64,
    model_calls UInt32,
    tool_calls UInt32,
    final_answer String,
    error Nullable(String),
    extra String,
    INDEX run_id_idx run_id TYPE bloom_filter GRANULARITY 4
)
ENGINE = MergeTree
PARTITION BY toYYYYMM(started_at)
ORDER BY (organization_id, started_at, run_id)
TTL toDateTime(started_at) + INTERVAL {ttl_days} DAY
"""

_MODEL_CALLS_DDL = """
CREATE TABLE IF NOT EXISTS {db}.agent_model_calls
({context}
    seq UInt32,
    call_id UUID,
    provider LowCardinality(String),
    model LowCardinality(String),
    fallback_from Nullable(String),
    started_at DateTime64(6, 'UTC'),
    ended_at DateTime64(6, 'UTC'),
    latency_ms UInt64,
    input_tokens UInt64,
    output_tokens UInt64,
    message_count UInt32,
    output_text String,
    tool_calls String,
    status LowCardinality(String),
    error Nullable(String),
    INDEX run_id_idx run_id TYPE bloom_filter GRANULARITY 4
)
ENGINE = MergeTree
PARTITION BY toYYYYMM(started_at)
ORDER BY (organization_id, started_at, run_id, seq)
TTL toDateTime(started_at) + INTERVAL {ttl_days} DAY
"""

_TOOL_CALLS_DDL = """
CREATE TABLE IF NOT EXISTS {db}.agent_tool_calls
({context}
    seq UInt32,
    call_id String,
    tool LowCardinality(String),
    risk LowCardinality(String),
    arguments String,
    status LowCardinality(String),
    started_at DateTime64(6, 'UTC'),
    ended_at DateTime64(6, 'UTC'),
    latency_ms UInt64,
    output String,
    error Nullable(String),
    INDEX run_id_idx run_id TYPE bloom_filter GRANULARITY 4
)
ENGINE = MergeTree
PARTITION BY toYYYYMM(started_at)
ORDER BY (organization_id, started_at, run_id, seq)
TTL toDateTime(started_at) + INTERVAL {ttl_days} DAY
"""

CONTEXT_COLUMNS = ("organization_id", "run_id", "session_id", "user_id", "workspace")
RUN_COLUMNS = (
    *CONTEXT_COLUMNS,
    *("provider", "model", "tags", "user_message", "started_at", "ended_at", "latency_ms"),
    *("status", "steps", "input_tokens", "output_tokens", "model_calls", "tool_calls"),
    *("final_answer", "error", "extra"),
)
MODEL_CALL_COLUMNS = (
    *CONTEXT_COLUMNS,
    *("seq", "call_id", "provider", "model", "fallback_from", "started_at", "ended_at"),
    *("latency_ms", "input_tokens", "output_tokens", "message_count", "output_text"),
    *("tool_calls", "status", "error"),
)
TOOL_CALL_COLUMNS = (
    *CONTEXT_COLUMNS,
    *("seq", "call_id", "tool", "risk", "arguments", "status", "started_at", "ended_at"),
    *("latency_ms", "output", "error"),
)


def schema_statements(database: str, ttl_days: int = DEFAULT_TTL_DAYS) -> list[str]:
    """The idempotent DDL for one database; the TTL only applies to tables created by it."""
    db = check_identifier(database)
    values = {"db": db, "context": _CONTEXT_DDL, "ttl_days": int(ttl_days)}
    return [
        f"CREATE DATABASE IF NOT EXISTS {db}",
        _RUNS_DDL.format(**values),
        _MODEL_CALLS_DDL.format(**values),
        _TOOL_CALLS_DDL.format(**values),
    ]


# Reads. Identifiers are validated (``check_identifier``) or constants of this module; every
# value is a bound server-side parameter, so the f-strings below never carry user input.


def _select(database: str, table: str, columns: tuple[str, ...], tail: str) -> str:
    db = check_identifier(database)
    return f"SELECT {', '.join(columns)} FROM {db}.{table} {tail}"  # noqa: S608


def recent_runs_sql(database: str, *, by_session: bool) -> str:
    where = "WHERE organization_id = {org:UUID}"
    if by_session:
        where += " AND session_id = {session:String}"
    tail = f"{where} ORDER BY started_at DESC, run_id LIMIT {{limit:UInt32}}"
    return _select(database, RUNS_TABLE, RUN_COLUMNS, tail)


def run_sql(database: str, table: str) -> str:
    """One run's row (runs table) or its calls in reported order (call tables)."""
    columns = {
        RUNS_TABLE: RUN_COLUMNS,
        MODEL_CALLS_TABLE: MODEL_CALL_COLUMNS,
        TOOL_CALLS_TABLE: TOOL_CALL_COLUMNS,
    }[table]
    order = "ORDER BY started_at LIMIT 1" if table == RUNS_TABLE else "ORDER BY seq"
    tail = f"WHERE organization_id = {{org:UUID}} AND run_id = {{run:UUID}} {order}"
    return _select(database, table, columns, tail)


_USAGE_COLUMNS = (
    "toDate(started_at) AS day",
    "count() AS runs",
    "countIf(status = 'error') AS errors",
    "sum(input_tokens) AS input_tokens",
    "sum(output_tokens) AS output_tokens",
    "sum(model_calls) AS model_calls",
    "sum(tool_calls) AS tool_calls",
)


def usage_sql(database: str) -> str:
    tail = (
        "WHERE organization_id = {org:UUID} AND started_at >= {since:DateTime64(6, 'UTC')} "
        "GROUP BY day ORDER BY day"
    )
    return _select(database, RUNS_TABLE, _USAGE_COLUMNS, tail)
