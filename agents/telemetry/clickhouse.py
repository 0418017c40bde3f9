"""Execution history in ClickHouse: a row per run, per model call and per tool call.

Two deployments share this code. By default the service embeds chDB (``chdb:///abs/path`` under
its data dir) so history works with nothing else installed; in production it points at a
ClickHouse server (``http(s)://user:pass@host:8123/db``). How connections are opened, shared and
serialized is in ``platform_core.clickhouse``; the schema and rows are in ``history``.

Writes follow the runtime's contract: a turn's rows are buffered in memory and inserted when the
turn finishes (one insert per table, children before the run so a listed run is complete), and
any failure is logged on ``agents.telemetry`` and dropped. A turn that never finishes leaves no
rows. ``finish`` awaits the insert, bounded by the connection timeouts for a server. Reads are
for the REST API and the UI; they raise ``ClickHouseUnavailableError`` so the caller can answer 503,
and every one of them filters on the organization.
"""

from __future__ import annotations

import asyncio
import logging
import uuid
from datetime import date, datetime, time
from typing import Any, TypeVar

from clickhouse_connect.driver.client import Client

from agents.telemetry import history
from agents.telemetry import history_schema as schema
from agents.telemetry.base import ModelCall, ToolCall, TurnInfo, TurnOutcome, TurnTrace
from agents.telemetry.history import DailyUsage, RunDetail, RunRecord
from platform_core.clickhouse import (
    ClickHouseTarget,
    ClickHouseUnavailableError,
    ConnectionUser,
    describe,
    parse_clickhouse_url,
)

__all__ = [
    "ClickHouseTarget",
    "ClickHouseTelemetry",
    "ClickHouseUnavailableError",
    "parse_clickhouse_url",
]

logger = logging.getLogger("agents.telemetry")

T = TypeVar("T")


class ClickHouseTelemetry(ConnectionUser):
    """The ClickHouse execution-history sink and its tenant-scoped read helpers."""

    label = "ClickHouse history"
    log = logger

    def __init__(
        self,
        url: str,
        *,
        database: str = schema.DEFAULT_DATABASE,
        ttl_days: int = schema.DEFAULT_TTL_DAYS,
        max_text_chars: int = history.DEFAULT_MAX_TEXT_CHARS,
        connect_timeout: float = 5.0,
        flush_interval: float = 1.0,
    ) -> None:
        target = parse_clickhouse_url(url, database)
        statements = tuple(schema.schema_statements(target.database, ttl_days))
        super().__init__(target, statements, connect_timeout)
        self.ttl_days = ttl_days
        self.max_text_chars = max_text_chars
        self.flush_interval = flush_interval
        self._batch: list[tuple[list[Any], list[list[Any]], list[list[Any]], TurnInfo]] = []
        self._flusher: asyncio.Task[None] | None = None
        self._flush_lock = asyncio.Lock()

    def __repr__(self) -> str:
        return f"ClickHouseTelemetry({self.target.display!r})"

    # -- the Telemetry protocol ------------------------------------------------------------

    async def start_turn(self, turn: TurnInfo) -> TurnTrace:
        return _ClickHouseTrace(self, turn)

    def submit(
        self,
        run: list[Any],
        model_rows: list[list[Any]],
        tool_rows: list[list[Any]],
        turn: TurnInfo,
    ) -> None:
        """Queue a finished turn: the turn's answer never waits for history.

        Turns are written in batches (one insert per table every ``flush_interval`` seconds),
        which is what ClickHouse is built for and keeps the engine's work off the turn's path.
        Reads in this process flush first, and ``close`` drains everything.
        """
        self._batch.append((run, model_rows, tool_rows, turn))
        if self._flusher is None or self._flusher.done():
            self._flusher = asyncio.get_running_loop().create_task(self._flush_later())

    async def _flush_later(self) -> None:
        await asyncio.sleep(self.flush_interval)
        # Shielded: ``drain`` cancels this task, which may only end the wait. A flush under way
        # has taken the batch; cancelling it would lose those turns without a word.
        await asyncio.shield(self._flush())

    async def _flush(self) -> None:
        async with self._flush_lock:
            batch, self._batch = self._batch, []
            if not batch:
                return
            runs = [run for run, _, _, _ in batch]
            models = [row for _, rows, _, _ in batch for row in rows]
            tools = [row for _, _, rows, _ in batch for row in rows]
            try:
                await self.write_rows(runs, models, tools)
            except Exception as exc:
                for _, _, _, turn in batch:
                    logger.warning(
                        "dropping the history of run %s (organization %s) for %s: %s",
                        turn.run_id,
                        turn.organization_id,
                        self,
                        describe(exc),
                    )

    async def drain(self) -> None:
        """Write every queued turn now (or drop it with a warning if the store is down)."""
        flusher, self._flusher = self._flusher, None
        if flusher is not None and not flusher.done():
            flusher.cancel()
        await self._flush()  # waits (on the lock) for a flush already under way

    async def close(self) -> None:
        await self.drain()
        await self._release()

    async def write_turn(
        self,
        run: list[Any],
        model_rows: list[list[Any]],
        tool_rows: list[list[Any]],
    ) -> None:
        """Insert one finished turn now."""
        await self.write_rows([run], model_rows, tool_rows)

    async def write_rows(
        self,
        runs: list[list[Any]],
        model_rows: list[list[Any]],
        tool_rows: list[list[Any]],
    ) -> None:
        """Insert runs and their calls: at most three inserts, in one pass on the worker thread."""
        db = self.target.database

        def insert(client: Client) -> None:
            if model_rows:
                client.insert(
                    schema.MODEL_CALLS_TABLE,
                    model_rows,
                    column_names=list(schema.MODEL_CALL_COLUMNS),
                    database=db,
                )
            if tool_rows:
                client.insert(
                    schema.TOOL_CALLS_TABLE,
                    tool_rows,
                    column_names=list(schema.TOOL_CALL_COLUMNS),
                    database=db,
                )
            client.insert(
                schema.RUNS_TABLE, runs, column_names=list(schema.RUN_COLUMNS), database=db
            )

        await self._run(insert)

    # -- reads: every one filters on the organization --------------------------------------

    async def _select(self, sql: str, parameters: dict[str, Any]) -> list[dict[str, Any]]:
        try:
            return await self._run(
                lambda c: list(c.query(sql, parameters=parameters).named_results())
            )
        except ClickHouseUnavailableError:
            raise
        except Exception as exc:
            raise ClickHouseUnavailableError(describe(exc)) from exc

    async def recent_runs(
        self, organization_id: uuid.UUID, limit: int = 50, session_id: str | None = None
    ) -> list[RunRecord]:
        """The organization's latest runs, newest first, optionally for one session."""
        await self.drain()
        parameters: dict[str, Any] = {"org": organization_id, "limit": max(1, min(limit, 1000))}
        if session_id is not None:
            parameters["session"] = session_id
        sql = schema.recent_runs_sql(self.target.database, by_session=session_id is not None)
        return [history.run_record(row) for row in await self._select(sql, parameters)]

    async def run_detail(self, organization_id: uuid.UUID, run_id: uuid.UUID) -> RunDetail | None:
        """One run with its model and tool calls in reported order; None if not this org's."""
        await self.drain()
        db = self.target.database
        parameters = {"org": organization_id, "run": run_id}
        runs = await self._select(schema.run_sql(db, schema.RUNS_TABLE), parameters)
        if not runs:
            return None
        models = await self._select(schema.run_sql(db, schema.MODEL_CALLS_TABLE), parameters)
        tools = await self._select(schema.run_sql(db, schema.TOOL_CALLS_TABLE), parameters)
        return RunDetail(
            run=history.run_record(runs[0]),
            model_calls=[history.model_call_record(row) for row in models],
            tool_calls=[history.tool_call_record(row) for row in tools],
        )

    async def usage_by_day(
        self, organization_id: uuid.UUID, since: datetime | date
    ) -> list[DailyUsage]:
        """Per UTC day from ``since`` on: runs, errors, tokens and call counts, oldest first.

        A ``date`` means from the start of that UTC day.
        """
        await self.drain()
        start = since if isinstance(since, datetime) else datetime.combine(since, time.min)
        parameters = {"org": organization_id, "since": history.as_utc(start).replace(tzinfo=None)}
        rows = await self._select(schema.usage_sql(self.target.database), parameters)
        return [history.daily_usage(row) for row in rows]


class _ClickHouseTrace:
    """Buffers one turn's rows; writes them when the turn finishes."""

    def __init__(self, sink: ClickHouseTelemetry, turn: TurnInfo) -> None:
        self._sink = sink
        self._turn = turn
        self._seq = 0
        self._model_rows: list[list[Any]] = []
        self._tool_rows: list[list[Any]] = []
        self._finished = False

    def _next_seq(self) -> int:
        self._seq += 1
        return self._seq

    async def model_call(self, call: ModelCall) -> None:
        try:
            limit = self._sink.max_text_chars
            self._model_rows.append(
                history.model_call_row(self._turn, self._next_seq(), call, limit)
            )
        except Exception as exc:
            logger.warning("dropping a model call of run %s: %s", self._turn.run_id, describe(exc))

    async def tool_call(self, call: ToolCall) -> None:
        try:
            limit = self._sink.max_text_chars
            self._tool_rows.append(history.tool_call_row(self._turn, self._next_seq(), call, limit))
        except Exception as exc:
            logger.warning("dropping a tool call of run %s: %s", self._turn.run_id, describe(exc))

    async def finish(self, outcome: TurnOutcome) -> None:
        if self._finished:
            logger.warning(
                "run %s finished twice; the second outcome is ignored", self._turn.run_id
            )
            return
        self._finished = True
        model_rows, self._model_rows = self._model_rows, []
        tool_rows, self._tool_rows = self._tool_rows, []
        try:
            run = history.run_row(
                self._turn, outcome, len(model_rows), len(tool_rows), self._sink.max_text_chars
            )
            self._sink.submit(run, model_rows, tool_rows, self._turn)
        except Exception as exc:
            logger.warning(
                "dropping the history of run %s (organization %s) for %s: %s",
                self._turn.run_id,
                self._turn.organization_id,
                self._sink,
                describe(exc),
            )
