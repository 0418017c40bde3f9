"""Deciding a paused change: who may, and continuing the turn exactly where it stopped."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator
from typing import TYPE_CHECKING

from agents.approvals import PendingApproval
from agents.events import AgentEvent, ToolResultEvent
from agents.reporting import trace_tool
from agents.sessions import Session
from agents.turn import Turn, tool_message, utcnow
from platform_core.auth.subjects import load_subject
from platform_core.context import CallContext
from platform_core.errors import Forbidden, NotFound
from platform_core.rbac.authorize import Resource, authorize
from platform_core.tenancy.models import Organization
from tools.results import ToolResult

if TYPE_CHECKING:
    from agents.runtime import AgentRuntime


def check_decider(call: CallContext, organization: Organization, approval: PendingApproval) -> None:
    """Only the requester (for a write) or an admin of the place (for anything) decides."""
    subject = call.subject
    resource = Resource(
        kind="approval",
        organization_id=organization.id,
        workspace_id=uuid.UUID(approval.workspace_id) if approval.workspace_id else None,
        project_path=tuple(uuid.UUID(p) for p in approval.project_path),
        organization_active=organization.status == "active",
    )
    if organization.id not in subject.grants.orgs:
        raise NotFound("approval not found")
    if authorize(subject, "approval.destructive", resource):
        return
    if approval.approver == "requester" and subject.id == approval.requester_id:
        return
    if approval.approver == "admin":
        raise Forbidden("a workspace or organization admin must decide this action")
    raise Forbidden("only the person who asked, or an admin, can decide this approval")


async def continue_turn(
    runtime: AgentRuntime,
    call: CallContext,
    organization: Organization,
    session: Session,
    approval: PendingApproval,
) -> AsyncIterator[AgentEvent]:
    async with runtime.db.session() as db_session:
        requester = await load_subject(db_session, approval.requester_kind, approval.requester_id)
    as_requester = CallContext(
        subject=requester, request_id=call.request_id, client_ip=call.client_ip
    )
    turn = await runtime.start_turn(
        as_requester, organization, session, f"[{approval.status}] {approval.description}"
    )
    session.pending_approval = None
    yield turn.stamp(runtime.session_event(turn, organization))
    if approval.status == "approved":
        result = await run_approved(runtime, turn, approval)
    else:
        result = ToolResult.error(
            f"the user did not approve this action (denied by {approval.decided_by}); "
            "do not retry it: tell the user it was not done"
        )
        await runtime.toolset.audit(
            turn.ctx,
            None,
            result,
            name=approval.tool,
            arguments=approval.arguments,
            outcome="denied",
        )
    session.messages.append(tool_message(approval.call_id, approval.tool, result))
    yield turn.stamp(
        ToolResultEvent(
            call_id=approval.call_id,
            tool=approval.tool,
            status=result.status,
            summary=result.summary,
            note=result.note,
            data=result.data,
        )
    )
    async for event in runtime.run_turn(turn):
        yield event


async def run_approved(runtime: AgentRuntime, turn: Turn, approval: PendingApproval) -> ToolResult:
    """Run the stored call as prepared, re-checking the requester's rights now."""
    prepared = await runtime.toolset.prepare(
        turn.ctx, approval.tool, approval.arguments, offered=turn.offered
    )
    if isinstance(prepared, ToolResult):
        await runtime.toolset.audit(
            turn.ctx,
            None,
            prepared,
            name=approval.tool,
            arguments=approval.arguments,
            outcome="denied",
        )
        return prepared
    started = utcnow()
    result = await runtime.toolset.execute(turn.ctx, prepared)
    await trace_tool(
        turn,
        approval.call_id,
        prepared.tool.name,
        prepared.tool.risk,
        approval.arguments,
        result,
        started,
    )
    return result
