"""Request and response models of the chat API."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

from agents.events import AgentEvent
from agents.sessions import Session


class ChatSchema(BaseModel):
    model_config = ConfigDict(extra="forbid")


class SessionCreate(ChatSchema):
    organization: str = Field(max_length=63, description="Organization id or name")
    workspace: str | None = Field(default=None, max_length=63)
    project: str | None = Field(default=None, max_length=63)
    read_only: bool = Field(default=False, description="No changes at all in this conversation")
    title: str | None = Field(default=None, max_length=200)


class SessionUpdate(ChatSchema):
    title: str = Field(min_length=1, max_length=200)


class SessionRead(BaseModel):
    id: str
    title: str
    organization_id: uuid.UUID
    workspace: str | None
    project: str | None
    read_only: bool
    pending_approval: str | None
    created_at: datetime
    updated_at: datetime

    @classmethod
    def of(cls, session: Session) -> SessionRead:
        return cls(
            id=session.id,
            title=session.title,
            organization_id=uuid.UUID(session.organization_id),
            workspace=session.workspace,
            project=session.project,
            read_only=session.read_only,
            pending_approval=session.pending_approval,
            created_at=datetime.fromtimestamp(session.created_at, UTC),
            updated_at=datetime.fromtimestamp(session.updated_at, UTC),
        )


class HistoryMessage(BaseModel):
    role: Literal["user", "assistant", "tool", "system"]
    content: str
    tool_calls: list[dict[str, Any]] = Field(default_factory=list)
    tool_call_id: str | None = None


class SessionDetail(SessionRead):
    summary: str | None
    messages: list[HistoryMessage]


class MessageCreate(ChatSchema):
    content: str = Field(min_length=1, max_length=8000)


class TurnResult(BaseModel):
    session_id: str
    turn_id: str
    events: list[AgentEvent]


class ApprovalRead(BaseModel):
    id: str
    session_id: str
    tool: str
    risk: str
    arguments: dict[str, Any]
    description: str
    approver: Literal["requester", "admin"]
    requester_id: str
    expires_at: datetime


class ToolRead(BaseModel):
    name: str
    description: str
    risk: Literal["read", "write", "destructive"]
    parameters: dict[str, Any]
