"""Tool calls made directly, without a conversation: the MCP server and other integrations.

The same toolset decides: what the caller may be offered, the target inside its organization,
read-only mode, audit, redaction. A read runs at once. A change is never run directly: it
becomes a pending approval that a person decides in the web UI, Slack or the CLI; deciding it
runs exactly that call, as the caller, and keeps its result on the approval.
"""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator
from typing import TYPE_CHECKING, Any

from agents.approvals import PendingApproval
from agents.events import AgentEvent, FinalEvent, ToolResultEvent
from platform_core.auth.subjects import load_subject
from platform_core.context import CallContext
from platform_core.tenancy.models import Organization
from tools.base import ToolContext
from tools.results import ToolResult
from tools.toolset import PreparedCall

if TYPE_CHECKING:
    from agents.runtime import AgentRuntime

DIRECT = ""  # the session id of an approval that belongs to no conversation


async def _context(
    runtime: AgentRuntime, call: CallContext, organization: Organization, workspace: str | None
) -> tuple[ToolContext, bool]:
    org_settings = await runtime.org_settings(organization.id) if runtime.org_settings else None
    ctx = ToolContext(
        call=call,
        organization=organization,
        gateway=runtime.gateway,
        db=runtime.db,
        metrics=runtime.metrics,
        workspace=workspace,
        extras={"session_id": None},
    )
    return ctx, bool(org_settings and org_settings.read_only)


async def offered_tools(
    runtime: AgentRuntime,
    *,
    call: CallContext,
    organization: Organization,
    workspace: str | None = None,
    read_only: bool = False,
) -> list[Any]:
    ctx, org_read_only = await _context(runtime, call, organization, workspace)
    return await runtime.toolset.offered(ctx, read_only=read_only or org_read_only)


async def call_tool(
    runtime: AgentRuntime,
    *,
    call: CallContext,
    organization: Organization,
    name: str,
    arguments: dict[str, Any],
    workspace: str | None = None,
    read_only: bool = False,
) -> ToolResult:
    """Run a read now; hold a change for approval. Never raises for the caller's mistakes."""
    ctx, org_read_only = await _context(runtime, call, organization, workspace)
    offered = await runtime.toolset.offered(ctx, read_only=read_only or org_read_only)
    prepared = await runtime.toolset.prepare(ctx, name, arguments, offered=offered)
    if isinstance(prepared, ToolResult):
        await runtime.toolset.audit(ctx, None, prepared, name=name, arguments=arguments)
        return runtime.toolset.finish(prepared)
    if not prepared.needs_approval:
        return await runtime.toolset.execute(ctx, prepared)
    return await _hold(runtime, ctx, prepared)


async def _hold(runtime: AgentRuntime, ctx: ToolContext, item: PreparedCall) -> ToolResult:
    target = item.target
    arguments = item.args.model_dump(mode="json", exclude_none=True)
    fields = item.tool.args_model.model_fields
    if target is not None and target.workspace is not None and "workspace" in fields:
        arguments["workspace"] = target.workspace.name
    if target is not None and target.project is not None and "project" in fields:
        arguments["project"] = target.project.name
    approval = await runtime.approvals.create(
        organization_id=str(ctx.organization.id),
        session_id=DIRECT,
        requester_kind=ctx.subject.kind,
        requester_id=ctx.subject.id,
        call_id=f"direct_{uuid.uuid4().hex[:12]}",
        tool=item.tool.name,
        risk=item.tool.risk,
        arguments=arguments,
        description=item.summary,
        approver="admin" if item.tool.risk == "destructive" else "requester",
        workspace_id=str(target.workspace.id) if target and target.workspace else None,
        project_path=[str(p) for p in target.project_path] if target else [],
    )
    who = "a workspace or organization admin" if approval.approver == "admin" else "you"
    result = ToolResult(
        status="approval_required",
        summary=(
            f"approval needed: {item.summary}. Nothing has changed yet; {who} must approve it "
            f"(approval id {approval.id}) in the web UI, Slack or with "
            f"`aiops chat --approve {approval.id}`. It expires at {approval.expires_at:%H:%M} UTC."
        ),
        approval_id=approval.id,
        data={"approval_id": approval.id, "tool": item.tool.name, "arguments": arguments},
    )
    await runtime.toolset.audit(ctx, item, result)
    return result


async def decide_direct(
    runtime: AgentRuntime,
    call: CallContext,
    organization: Organization,
    approval: PendingApproval,
) -> AsyncIterator[AgentEvent]:
    """Run (or not) a decided direct call as its requester; keep the result on the approval."""
    turn_id = f"approval-{approval.id}"
    if approval.status == "approved":
        async with runtime.db.session() as session:
            requester = await load_subject(session, approval.requester_kind, approval.requester_id)
        as_requester = CallContext(subject=requester, request_id=call.request_id)
        result = await call_tool_approved(runtime, as_requester, organization, approval)
    else:
        result = ToolResult.error(f"not done: denied by {approval.decided_by}")
    await runtime.approvals.store_result(approval.id, result.model_dump(mode="json"))
    yield ToolResultEvent(
        seq=1,
        turn_id=turn_id,
        call_id=approval.call_id,
        tool=approval.tool,
        status=result.status,
        summary=result.summary,
        note=result.note,
        data=result.data,
    )
    yield FinalEvent(
        seq=2,
        turn_id=turn_id,
        text=result.summary,
        status="completed" if approval.status == "approved" else "denied",
    )


async def call_tool_approved(
    runtime: AgentRuntime, call: CallContext, organization: Organization, approval: PendingApproval
) -> ToolResult:
    ctx, _ = await _context(runtime, call, organization, None)
    offered = await runtime.toolset.offered(ctx, read_only=False)
    prepared = await runtime.toolset.prepare(
        ctx, approval.tool, approval.arguments, offered=offered
    )
    if isinstance(prepared, ToolResult):
        await runtime.toolset.audit(
            ctx, None, prepared, name=approval.tool, arguments=approval.arguments, outcome="denied"
        )
        return runtime.toolset.finish(prepared)
    return await runtime.toolset.execute(ctx, prepared)
