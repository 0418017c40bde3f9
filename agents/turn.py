"""The state of one turn while it runs, and the small conversions the loop needs."""

from __future__ import annotations

import json
import time
import uuid
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from langchain_core.messages import (
    AIMessage,
    AIMessageChunk,
    BaseMessage,
    SystemMessage,
    ToolCall,
    ToolMessage,
    message_chunk_to_message,
)

from agents.budgets import Budgets
from agents.events import AgentEvent
from agents.framing import frame
from agents.models.router import ModelChoice
from agents.sessions import Session
from agents.telemetry.base import TurnTrace
from tools.base import Tool, ToolContext
from tools.results import ToolResult


def utcnow() -> datetime:
    return datetime.now(UTC)


@dataclass
class Turn:
    """One user request (or one approval decision) being answered."""

    session: Session
    ctx: ToolContext
    offered: list[Tool]
    model: ModelChoice
    trace: TurnTrace
    budgets: Budgets
    read_only: bool
    id: str = field(default_factory=lambda: uuid.uuid4().hex)
    started: float = field(default_factory=time.monotonic)
    steps: int = 0
    input_tokens: int = 0
    output_tokens: int = 0
    fallback: str | None = None
    retried_invalid_call: bool = False
    paused: bool = False
    seq: int = 0
    tool_calls: int = 0
    system: SystemMessage | None = None
    bound: dict[str, Any] = field(default_factory=dict)

    def stamp(self, event: AgentEvent) -> AgentEvent:
        self.seq += 1
        event.seq = self.seq
        event.turn_id = self.id
        return event

    def seconds_left(self) -> float:
        return self.budgets.max_seconds - (time.monotonic() - self.started)

    def over_budget(self) -> str | None:
        """Which budget is spent, in words, or None."""
        if self.steps >= self.budgets.max_steps:
            return f"the step budget ({self.budgets.max_steps} model calls)"
        if self.input_tokens + self.output_tokens >= self.budgets.max_tokens:
            return f"the token budget ({self.budgets.max_tokens:,} tokens)"
        if self.seconds_left() <= 0:
            return f"the time budget ({self.budgets.max_seconds:.0f} s)"
        return None


def merge_chunks(chunks: Sequence[BaseMessage]) -> AIMessage:
    """One AIMessage from what a model streamed (chunks, or a single whole message)."""
    if not chunks:
        return AIMessage(content="")
    if (
        len(chunks) == 1
        and isinstance(chunks[0], AIMessage)
        and not isinstance(chunks[0], AIMessageChunk)
    ):
        return chunks[0]
    total: AIMessageChunk | None = None
    for chunk in chunks:
        piece = (
            chunk
            if isinstance(chunk, AIMessageChunk)
            else AIMessageChunk(
                content=chunk.content,
                tool_call_chunks=[
                    {"name": c["name"], "args": _json(c["args"]), "id": c["id"], "index": i}
                    for i, c in enumerate(getattr(chunk, "tool_calls", []) or [])
                ],
                usage_metadata=getattr(chunk, "usage_metadata", None),
            )
        )
        total = piece if total is None else total + piece
    assert total is not None
    message = message_chunk_to_message(total)
    assert isinstance(message, AIMessage)
    return message


def _json(value: Any) -> str:
    return json.dumps(value)


def text_of(message: BaseMessage) -> str:
    content = message.content
    if isinstance(content, str):
        return content
    return "".join(part if isinstance(part, str) else str(part.get("text", "")) for part in content)


def tool_message(call_id: str, tool: str, result: ToolResult) -> ToolMessage:
    """The framed, untrusted tool output as the model will read it."""
    return ToolMessage(
        content=frame(tool, result.status, result.text()),
        tool_call_id=call_id,
        name=tool,
        status="error" if result.status == "error" else "success",
    )


def unanswered_calls(messages: list[BaseMessage]) -> list[ToolCall]:
    """Tool calls of the last AI message that have no tool message yet."""
    for index in range(len(messages) - 1, -1, -1):
        message = messages[index]
        if isinstance(message, AIMessage) and message.tool_calls:
            answered = {m.tool_call_id for m in messages[index + 1 :] if isinstance(m, ToolMessage)}
            return [call for call in message.tool_calls if call["id"] not in answered]
        if not isinstance(message, ToolMessage):
            return []
    return []
