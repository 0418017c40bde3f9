"""The telemetry contract between the agent runtime and its sinks.

The runtime opens one ``TurnTrace`` per turn (a user message and everything the agent does to
answer it), reports every model call and tool call to it when they finish, and closes it with
the outcome. Sinks: Langfuse (a trace per turn, a generation per model call, a span per tool
call) and ClickHouse (a row per run, model call and tool call, the organization on each). Both
receive data that is already redacted; neither may raise into the runtime: a failing sink logs
and drops, it never breaks a turn.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Literal, Protocol

TurnStatus = Literal["completed", "approval_required", "budget_exceeded", "error", "denied"]
ToolStatus = Literal["ok", "error", "no_data", "approval_required", "denied"]


@dataclass(frozen=True)
class TurnInfo:
    """Who asked what, where."""

    run_id: uuid.UUID
    session_id: str
    organization_id: uuid.UUID
    user_id: str
    workspace: str | None
    user_message: str
    started_at: datetime
    provider: str
    model: str
    tags: tuple[str, ...] = ()


@dataclass(frozen=True)
class ModelCall:
    """One call to the chat model and what it cost."""

    call_id: uuid.UUID
    provider: str
    model: str
    started_at: datetime
    ended_at: datetime
    input_tokens: int
    output_tokens: int
    input_messages: list[dict[str, Any]]
    output_text: str
    tool_calls: list[dict[str, Any]]
    error: str | None = None
    fallback_from: str | None = None


@dataclass(frozen=True)
class ToolCall:
    """One tool call: arguments, outcome and a bounded rendering of its output."""

    call_id: str
    tool: str
    risk: str
    arguments: dict[str, Any]
    status: ToolStatus
    started_at: datetime
    ended_at: datetime
    output: str
    error: str | None = None


@dataclass(frozen=True)
class TurnOutcome:
    status: TurnStatus
    ended_at: datetime
    final_answer: str
    steps: int
    input_tokens: int
    output_tokens: int
    error: str | None = None
    extra: dict[str, Any] = field(default_factory=dict)


class TurnTrace(Protocol):
    async def model_call(self, call: ModelCall) -> None: ...

    async def tool_call(self, call: ToolCall) -> None: ...

    async def finish(self, outcome: TurnOutcome) -> None: ...


class Telemetry(Protocol):
    async def start_turn(self, turn: TurnInfo) -> TurnTrace: ...

    async def close(self) -> None: ...


class _NoopTrace:
    async def model_call(self, call: ModelCall) -> None:
        return None

    async def tool_call(self, call: ToolCall) -> None:
        return None

    async def finish(self, outcome: TurnOutcome) -> None:
        return None


class NoopTelemetry:
    """Nothing configured: every report is dropped."""

    async def start_turn(self, turn: TurnInfo) -> TurnTrace:
        return _NoopTrace()

    async def close(self) -> None:
        return None


class _CompositeTrace:
    def __init__(self, traces: list[TurnTrace]) -> None:
        self._traces = traces

    async def model_call(self, call: ModelCall) -> None:
        for trace in self._traces:
            await trace.model_call(call)

    async def tool_call(self, call: ToolCall) -> None:
        for trace in self._traces:
            await trace.tool_call(call)

    async def finish(self, outcome: TurnOutcome) -> None:
        for trace in self._traces:
            await trace.finish(outcome)


class CompositeTelemetry:
    """Reports to every sink in order."""

    def __init__(self, sinks: list[Telemetry]) -> None:
        self._sinks = sinks

    async def start_turn(self, turn: TurnInfo) -> TurnTrace:
        return _CompositeTrace([await sink.start_turn(turn) for sink in self._sinks])

    async def close(self) -> None:
        for sink in self._sinks:
            await sink.close()
