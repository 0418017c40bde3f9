"""Running the tool calls of one model message.

Every call is announced (``tool_call``), prepared (validated, resolved inside the caller's
organization, authorized) and then: reads run in parallel; the first change is held for
approval; any further change in the same message is answered "one change at a time" so the
model asks again after the first is decided. Each call gets its result back to the model,
framed as untrusted data, except the one waiting for approval.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from typing import TYPE_CHECKING, Any

from langchain_core.messages import AIMessage

from agents.events import AgentEvent, ApprovalRequiredEvent, ToolCallEvent, ToolResultEvent
from agents.reporting import trace_tool
from agents.turn import Turn, tool_message, utcnow
from tools.results import ToolResult
from tools.toolset import PreparedCall

if TYPE_CHECKING:
    from agents.runtime import AgentRuntime

ONE_CHANGE_AT_A_TIME = (
    "not run: only one change is held for approval at a time; ask for this one again after "
    "the pending change is decided"
)


async def run_tool_calls(
    runtime: AgentRuntime, turn: Turn, ai: AIMessage
) -> AsyncIterator[AgentEvent]:
    toolset = runtime.toolset
    calls = ai.tool_calls
    prepared: dict[str, PreparedCall | ToolResult] = {}
    for call in calls:
        chosen = toolset.tools.get(call["name"])
        yield turn.stamp(
            ToolCallEvent(
                call_id=call["id"] or "",
                tool=call["name"],
                arguments=call["args"],
                risk=chosen.risk if chosen else "unknown",
            )
        )
        prepared[call["id"] or ""] = await toolset.prepare(
            turn.ctx, call["name"], call["args"], offered=turn.offered
        )

    results: dict[str, ToolResult] = {}
    approval_for: tuple[str, PreparedCall] | None = None
    reads: list[tuple[str, PreparedCall]] = []
    for call_id, item in prepared.items():
        if isinstance(item, ToolResult):
            results[call_id] = toolset.finish(item)
            name = next(c["name"] for c in calls if c["id"] == call_id)
            args = next(c["args"] for c in calls if c["id"] == call_id)
            await toolset.audit(turn.ctx, None, item, name=name, arguments=args)
        elif not item.needs_approval:
            reads.append((call_id, item))
        elif approval_for is None:
            approval_for = (call_id, item)
        else:
            results[call_id] = ToolResult.error(ONE_CHANGE_AT_A_TIME)

    _remember_place(turn, [item for item in prepared.values() if isinstance(item, PreparedCall)])
    started = utcnow()
    outcomes = await asyncio.gather(*(toolset.execute(turn.ctx, item) for _, item in reads))
    for (call_id, item), result in zip(reads, outcomes, strict=True):
        results[call_id] = result
        await trace_tool(
            turn,
            call_id,
            item.tool.name,
            item.tool.risk,
            item.args.model_dump(mode="json", exclude_none=True),
            result,
            started,
        )

    for call in calls:
        call_id = call["id"] or ""
        if call_id not in results:
            continue
        result = results[call_id]
        turn.session.messages.append(tool_message(call_id, call["name"], result))
        yield turn.stamp(
            ToolResultEvent(
                call_id=call_id,
                tool=call["name"],
                status=result.status,
                summary=result.summary,
                note=result.note,
                data=result.data,
            )
        )

    if approval_for is not None:
        yield await _hold_for_approval(runtime, turn, *approval_for)


def _remember_place(turn: Turn, calls: list[PreparedCall]) -> None:
    """The first workspace (and project) a conversation works in becomes its default."""
    if turn.session.workspace is not None:
        return
    for call in calls:
        if call.target is not None and call.target.workspace is not None:
            turn.session.workspace = call.target.workspace.name
            turn.ctx.workspace = turn.session.workspace
            if call.target.project is not None and turn.session.project is None:
                turn.session.project = call.target.project.name
                turn.ctx.project = turn.session.project
            return


async def _hold_for_approval(
    runtime: AgentRuntime, turn: Turn, call_id: str, item: PreparedCall
) -> AgentEvent:
    target = item.target
    arguments: dict[str, Any] = item.args.model_dump(mode="json", exclude_none=True)
    # Pin the place the call resolved to, so approving runs it there even if the conversation's
    # default workspace or project changes in the meantime.
    fields = item.tool.args_model.model_fields
    if target is not None and target.workspace is not None and "workspace" in fields:
        arguments["workspace"] = target.workspace.name
    if target is not None and target.project is not None and "project" in fields:
        arguments["project"] = target.project.name
    approval = await runtime.approvals.create(
        organization_id=str(turn.ctx.organization.id),
        session_id=turn.session.id,
        requester_kind=turn.ctx.subject.kind,
        requester_id=turn.ctx.subject.id,
        call_id=call_id,
        tool=item.tool.name,
        risk=item.tool.risk,
        arguments=arguments,
        description=item.summary,
        approver="admin" if item.tool.risk == "destructive" else "requester",
        workspace_id=str(target.workspace.id) if target and target.workspace else None,
        project_path=[str(p) for p in target.project_path] if target else [],
    )
    pending = ToolResult(status="approval_required", summary=item.summary, approval_id=approval.id)
    await runtime.toolset.audit(turn.ctx, item, pending)
    turn.session.pending_approval = approval.id
    turn.paused = True
    return turn.stamp(
        ApprovalRequiredEvent(
            approval_id=approval.id,
            call_id=call_id,
            tool=item.tool.name,
            arguments=arguments,
            risk=item.tool.risk,
            description=item.summary,
            approver=approval.approver,
            expires_at=approval.expires_at,
        )
    )
