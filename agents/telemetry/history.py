"""Execution history: the rows a turn produces and the records read back.

Kept apart from the ClickHouse sink so that the shape of the data (what the REST API and the UI
will read) can be read and tested without a connection; the tables are in ``history_schema``.
Text that can grow without limit (model output, tool output, arguments, the final answer) is
bounded before it is stored, because history is for looking back at what happened, not an archive
of payloads; Langfuse keeps the full traces.
"""

from __future__ import annotations

import json
import uuid
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from typing import Any

from agents.telemetry.base import ModelCall, ToolCall, TurnInfo, TurnOutcome
from agents.telemetry.history_schema import (
    CONTEXT_COLUMNS,
    MODEL_CALL_COLUMNS,
    RUN_COLUMNS,
    TOOL_CALL_COLUMNS,
)

DEFAULT_MAX_TEXT_CHARS = 16_384
MAX_ERROR_CHARS = 4_096


def bound_text(text: str, limit: int) -> str:
    """Cut ``text`` to ``limit`` characters, saying how much was dropped."""
    if len(text) <= limit:
        return text
    return f"{text[:limit]}…[truncated {len(text) - limit} chars]"


def bound_json(value: Any, limit: int) -> str:
    """JSON for ``value``; over ``limit`` it becomes a JSON object holding a bounded preview.

    Cutting a JSON text in the middle would leave a column that no longer parses; wrapping the
    preview keeps every stored value valid JSON.
    """
    text = json.dumps(value, ensure_ascii=False, default=str, separators=(",", ":"))
    if len(text) <= limit:
        return text
    return json.dumps({"truncated": True, "chars": len(text), "preview": text[:limit]})


def as_utc(moment: datetime) -> datetime:
    """Aware UTC; a naive datetime is taken to be UTC already (what the runtime produces)."""
    if moment.tzinfo is None:
        return moment.replace(tzinfo=UTC)
    return moment.astimezone(UTC)


def latency_ms(started_at: datetime, ended_at: datetime) -> int:
    return max(0, round((as_utc(ended_at) - as_utc(started_at)).total_seconds() * 1000))


def _bound_error(error: str | None) -> str | None:
    return None if error is None else bound_text(error, MAX_ERROR_CHARS)


def context_values(turn: TurnInfo) -> list[Any]:
    return [turn.organization_id, turn.run_id, turn.session_id, turn.user_id, turn.workspace]


def model_call_row(turn: TurnInfo, seq: int, call: ModelCall, limit: int) -> list[Any]:
    return [
        *context_values(turn),
        *(seq, call.call_id, call.provider, call.model, call.fallback_from),
        *(
            as_utc(call.started_at),
            as_utc(call.ended_at),
            latency_ms(call.started_at, call.ended_at),
        ),
        *(max(0, call.input_tokens), max(0, call.output_tokens), len(call.input_messages)),
        *(bound_text(call.output_text, limit), bound_json(call.tool_calls, limit)),
        *("error" if call.error else "ok", _bound_error(call.error)),
    ]


def tool_call_row(turn: TurnInfo, seq: int, call: ToolCall, limit: int) -> list[Any]:
    return [
        *context_values(turn),
        *(seq, call.call_id, call.tool, call.risk, bound_json(call.arguments, limit), call.status),
        *(
            as_utc(call.started_at),
            as_utc(call.ended_at),
            latency_ms(call.started_at, call.ended_at),
        ),
        *(bound_text(call.output, limit), _bound_error(call.error)),
    ]


def run_row(
    turn: TurnInfo, outcome: TurnOutcome, model_calls: int, tool_calls: int, limit: int
) -> list[Any]:
    return [
        *context_values(turn),
        *(turn.provider, turn.model, list(turn.tags), bound_text(turn.user_message, limit)),
        *(as_utc(turn.started_at), as_utc(outcome.ended_at)),
        latency_ms(turn.started_at, outcome.ended_at),
        *(outcome.status, max(0, outcome.steps)),
        *(max(0, outcome.input_tokens), max(0, outcome.output_tokens), model_calls, tool_calls),
        *(bound_text(outcome.final_answer, limit), _bound_error(outcome.error)),
        bound_json(outcome.extra, limit),
    ]


@dataclass(frozen=True)
class RunRecord:
    """One turn as stored: who asked, what happened, what it cost."""

    organization_id: uuid.UUID
    run_id: uuid.UUID
    session_id: str
    user_id: str
    workspace: str | None
    provider: str
    model: str
    tags: tuple[str, ...]
    user_message: str
    started_at: datetime
    ended_at: datetime
    latency_ms: int
    status: str
    steps: int
    input_tokens: int
    output_tokens: int
    model_calls: int
    tool_calls: int
    final_answer: str
    error: str | None
    extra: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class ModelCallRecord:
    seq: int
    call_id: uuid.UUID
    provider: str
    model: str
    fallback_from: str | None
    started_at: datetime
    ended_at: datetime
    latency_ms: int
    input_tokens: int
    output_tokens: int
    message_count: int
    output_text: str
    tool_calls: Any
    status: str
    error: str | None


@dataclass(frozen=True)
class ToolCallRecord:
    seq: int
    call_id: str
    tool: str
    risk: str
    arguments: Any
    status: str
    started_at: datetime
    ended_at: datetime
    latency_ms: int
    output: str
    error: str | None


@dataclass(frozen=True)
class RunDetail:
    """A run with its model and tool calls, each in the order the runtime reported them.

    ``seq`` is shared by both lists, so merging them by ``seq`` gives the turn's timeline.
    """

    run: RunRecord
    model_calls: list[ModelCallRecord]
    tool_calls: list[ToolCallRecord]


@dataclass(frozen=True)
class DailyUsage:
    day: date
    runs: int
    errors: int
    input_tokens: int
    output_tokens: int
    model_calls: int
    tool_calls: int


def daily_usage(row: dict[str, Any]) -> DailyUsage:
    counters = ("runs", "errors", "input_tokens", "output_tokens", "model_calls", "tool_calls")
    return DailyUsage(day=row["day"], **{name: int(row[name]) for name in counters})


def _utc(value: Any) -> datetime:
    if not isinstance(value, datetime):
        raise TypeError(f"expected a datetime, got {type(value).__name__}")
    return as_utc(value)


def run_record(row: dict[str, Any]) -> RunRecord:
    values = {name: row[name] for name in RUN_COLUMNS}
    values["tags"] = tuple(values["tags"])
    values["started_at"] = _utc(values["started_at"])
    values["ended_at"] = _utc(values["ended_at"])
    values["extra"] = json.loads(values["extra"]) if values["extra"] else {}
    return RunRecord(**values)


def model_call_record(row: dict[str, Any]) -> ModelCallRecord:
    values = {name: row[name] for name in MODEL_CALL_COLUMNS if name not in CONTEXT_COLUMNS}
    values["started_at"] = _utc(values["started_at"])
    values["ended_at"] = _utc(values["ended_at"])
    values["tool_calls"] = json.loads(values["tool_calls"])
    return ModelCallRecord(**values)


def tool_call_record(row: dict[str, Any]) -> ToolCallRecord:
    values = {name: row[name] for name in TOOL_CALL_COLUMNS if name not in CONTEXT_COLUMNS}
    values["started_at"] = _utc(values["started_at"])
    values["ended_at"] = _utc(values["ended_at"])
    values["arguments"] = json.loads(values["arguments"])
    return ToolCallRecord(**values)
