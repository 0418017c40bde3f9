"""``get_approval``: what became of a change an MCP call asked for.

An MCP client cannot be told when a person decides (the call that asked has long returned), so
it asks. Only whoever asked, or someone allowed to decide the approval, may see it; anyone else
is told it does not exist, as the REST API does for objects out of reach.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

from mcp import types
from pydantic import BaseModel, ConfigDict, Field, ValidationError

from agents.approvals import PendingApproval
from agents.direct import DIRECT
from platform_core.errors import DomainError, NotFound
from tools.results import ToolResult

if TYPE_CHECKING:
    from agents.runtime import AgentRuntime
    from aiops.mcp.server import McpCaller


class ApprovalArgs(BaseModel):
    model_config = ConfigDict(extra="forbid")

    approval_id: str = Field(
        min_length=1, max_length=64, description="The id a change answered with"
    )


def _schema() -> dict[str, Any]:
    schema = ApprovalArgs.model_json_schema()
    schema.pop("title", None)
    for prop in schema.get("properties", {}).values():
        prop.pop("title", None)
    return schema


GET_APPROVAL = types.Tool(
    name="get_approval",
    description=(
        "The state of a change that answered approval_required: pending, approved, denied or "
        "expired, who decided it, and once it ran, its result. Nothing is changed by asking."
    ),
    input_schema=_schema(),
    annotations=types.ToolAnnotations(read_only_hint=True, open_world_hint=False),
)


def _when(timestamp: float | None) -> str:
    if timestamp is None:
        return "?"
    return f"{datetime.fromtimestamp(timestamp, UTC):%H:%M} UTC"


def _may_see(runtime: AgentRuntime, caller: McpCaller, approval: PendingApproval) -> bool:
    subject = caller.call.subject
    if (subject.kind, subject.id) == (approval.requester_kind, approval.requester_id):
        return True
    try:
        runtime.check_decider(caller.call, caller.organization, approval)
    except DomainError:
        return False
    return True


def _summary(approval: PendingApproval) -> str:
    head = f"approval {approval.id} ({approval.description})"
    if approval.status == "pending":
        return (
            f"{head} is pending: nothing has changed yet. A person must approve it in the web "
            f"UI, Slack or with `aiops chat --approve {approval.id}` before "
            f"{_when(approval.expires_at_ts)}."
        )
    if approval.status == "expired":
        return f"{head} expired without a decision: nothing was changed."
    if approval.status == "superseded":
        return f"{head} was superseded: nothing was changed."
    decided = f"{head} was {approval.status} by {approval.decided_by} at "
    decided += _when(approval.decided_at_ts)
    if approval.result is None:
        if approval.status != "approved":
            return f"{decided}: nothing was changed."
        if approval.session_id != DIRECT:
            return f"{decided}; its result went to the conversation that asked for it."
        return f"{decided}; it is running now: ask again shortly for the result."
    outcome = ToolResult.model_validate(approval.result)
    return f"{decided}. Result:\n{outcome.text()}"


async def approval_status(
    runtime: AgentRuntime, caller: McpCaller, arguments: dict[str, Any]
) -> ToolResult:
    """The approval's state as a tool result (an error result if it is not the caller's)."""
    try:
        args = ApprovalArgs.model_validate(arguments)
    except ValidationError as error:
        problems = "; ".join(f"{'.'.join(map(str, e['loc']))}: {e['msg']}" for e in error.errors())
        return ToolResult.error(f"invalid arguments for get_approval: {problems}")
    try:
        approval = await runtime.approvals.get(
            args.approval_id, organization_id=str(caller.organization.id)
        )
    except NotFound:
        approval = None
    if approval is None or not _may_see(runtime, caller, approval):
        return ToolResult.error(
            f"approval {args.approval_id} not found in {caller.organization.name} "
            "(approvals are kept for a day after they expire)"
        )
    return ToolResult.ok(
        _summary(approval),
        data={
            "approval_id": approval.id,
            "status": approval.status,
            "tool": approval.tool,
            "arguments": approval.arguments,
            "description": approval.description,
            "approver": approval.approver,
            "expires_at": approval.expires_at.isoformat(),
            "decided_by": approval.decided_by,
            "result": approval.result,
        },
    )
