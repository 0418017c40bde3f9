"""A realistic agent turn for telemetry tests: two model calls and three tool calls.

The calls interleave the way the runtime reports them (model, tool, tool, model, tool), times
are distinct and exact to the microsecond, and the second model call and one tool call fail, so
every sink's error paths are covered by the same turn.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from agents.telemetry.base import (
    ModelCall,
    Telemetry,
    ToolCall,
    TurnInfo,
    TurnOutcome,
    TurnStatus,
)


@dataclass(frozen=True)
class SampleTurn:
    info: TurnInfo
    calls: list[ModelCall | ToolCall]
    outcome: TurnOutcome

    @property
    def model_calls(self) -> list[ModelCall]:
        return [call for call in self.calls if isinstance(call, ModelCall)]

    @property
    def tool_calls(self) -> list[ToolCall]:
        return [call for call in self.calls if isinstance(call, ToolCall)]


def sample_turn(
    organization_id: uuid.UUID | None = None,
    *,
    session_id: str = "session-1",
    started_at: datetime | None = None,
    workspace: str | None = "ws-prod",
    status: TurnStatus = "completed",
) -> SampleTurn:
    org = organization_id or uuid.uuid4()
    # Recent: history rows older than the 90-day TTL are dropped by ClickHouse on insert.
    start = started_at or datetime.now(UTC).replace(microsecond=589793) - timedelta(minutes=5)

    def at(ms: int) -> datetime:
        return start + timedelta(milliseconds=ms, microseconds=ms % 7)

    info = TurnInfo(
        run_id=uuid.uuid4(),
        session_id=session_id,
        organization_id=org,
        user_id="user-42",
        workspace=workspace,
        user_message="Why is the payments pod restarting?",
        started_at=start,
        provider="ollama",
        model="qwen3:8b",
        tags=("chat", "ops"),
    )
    asked = [{"role": "user", "content": info.user_message}]
    calls: list[ModelCall | ToolCall] = [
        ModelCall(
            call_id=uuid.uuid4(),
            provider="ollama",
            model="qwen3:8b",
            started_at=at(10),
            ended_at=at(830),
            input_tokens=412,
            output_tokens=37,
            input_messages=asked,
            output_text="",
            tool_calls=[
                {"id": "call-1", "name": "k8s.get_pods", "args": {"namespace": "payments"}},
                {"id": "call-2", "name": "k8s.get_events", "args": {"namespace": "payments"}},
            ],
        ),
        ToolCall(
            call_id="call-1",
            tool="k8s.get_pods",
            risk="read",
            arguments={"namespace": "payments", "labels": {"app": "api"}},
            status="ok",
            started_at=at(840),
            ended_at=at(1013),
            output="api-7d9 CrashLoopBackOff restarts=12",
        ),
        ToolCall(
            call_id="call-2",
            tool="k8s.get_events",
            risk="read",
            arguments={"namespace": "payments"},
            status="error",
            started_at=at(1020),
            ended_at=at(1529),
            output="",
            error="timeout talking to the cluster",
        ),
        ModelCall(
            call_id=uuid.uuid4(),
            provider="openai",
            model="gpt-4o-mini",
            started_at=at(1540),
            ended_at=at(2977),
            input_tokens=655,
            output_tokens=88,
            input_messages=[*asked, {"role": "tool", "content": "api-7d9 CrashLoopBackOff"}],
            output_text="Let me check the logs.",
            tool_calls=[{"id": "call-3", "name": "k8s.logs", "args": {"pod": "api-7d9"}}],
            error="stream cut after partial output",
            fallback_from="ollama/qwen3:8b",
        ),
        ToolCall(
            call_id="call-3",
            tool="k8s.logs",
            risk="read",
            arguments={"pod": "api-7d9", "tail": 50},
            status="ok",
            started_at=at(2990),
            ended_at=at(3400),
            output="panic: DATABASE_URL is not set",
        ),
    ]
    outcome = TurnOutcome(
        status=status,
        ended_at=at(4100),
        final_answer="The pod crashes because DATABASE_URL is missing from its secret.",
        steps=3,
        input_tokens=1067,
        output_tokens=125,
        error="model said no" if status == "error" else None,
        extra={"budget": {"steps": 8}},
    )
    return SampleTurn(info=info, calls=calls, outcome=outcome)


async def play(telemetry: Telemetry, turn: SampleTurn) -> None:
    """Report ``turn`` to ``telemetry`` the way the runtime does."""
    trace = await telemetry.start_turn(turn.info)
    for call in turn.calls:
        if isinstance(call, ModelCall):
            await trace.model_call(call)
        else:
            await trace.tool_call(call)
    await trace.finish(turn.outcome)
