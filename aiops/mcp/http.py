"""Streamable HTTP at ``/mcp``: every request authenticated like any other API request.

The SDK's session manager runs stateless with JSON responses (its recommendation for a
service behind a load balancer): each POST carries one JSON-RPC message and is answered on its
own, so nothing about a caller outlives the request, and any replica can answer any message.

In front of it sits ``McpEndpoint``. It authenticates the request with the REST API's own
dependency code (bearer access token, service token or API key, ``X-API-Key`` too, with the
per-account rate limit), picks the organization, and leaves the caller on the ASGI scope, where
the MCP handlers find it through the Starlette request the SDK hands them. A request without
valid credentials never reaches the SDK: it gets the API's JSON error and a 401.

Options, as headers or query parameters: ``X-Organization`` / ``organization`` (needed only by
someone in several organizations), ``X-Workspace`` / ``workspace`` (default workspace for tools
that name none) and ``X-Read-Only`` / ``read_only`` (offer reads only).
"""

from __future__ import annotations

import contextlib
from types import TracebackType
from typing import Any

from fastapi import FastAPI
from fastapi.security import HTTPAuthorizationCredentials
from mcp.server import Server, ServerRequestContext
from mcp.server.streamable_http_manager import StreamableHTTPSessionManager
from mcp.server.transport_security import TransportSecuritySettings
from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Route
from starlette.types import Receive, Scope, Send

from aiops.http.deps import _authenticate
from aiops.http.errors import error_body
from aiops.mcp.server import McpCaller, build_server, choose_organization
from aiops.state import AppState
from platform_core.errors import DomainError, InvalidInput, RateLimited, Unauthenticated

CALLER_KEY = "mcp_caller"
MAX_REF_LENGTH = 63
TRUE = frozenset({"1", "true", "yes", "on"})


def _option(request: Request, header: str, query: str) -> str | None:
    value = request.headers.get(header) or request.query_params.get(query)
    if value is None or not value.strip():
        return None
    value = value.strip()
    if len(value) > MAX_REF_LENGTH:
        raise InvalidInput(f"{header} / {query} is longer than {MAX_REF_LENGTH} characters")
    return value


def _credentials(request: Request) -> tuple[HTTPAuthorizationCredentials | None, str | None]:
    scheme, _, token = request.headers.get("authorization", "").partition(" ")
    bearer = None
    if scheme.lower() == "bearer" and token.strip():
        bearer = HTTPAuthorizationCredentials(scheme="Bearer", credentials=token.strip())
    return bearer, request.headers.get("x-api-key") or None


async def authenticate(request: Request, state: AppState) -> McpCaller:
    """The caller of one HTTP request, as the REST API would authenticate it."""
    bearer, api_key = _credentials(request)
    async with state.db.session() as session:
        ctx = await _authenticate(request, state, session, bearer, api_key)
        if ctx is None:
            raise Unauthenticated("sign in: send 'Authorization: Bearer <token>' or 'X-API-Key'")
        organization = await choose_organization(
            session, ctx.subject, _option(request, "x-organization", "organization")
        )
        workspace = _option(request, "x-workspace", "workspace")
        read_only = (_option(request, "x-read-only", "read_only") or "").lower() in TRUE
        await session.commit()  # an API key's last use
    request.state.audit_org_id = organization.id
    # What an MCP request can change, it changes through a tool call, and the toolset audits
    # every tool call; the protocol's own messages (initialize, tools/list) change nothing.
    ctx.audited = True
    return McpCaller(call=ctx, organization=organization, workspace=workspace, read_only=read_only)


async def caller_from_request(ctx: ServerRequestContext[Any, Any]) -> McpCaller:
    """The caller ``McpEndpoint`` authenticated for the HTTP request carrying this message."""
    request = ctx.request
    caller = request.scope.get("state", {}).get(CALLER_KEY) if request is not None else None
    if not isinstance(caller, McpCaller):
        raise Unauthenticated("this request was not authenticated")
    return caller


def _refusal(error: DomainError) -> JSONResponse:
    headers = {}
    if isinstance(error, Unauthenticated):
        headers["WWW-Authenticate"] = "Bearer"
    if isinstance(error, RateLimited):
        headers["Retry-After"] = str(error.retry_after)
    return JSONResponse(
        error_body(error.code, error.message, error.details),
        status_code=error.status_code,
        headers=headers,
    )


class McpEndpoint:
    """The ASGI app at ``/mcp``: authenticate, then hand the request to the SDK."""

    def __init__(self, state: AppState) -> None:
        self.state = state
        self.manager: StreamableHTTPSessionManager | None = None

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        manager = self.manager
        if manager is None:
            refusal = error_body("unavailable", "the MCP server is not running")
            await JSONResponse(refusal, status_code=503)(scope, receive, send)
            return
        request = Request(scope, receive)
        try:
            caller = await authenticate(request, self.state)
        except DomainError as error:
            await _refusal(error)(scope, receive, send)
            return
        scope.setdefault("state", {})[CALLER_KEY] = caller
        await manager.handle_request(scope, receive, send)


class McpService:
    """The session manager's lifetime, entered in the app's lifespan.

    The SDK's manager runs once; each entry makes a new one, so an app whose lifespan runs
    more than once (tests do that) still serves MCP every time.
    """

    def __init__(self, state: AppState, server: Server[Any]) -> None:
        self.server = server
        self.endpoint = McpEndpoint(state)
        self._stack: contextlib.AsyncExitStack | None = None

    async def __aenter__(self) -> McpService:
        manager = StreamableHTTPSessionManager(
            app=self.server,
            stateless=True,
            json_response=True,
            # DNS-rebinding protection guards servers that trust whoever reaches them; this one
            # trusts nobody without a bearer token or API key, which a rebinding page cannot send.
            security_settings=TransportSecuritySettings(enable_dns_rebinding_protection=False),
        )
        stack = contextlib.AsyncExitStack()
        await stack.enter_async_context(manager.run())
        self._stack = stack
        self.endpoint.manager = manager
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        self.endpoint.manager = None
        stack, self._stack = self._stack, None
        if stack is not None:
            await stack.aclose()


def mount_mcp(app: FastAPI, state: AppState, *, path: str = "/mcp") -> McpService:
    """Serve MCP at ``path`` of ``app``; enter the returned service in the app's lifespan."""
    service = McpService(state, build_server(state, caller_from_request))
    app.router.routes.append(
        Route(
            path,
            endpoint=service.endpoint,
            methods=["GET", "POST", "DELETE"],
            name="mcp",
            include_in_schema=False,
        )
    )
    return service
