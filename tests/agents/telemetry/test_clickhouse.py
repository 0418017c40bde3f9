"""ClickHouse execution history, against a real embedded chDB engine in a temp directory.

One engine per process is a chDB rule, so the module shares one store; each test uses
organizations of its own, which is also what tenant isolation has to hold up against.
"""

from __future__ import annotations

import asyncio
import logging
import socket
import uuid
from collections.abc import AsyncIterator
from dataclasses import replace
from datetime import UTC, datetime, time, timedelta, timezone
from pathlib import Path
from typing import Any

import pytest

from agents.telemetry.base import ModelCall, ToolCall
from agents.telemetry.clickhouse import (
    ClickHouseTelemetry,
    ClickHouseUnavailableError,
    parse_clickhouse_url,
)
from agents.telemetry.history import ModelCallRecord, RunRecord, ToolCallRecord
from agents.telemetry.history_schema import schema_statements
from tests.support.agent_turns import play, sample_turn
from tests.support.server import free_port

_PLUS_NINE = timezone(timedelta(hours=9))


def _ms(start: datetime, end: datetime) -> int:
    return round((end - start).total_seconds() * 1000)


@pytest.fixture(scope="module")
def store_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("history") / "clickhouse"


@pytest.fixture(scope="module")
async def sink(store_dir: Path) -> AsyncIterator[ClickHouseTelemetry]:
    telemetry = ClickHouseTelemetry(f"chdb://{store_dir}")
    yield telemetry
    await telemetry.close()


# First in the module on purpose: no engine is open yet, so the failure is the bad path itself.
async def test_an_unusable_store_is_logged_and_never_raises(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    blocker = tmp_path / "a-file"
    blocker.write_text("not a directory")
    broken = ClickHouseTelemetry(f"chdb://{blocker}/history")
    caplog.set_level(logging.WARNING, logger="agents.telemetry")

    await play(broken, sample_turn())

    assert await broken.ping() is False
    with pytest.raises(ClickHouseUnavailableError):
        await broken.recent_runs(uuid.uuid4())
    await broken.close()
    dropped = [r for r in caplog.records if "dropping the history of run" in r.getMessage()]
    assert len(dropped) == 1
    assert dropped[0].name == "agents.telemetry"
    assert "chdb engine" in dropped[0].getMessage()
    assert "Stack trace" not in dropped[0].getMessage()


async def test_a_full_turn_is_written_and_read_back_exactly(sink: ClickHouseTelemetry) -> None:
    turn = sample_turn()
    info, outcome = turn.info, turn.outcome
    await play(sink, turn)

    detail = await sink.run_detail(info.organization_id, info.run_id)

    assert detail is not None
    assert detail.run == RunRecord(
        organization_id=info.organization_id,
        run_id=info.run_id,
        session_id=info.session_id,
        user_id=info.user_id,
        workspace=info.workspace,
        provider=info.provider,
        model=info.model,
        tags=info.tags,
        user_message=info.user_message,
        started_at=info.started_at,
        ended_at=outcome.ended_at,
        latency_ms=_ms(info.started_at, outcome.ended_at),
        status=outcome.status,
        steps=outcome.steps,
        input_tokens=outcome.input_tokens,
        output_tokens=outcome.output_tokens,
        model_calls=2,
        tool_calls=3,
        final_answer=outcome.final_answer,
        error=None,
        extra=outcome.extra,
    )
    seq = {id(call): index for index, call in enumerate(turn.calls, start=1)}
    assert detail.model_calls == [_model_record(seq[id(call)], call) for call in turn.model_calls]
    assert detail.tool_calls == [_tool_record(seq[id(call)], call) for call in turn.tool_calls]
    assert [r.seq for r in detail.model_calls] == [1, 4]
    assert [r.seq for r in detail.tool_calls] == [2, 3, 5]


def _model_record(seq: int, call: ModelCall) -> ModelCallRecord:
    return ModelCallRecord(
        seq=seq,
        call_id=call.call_id,
        provider=call.provider,
        model=call.model,
        fallback_from=call.fallback_from,
        started_at=call.started_at,
        ended_at=call.ended_at,
        latency_ms=_ms(call.started_at, call.ended_at),
        input_tokens=call.input_tokens,
        output_tokens=call.output_tokens,
        message_count=len(call.input_messages),
        output_text=call.output_text,
        tool_calls=call.tool_calls,
        status="error" if call.error else "ok",
        error=call.error,
    )


def _tool_record(seq: int, call: ToolCall) -> ToolCallRecord:
    return ToolCallRecord(
        seq=seq,
        call_id=call.call_id,
        tool=call.tool,
        risk=call.risk,
        arguments=call.arguments,
        status=call.status,
        started_at=call.started_at,
        ended_at=call.ended_at,
        latency_ms=_ms(call.started_at, call.ended_at),
        output=call.output,
        error=call.error,
    )


async def test_reads_never_return_another_organizations_rows(sink: ClickHouseTelemetry) -> None:
    ours, theirs = uuid.uuid4(), uuid.uuid4()
    mine = sample_turn(ours, session_id="shared-session")
    other = sample_turn(theirs, session_id="shared-session")
    await play(sink, mine)
    await play(sink, other)

    assert [r.run_id for r in await sink.recent_runs(ours)] == [mine.info.run_id]
    assert [r.run_id for r in await sink.recent_runs(theirs)] == [other.info.run_id]
    shared = await sink.recent_runs(ours, session_id="shared-session")
    assert [r.run_id for r in shared] == [mine.info.run_id]
    assert await sink.run_detail(ours, other.info.run_id) is None
    assert await sink.run_detail(theirs, mine.info.run_id) is None
    since = mine.info.started_at - timedelta(days=1)
    assert [u.runs for u in await sink.usage_by_day(ours, since)] == [1]
    assert await sink.recent_runs(uuid.uuid4()) == []
    assert await sink.usage_by_day(uuid.uuid4(), since) == []


async def test_recent_runs_are_newest_first_and_filter_by_session(
    sink: ClickHouseTelemetry,
) -> None:
    org = uuid.uuid4()
    base = datetime.now(UTC) - timedelta(hours=1)
    turns = [
        sample_turn(org, session_id=session, started_at=base + timedelta(minutes=minutes))
        for session, minutes in (("a", 0), ("b", 5), ("a", 10))
    ]
    for turn in turns:
        await play(sink, turn)

    newest_first = [t.info.run_id for t in reversed(turns)]
    assert [r.run_id for r in await sink.recent_runs(org)] == newest_first
    assert [r.run_id for r in await sink.recent_runs(org, limit=2)] == newest_first[:2]
    session_a = await sink.recent_runs(org, session_id="a")
    assert [r.run_id for r in session_a] == [turns[2].info.run_id, turns[0].info.run_id]


async def test_usage_by_day_sums_each_utc_day_from_since(sink: ClickHouseTelemetry) -> None:
    org = uuid.uuid4()
    today = datetime.now(UTC).date()
    day_one = datetime.combine(today - timedelta(days=3), time.max, tzinfo=UTC)
    day_two = datetime.combine(today - timedelta(days=2), time.min, tzinfo=UTC)
    await play(sink, sample_turn(org, started_at=day_one))
    await play(sink, sample_turn(org, started_at=day_two))
    await play(sink, sample_turn(org, started_at=day_two + timedelta(hours=3), status="error"))

    usage = await sink.usage_by_day(org, day_one.date())

    assert [(u.day, u.runs, u.errors) for u in usage] == [
        (day_one.date(), 1, 0),
        (day_two.date(), 2, 1),
    ]
    assert usage[1].input_tokens == 2 * 1067
    assert usage[1].output_tokens == 2 * 125
    assert (usage[1].model_calls, usage[1].tool_calls) == (4, 6)
    # ``since`` is inclusive to the microsecond, and a datetime in another zone is converted.
    assert [u.day for u in await sink.usage_by_day(org, day_one)] == [
        day_one.date(),
        day_two.date(),
    ]
    just_after = (day_one + timedelta(microseconds=1)).astimezone(_PLUS_NINE)
    assert [u.day for u in await sink.usage_by_day(org, just_after)] == [day_two.date()]


async def test_long_text_is_bounded_and_json_stays_valid(
    sink: ClickHouseTelemetry, store_dir: Path
) -> None:
    narrow = ClickHouseTelemetry(f"chdb://{store_dir}", max_text_chars=64)
    assert narrow._connection is sink._connection  # one engine per process: shared
    turn = sample_turn()
    trace = await narrow.start_turn(turn.info)
    tool = turn.tool_calls[0]
    await trace.tool_call(
        ToolCall(
            call_id=tool.call_id,
            tool=tool.tool,
            risk=tool.risk,
            arguments={"manifest": "x" * 500},
            status="ok",
            started_at=tool.started_at,
            ended_at=tool.ended_at,
            output="y" * 1000,
        )
    )
    await trace.finish(replace(turn.outcome, final_answer="z" * 65))
    await narrow.close()

    detail = await sink.run_detail(turn.info.organization_id, turn.info.run_id)
    assert detail is not None
    stored = detail.tool_calls[0]
    assert stored.output == "y" * 64 + "…[truncated 936 chars]"
    assert stored.arguments["truncated"] is True
    assert stored.arguments["preview"].startswith('{"manifest":"xxx')
    assert detail.run.final_answer == "z" * 64 + "…[truncated 1 chars]"
    assert await sink.ping() is True  # closing the narrow sink kept the shared engine open


async def test_concurrent_turns_are_all_written(sink: ClickHouseTelemetry) -> None:
    org = uuid.uuid4()
    turns = [sample_turn(org, session_id=f"s{i}") for i in range(20)]

    await asyncio.gather(*(play(sink, turn) for turn in turns))

    runs = await sink.recent_runs(org, limit=100)
    assert {r.run_id for r in runs} == {t.info.run_id for t in turns}
    assert {(r.model_calls, r.tool_calls) for r in runs} == {(2, 3)}


async def test_sinks_on_one_engine_can_use_separate_databases(
    sink: ClickHouseTelemetry, store_dir: Path
) -> None:
    other = ClickHouseTelemetry(f"chdb://{store_dir}", database="aiops_other")
    turn = sample_turn()
    await play(other, turn)

    assert [r.run_id for r in await other.recent_runs(turn.info.organization_id)] == [
        turn.info.run_id
    ]
    assert await sink.recent_runs(turn.info.organization_id) == []
    await other.close()


async def test_a_closed_sink_logs_and_drops(
    store_dir: Path, sink: ClickHouseTelemetry, caplog: pytest.LogCaptureFixture
) -> None:
    closing = ClickHouseTelemetry(f"chdb://{store_dir}")
    turn = sample_turn()
    trace = await closing.start_turn(turn.info)
    await closing.close()
    caplog.set_level(logging.WARNING, logger="agents.telemetry")

    for call in turn.calls:
        await (trace.model_call(call) if isinstance(call, ModelCall) else trace.tool_call(call))
    await trace.finish(turn.outcome)
    await trace.finish(turn.outcome)
    await closing.drain()  # history is written in the background

    messages = [r.getMessage() for r in caplog.records if r.name == "agents.telemetry"]
    assert any("dropping the history" in m and "closed" in m for m in messages)
    assert any("finished twice" in m for m in messages)
    assert await closing.ping() is False
    assert await sink.recent_runs(turn.info.organization_id) == []


async def test_closing_while_a_flush_is_writing_waits_for_it(
    store_dir: Path, sink: ClickHouseTelemetry, monkeypatch: pytest.MonkeyPatch
) -> None:
    slow = ClickHouseTelemetry(f"chdb://{store_dir}", flush_interval=0.01)
    writing = asyncio.Event()
    write_rows = slow.write_rows

    async def slow_write(*args: Any) -> None:
        writing.set()
        await asyncio.sleep(0.2)
        await write_rows(*args)

    monkeypatch.setattr(slow, "write_rows", slow_write)
    turn = sample_turn()
    await play(slow, turn)
    await writing.wait()  # the background flush has taken the turn and is writing it

    await slow.close()

    assert [r.run_id for r in await sink.recent_runs(turn.info.organization_id)] == [
        turn.info.run_id
    ]


def test_schema_has_the_organization_first_in_every_sort_key_and_a_ttl() -> None:
    statements = schema_statements("aiops")
    assert statements[0] == "CREATE DATABASE IF NOT EXISTS aiops"
    for ddl in statements[1:]:
        assert "CREATE TABLE IF NOT EXISTS aiops.agent_" in ddl
        assert "organization_id UUID," in ddl
        assert "ORDER BY (organization_id, started_at, run_id" in ddl
        assert "TTL toDateTime(started_at) + INTERVAL 90 DAY" in ddl
    with pytest.raises(ValueError, match="not a valid ClickHouse identifier"):
        schema_statements("aiops; DROP TABLE x")


async def test_a_server_url_is_parsed_without_any_io(monkeypatch: pytest.MonkeyPatch) -> None:
    def no_network(*args: Any, **kwargs: Any) -> None:
        raise AssertionError("constructing the sink must not connect")

    with monkeypatch.context() as patched:
        patched.setattr(socket.socket, "connect", no_network)
        telemetry = ClickHouseTelemetry("https://ops:s%40cret@ch.example.com/history")
    target = telemetry.target
    assert (target.interface, target.host, target.port) == ("https", "ch.example.com", 8443)
    assert (target.username, target.password, target.database) == ("ops", "s@cret", "history")
    assert "s@cret" not in repr(target) and "s@cret" not in repr(telemetry)
    await telemetry.close()

    plain = parse_clickhouse_url("http://ch.internal:9000")
    assert (plain.interface, plain.port, plain.database, plain.username) == (
        "http",
        9000,
        "aiops",
        None,
    )
    assert parse_clickhouse_url("http://ch:8123/", database="custom").database == "custom"
    assert parse_clickhouse_url("chdb:///var/lib/aiops/../aiops/ch").path == "/var/lib/aiops/ch"
    for bad in ("chdb://relative/path", "ftp://ch:21/x", "http:///nohost", "http://h/bad-name"):
        with pytest.raises(ValueError):
            parse_clickhouse_url(bad)


async def test_an_unreachable_server_is_not_ready_and_turns_are_dropped(
    caplog: pytest.LogCaptureFixture,
) -> None:
    telemetry = ClickHouseTelemetry(
        f"http://default:pw@127.0.0.1:{free_port()}/aiops", connect_timeout=1.0
    )
    caplog.set_level(logging.WARNING, logger="agents.telemetry")

    assert await telemetry.ping() is False
    await play(telemetry, sample_turn())
    with pytest.raises(ClickHouseUnavailableError):
        await telemetry.run_detail(uuid.uuid4(), uuid.uuid4())
    await telemetry.close()

    dropped = [r.getMessage() for r in caplog.records if "dropping the history" in r.getMessage()]
    assert len(dropped) == 1 and "http://127.0.0.1:" in dropped[0] and "pw" not in dropped[0]
