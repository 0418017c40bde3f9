"""One MCP server definition for both transports: the caller's tools, plus ``get_approval``.

The server holds no rights of its own. Each request asks its transport who is calling
(``CallerSource``): the HTTP transport authenticates every request, the stdio transport
re-authenticates its credential for every request, so a role taken away or a key revoked takes
effect on the next message, never at the next restart. Listing and calling then go through
``agents.direct``, the same code the rest of the service uses, so an MCP client can neither see
nor do more than the same person could through the REST API or the chat.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any

from mcp import types
from mcp.server import Server, ServerRequestContext
from mcp.shared.exceptions import MCPError
from sqlalchemy.ext.asyncio import AsyncSession

from agents.direct import call_tool, offered_tools
from aiops import __version__
from aiops.mcp.approvals import GET_APPROVAL, approval_status
from aiops.state import AppState
from platform_core.context import CallContext
from platform_core.errors import DomainError, NotFound
from platform_core.rbac.subject import Subject
from platform_core.tenancy.models import Organization
from platform_core.tenancy.repository import resolve_org
from tools.base import Tool
from tools.results import ToolResult

SERVER_NAME = "hexabase-aiops"
INSTRUCTIONS = (
    "Tools to observe and operate applications on the Hexabase Kubernetes platform, acting in "
    "one organization with the caller's own rights. Workspaces are virtual clusters; projects "
    "are namespaces. Reads answer at once. A change never runs directly: it answers status "
    "approval_required with an approval id, and nothing happens until a person approves it in "
    "the web UI, Slack or with `aiops chat --approve ID`. Call get_approval with that id to see "
    "whether it was decided and what running it returned."
)
APPROVAL_NOTE = (
    "\n\nThis changes the platform: the call answers approval_required with an approval id and "
    "runs only once a person approves it; get_approval reports the outcome."
)


@dataclass(frozen=True)
class McpCaller:
    """Who is calling and where, as resolved for one request (never reused for another)."""

    call: CallContext
    organization: Organization
    workspace: str | None = None
    """The default workspace for tools whose arguments do not name one."""
    read_only: bool = False
    """Offer and run reads only (an organization's own read-only setting applies regardless)."""


CallerSource = Callable[[ServerRequestContext[Any, Any]], Awaitable[McpCaller]]
"""How a transport turns one MCP request into its caller; raises a ``DomainError`` if it can't."""


async def choose_organization(
    session: AsyncSession, subject: Subject, ref: str | None
) -> Organization:
    """The organization named by ``ref``, or else the only one the credential reaches.

    An API key (and a service token) belongs to exactly one organization, and most people
    belong to one, so naming it is only required of someone who belongs to several.
    """
    if ref:
        return await resolve_org(session, subject, ref)
    reachable = list(subject.grants.orgs)
    if len(reachable) == 1:
        return await resolve_org(session, subject, str(reachable[0]))
    if not reachable:
        raise NotFound("you belong to no organization")
    raise DomainError(
        f"you belong to {len(reachable)} organizations: name one with the X-Organization header "
        "or the organization query parameter (--org over stdio)"
    )


def describe(tool: Tool) -> types.Tool:
    """The MCP listing of a platform tool: its name, description and argument schema."""
    function = tool.schema()["function"]
    description = function["description"]
    if tool.risk != "read":
        description += APPROVAL_NOTE
    return types.Tool(
        name=function["name"],
        description=description,
        input_schema=function["parameters"],
        annotations=types.ToolAnnotations(
            read_only_hint=tool.risk == "read",
            destructive_hint=tool.risk == "destructive",
            open_world_hint=False,
        ),
    )


def as_mcp_result(result: ToolResult) -> types.CallToolResult:
    """The text a model reads, the full result as structured content, errors flagged."""
    return types.CallToolResult(
        content=[types.TextContent(type="text", text=result.text())],
        structured_content=result.model_dump(mode="json", exclude_none=True),
        is_error=result.status == "error",
    )


def build_server(state: AppState, caller_of: CallerSource) -> Server[Any]:
    """The MCP server over ``state``'s agent runtime; ``caller_of`` is the transport's auth."""

    async def list_tools(
        ctx: ServerRequestContext[Any, Any], params: types.PaginatedRequestParams | None
    ) -> types.ListToolsResult:
        try:
            caller = await caller_of(ctx)
            offered = await offered_tools(
                state.runtime,
                call=caller.call,
                organization=caller.organization,
                workspace=caller.workspace,
                read_only=caller.read_only,
            )
        except DomainError as error:
            raise MCPError(types.INVALID_REQUEST, error.message) from None
        # The listing is the caller's own: private, and stale at once (rights may change).
        return types.ListToolsResult(
            tools=[*(describe(tool) for tool in offered), GET_APPROVAL],
            ttl_ms=0,
            cache_scope="private",
        )

    async def run_tool(
        ctx: ServerRequestContext[Any, Any], params: types.CallToolRequestParams
    ) -> types.CallToolResult:
        arguments = params.arguments or {}
        try:
            caller = await caller_of(ctx)
            if params.name == GET_APPROVAL.name:
                result = await approval_status(state.runtime, caller, arguments)
            else:
                result = await call_tool(
                    state.runtime,
                    call=caller.call,
                    organization=caller.organization,
                    name=params.name,
                    arguments=arguments,
                    workspace=caller.workspace,
                    read_only=caller.read_only,
                )
        except DomainError as error:
            result = ToolResult.error(error.message)
        return as_mcp_result(result)

    return Server(
        SERVER_NAME,
        version=__version__,
        title="Hexabase AIOps",
        instructions=INSTRUCTIONS,
        on_list_tools=list_tools,
        on_call_tool=run_tool,
    )
