"""``/api/v1/chat``: conversations with the agent, over JSON or Server-Sent Events.

A message answers with the turn's events (see ``agents.events``): as one JSON document, or, with
``Accept: text/event-stream``, as an event stream (``id`` = the event's ``seq``, ``event`` = its
type, ``data`` = the event as JSON). Approvals are decided here too, by someone allowed to.
"""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator
from typing import Annotated

from fastapi import APIRouter, Header, Query, Response, status
from fastapi.responses import StreamingResponse
from langchain_core.messages import AIMessage, BaseMessage, HumanMessage, ToolMessage

from agents.events import AgentEvent
from agents.runtime import TurnRequest
from agents.sessions import Session
from aiops.chat.schemas import (
    ApprovalRead,
    HistoryMessage,
    MessageCreate,
    SessionCreate,
    SessionDetail,
    SessionRead,
    SessionUpdate,
    ToolRead,
    TurnResult,
)
from aiops.chat.turns import parse_last_event_id
from aiops.http.deps import Caller, DbSession, State
from platform_core.errors import DomainError, NotFound
from platform_core.tenancy.models import Organization
from platform_core.tenancy.repository import resolve_org
from tools.base import ToolContext

router = APIRouter(prefix="/api/v1/chat", tags=["chat"])
SSE = "text/event-stream"


def _history(message: BaseMessage) -> HistoryMessage:
    role = {HumanMessage: "user", AIMessage: "assistant", ToolMessage: "tool"}.get(
        type(message), "system"
    )
    return HistoryMessage(
        role=role,
        content=message.content if isinstance(message.content, str) else str(message.content),
        tool_calls=[dict(call) for call in getattr(message, "tool_calls", []) or []],
        tool_call_id=getattr(message, "tool_call_id", None),
    )


async def _owned(state: State, ctx: Caller, session_id: str) -> Session:
    session = await state.runtime.sessions.load(session_id)
    if session is None or session.owner_id != ctx.subject.id:
        raise NotFound("session not found (sessions expire after 24 hours without use)")
    if uuid.UUID(session.organization_id) not in ctx.subject.grants.orgs:
        raise NotFound("session not found")
    return session


async def _org(db: DbSession, ctx: Caller, ref: str | uuid.UUID) -> Organization:
    """The organization, then the request's read transaction ends: a turn opens database
    sessions of its own, and a request still holding its connection while waiting for a second
    one starves the pool once enough chats start together."""
    org = await resolve_org(db, ctx.subject, str(ref))
    await db.commit()
    return org


async def _respond(
    state: State,
    ctx: Caller,
    accept: str | None,
    session_id: str,
    events: AsyncIterator[AgentEvent],
) -> Response:
    """Start the turn in the background; answer with its events as SSE or as one JSON."""
    turn_id = await state.turns.start(events, owner_id=ctx.subject.id)
    headers = {"X-Turn-Id": turn_id, "Cache-Control": "no-store"}
    if accept and SSE in accept:
        return StreamingResponse(_sse(state.turns.follow(turn_id)), media_type=SSE, headers=headers)
    collected = await state.turns.collect(turn_id)
    body = TurnResult(session_id=session_id, turn_id=turn_id, events=collected)
    return Response(body.model_dump_json(), media_type="application/json", headers=headers)


async def _sse(events: AsyncIterator[AgentEvent]) -> AsyncIterator[bytes]:
    async for event in events:
        data = event.model_dump_json()
        yield f"id: {event.turn_id}:{event.seq}\nevent: {event.type}\ndata: {data}\n\n".encode()


@router.post(
    "/sessions",
    name="chat.session_create",
    operation_id="createChatSession",
    status_code=status.HTTP_201_CREATED,
)
async def create_session(
    body: SessionCreate, ctx: Caller, db: DbSession, state: State
) -> SessionRead:
    """Start a conversation in an organization (optionally about one workspace/project)."""
    org = await _org(db, ctx, body.organization)
    session = await state.runtime.sessions.create(
        owner_id=ctx.subject.id,
        organization_id=str(org.id),
        title=body.title or "New conversation",
        workspace=body.workspace,
        project=body.project,
        read_only=body.read_only,
    )
    return SessionRead.of(session)


@router.get("/sessions", name="chat.session_list", operation_id="listChatSessions")
async def list_sessions(
    ctx: Caller,
    db: DbSession,
    state: State,
    organization: Annotated[str, Query(max_length=63, description="Organization id or name")],
) -> list[SessionRead]:
    """The caller's conversations in an organization, most recent first."""
    org = await _org(db, ctx, organization)
    sessions = await state.runtime.sessions.list_for(
        owner_id=ctx.subject.id, organization_id=str(org.id)
    )
    return [SessionRead.of(session) for session in sessions]


@router.get("/sessions/{session_id}", name="chat.session_get", operation_id="getChatSession")
async def get_session(session_id: str, ctx: Caller, state: State) -> SessionDetail:
    """A conversation with its history."""
    session = await _owned(state, ctx, session_id)
    return SessionDetail(
        **SessionRead.of(session).model_dump(),
        summary=session.summary,
        messages=[_history(message) for message in session.messages],
    )


@router.patch(
    "/sessions/{session_id}", name="chat.session_rename", operation_id="renameChatSession"
)
async def rename_session(
    session_id: str, body: SessionUpdate, ctx: Caller, state: State
) -> SessionRead:
    session = await _owned(state, ctx, session_id)
    session.title = body.title
    await state.runtime.sessions.save(session)
    return SessionRead.of(session)


@router.delete(
    "/sessions/{session_id}",
    name="chat.session_delete",
    operation_id="deleteChatSession",
    status_code=status.HTTP_204_NO_CONTENT,
)
async def delete_session(session_id: str, ctx: Caller, state: State) -> Response:
    session = await _owned(state, ctx, session_id)
    await state.runtime.sessions.delete(session)
    return Response(status_code=status.HTTP_204_NO_CONTENT)


@router.post(
    "/sessions/{session_id}/messages",
    name="chat.message",
    operation_id="sendChatMessage",
    responses={200: {"content": {"application/json": {}, SSE: {}}}},
)
async def send_message(
    session_id: str,
    body: MessageCreate,
    ctx: Caller,
    db: DbSession,
    state: State,
    accept: Annotated[str | None, Header()] = None,
) -> Response:
    """Send a message; the answer is the turn's events (JSON, or SSE with ``Accept``)."""
    session = await _owned(state, ctx, session_id)
    org = await _org(db, ctx, session.organization_id)
    events = await state.runtime.chat(
        TurnRequest(call=ctx, organization=org, message=body.content, session_id=session.id)
    )
    return await _respond(state, ctx, accept, session.id, events)


@router.get(
    "/sessions/{session_id}/turns/{turn_id}/events",
    name="chat.turn_events",
    operation_id="followTurn",
    responses={200: {"content": {"application/json": {}, SSE: {}}}},
)
async def follow_turn(
    session_id: str,
    turn_id: str,
    ctx: Caller,
    state: State,
    accept: Annotated[str | None, Header()] = None,
    last_event_id: Annotated[str | None, Header()] = None,
) -> Response:
    """Follow a turn (running, or finished within the hour); reconnect with ``Last-Event-ID``
    to resume after the last event seen."""
    await _owned(state, ctx, session_id)
    await state.turns.check_owner(turn_id, ctx.subject.id)
    after = parse_last_event_id(last_event_id, turn_id)
    if accept and SSE in accept:
        return StreamingResponse(
            _sse(state.turns.follow(turn_id, after_seq=after)),
            media_type=SSE,
            headers={"Cache-Control": "no-store"},
        )
    events = [event async for event in state.turns.follow(turn_id, after_seq=after)]
    body = TurnResult(session_id=session_id, turn_id=turn_id, events=events)
    return Response(body.model_dump_json(), media_type="application/json")


@router.get("/approvals", name="chat.approval_list", operation_id="listApprovals")
async def list_approvals(
    ctx: Caller,
    db: DbSession,
    state: State,
    organization: Annotated[str, Query(max_length=63)],
) -> list[ApprovalRead]:
    """Pending approvals of the organization that the caller may decide."""
    org = await _org(db, ctx, organization)
    pending = await state.runtime.approvals.list_pending(str(org.id))
    allowed = []
    for approval in pending:
        try:
            state.runtime.check_decider(ctx, org, approval)
        except DomainError:
            continue  # not theirs to decide: simply not listed
        allowed.append(
            ApprovalRead(
                id=approval.id,
                session_id=approval.session_id,
                tool=approval.tool,
                risk=approval.risk,
                arguments=approval.arguments,
                description=approval.description,
                approver=approval.approver,
                requester_id=approval.requester_id,
                expires_at=approval.expires_at,
            )
        )
    return allowed


async def _decide(
    approval_id: str, approve: bool, ctx: Caller, db: DbSession, state: State, accept: str | None
) -> Response:
    approval = await state.runtime.approvals.find(approval_id)
    if approval is None:
        raise NotFound("approval not found")
    org = await _org(db, ctx, approval.organization_id)
    events = await state.runtime.decide(
        call=ctx, organization=org, approval_id=approval_id, approve=approve
    )
    state.remediation.approval_decided(approval_id)  # an incident's fix, if it was one
    return await _respond(state, ctx, accept, approval.session_id, events)


@router.post("/approvals/{approval_id}/approve", name="chat.approve", operation_id="approveAction")
async def approve(
    approval_id: str,
    ctx: Caller,
    db: DbSession,
    state: State,
    accept: Annotated[str | None, Header()] = None,
) -> Response:
    """Approve a paused change: it runs now, exactly as proposed, and the turn continues."""
    return await _decide(approval_id, True, ctx, db, state, accept)


@router.post("/approvals/{approval_id}/deny", name="chat.deny", operation_id="denyAction")
async def deny(
    approval_id: str,
    ctx: Caller,
    db: DbSession,
    state: State,
    accept: Annotated[str | None, Header()] = None,
) -> Response:
    """Deny a paused change: the agent is told and answers without it."""
    return await _decide(approval_id, False, ctx, db, state, accept)


@router.get("/tools", name="chat.tools", operation_id="listChatTools")
async def list_tools(
    ctx: Caller,
    db: DbSession,
    state: State,
    organization: Annotated[str, Query(max_length=63)],
    workspace: Annotated[str | None, Query(max_length=63)] = None,
    read_only: bool = False,
) -> list[ToolRead]:
    """The tools the agent would be offered for the caller, as the caller sees them."""
    org = await _org(db, ctx, organization)
    tool_ctx = ToolContext(
        call=ctx, organization=org, gateway=state.cluster, db=state.db, workspace=workspace
    )
    offered = await state.runtime.toolset.offered(tool_ctx, read_only=read_only)
    return [
        ToolRead(
            name=t.name,
            description=t.description,
            risk=t.risk,
            parameters=t.schema()["function"]["parameters"],
        )
        for t in offered
    ]
