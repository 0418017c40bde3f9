"""The one event contract every surface consumes (SSE, Slack, CLI, tests).

A turn is a stream of events in this order: ``session`` first; then any number of ``delta``
(text as it is written), ``tool_call`` and ``tool_result`` (a tool_result always follows its
tool_call, matched by ``call_id``); and finally exactly one of ``approval_required`` (the turn is
paused on a change that needs someone's approval), ``final`` (the answer) or ``error``.
``seq`` numbers the events of a turn from 1 so a client can resume after the last one it saw.
"""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any, Literal

from pydantic import BaseModel, Field


class _Event(BaseModel):
    seq: int = 0
    turn_id: str = ""


class SessionEvent(_Event):
    type: Literal["session"] = "session"
    session_id: str
    title: str
    organization: str
    workspace: str | None
    provider: str
    model: str
    cluster: str = Field(description="'simulated' when the platform twin answers, not a cluster")
    read_only: bool


class DeltaEvent(_Event):
    type: Literal["delta"] = "delta"
    text: str


class ToolCallEvent(_Event):
    type: Literal["tool_call"] = "tool_call"
    call_id: str
    tool: str
    arguments: dict[str, Any]
    risk: str


class ToolResultEvent(_Event):
    type: Literal["tool_result"] = "tool_result"
    call_id: str
    tool: str
    status: str
    summary: str
    note: str | None = None
    data: Any = None


class ApprovalRequiredEvent(_Event):
    type: Literal["approval_required"] = "approval_required"
    approval_id: str
    call_id: str
    tool: str
    arguments: dict[str, Any]
    risk: str
    description: str
    approver: Literal["requester", "admin"] = Field(
        description="'requester': the person who asked confirms; 'admin': a workspace or "
        "organization admin must approve"
    )
    expires_at: datetime


class FinalEvent(_Event):
    type: Literal["final"] = "final"
    text: str
    status: Literal["completed", "denied", "budget_exceeded"] = "completed"
    fallback: str | None = Field(
        default=None, description="Set when the configured model failed and another answered"
    )
    input_tokens: int = 0
    output_tokens: int = 0
    steps: int = 0


class ErrorEvent(_Event):
    type: Literal["error"] = "error"
    code: str
    message: str


AgentEvent = Annotated[
    SessionEvent
    | DeltaEvent
    | ToolCallEvent
    | ToolResultEvent
    | ApprovalRequiredEvent
    | FinalEvent
    | ErrorEvent,
    Field(discriminator="type"),
]
TERMINAL_TYPES = frozenset({"approval_required", "final", "error"})
