"""MCP over stdin/stdout, for a local client that starts ``aiops mcp`` itself.

The process builds the service's state in-process (same settings, database, Redis and cluster)
and acts as the holder of ``--token``: an access token, a service token or an API key. The
credential is checked before serving, so a bad one fails at start with a message on stderr,
and checked again for every request, so rights are as fresh as over HTTP.

It only reads the cluster: changes become approvals that a person decides elsewhere, and the
process that runs the approved change owns the cluster's state. So the simulated twin is never
clocked nor saved from here: saving the snapshot loaded at start would overwrite what the
running service saved since.
"""

from __future__ import annotations

import itertools
from typing import Any

from mcp.server import ServerRequestContext
from mcp.server.stdio import stdio_server

from aiops.mcp.server import McpCaller, build_server, choose_organization
from aiops.state import AppState
from platform_core.config import Settings
from platform_core.context import CallContext


class StdioCaller:
    """The one credential the process was started with, authenticated again per request."""

    def __init__(
        self,
        state: AppState,
        credential: str,
        organization: str | None,
        workspace: str | None,
        read_only: bool,
    ) -> None:
        self.state = state
        self.credential = credential
        self.organization = organization
        self.workspace = workspace
        self.read_only = read_only
        self._requests = itertools.count(1)

    async def resolve(self) -> McpCaller:
        """Authenticate and pick the organization now; raises ``DomainError`` if refused."""
        async with self.state.db.session() as session:
            subject = await self.state.auth.authenticate(session, self.credential)
            organization = await choose_organization(session, subject, self.organization)
            await session.commit()  # an API key's last use
        # Pin the organization by id after the first resolution: a rename changes nothing.
        self.organization = str(organization.id)
        call = CallContext(subject=subject, request_id=f"mcp-stdio-{next(self._requests)}")
        return McpCaller(
            call=call, organization=organization, workspace=self.workspace, read_only=self.read_only
        )

    async def __call__(self, ctx: ServerRequestContext[Any, Any]) -> McpCaller:
        return await self.resolve()


async def serve_stdio(
    settings: Settings,
    *,
    credential: str,
    organization: str | None = None,
    workspace: str | None = None,
    read_only: bool = False,
) -> None:
    """Serve until the client closes stdin; raises ``DomainError`` if the credential is refused."""
    state = AppState.build(settings)
    await state.start()
    state.twin_runner = None  # read-only view of the twin: never save it (see the module doc)
    try:
        caller = StdioCaller(state, credential, organization, workspace, read_only)
        await caller.resolve()  # fail before serving, with a message the operator sees
        server = build_server(state, caller)
        async with stdio_server() as (read_stream, write_stream):
            await server.run(read_stream, write_stream, server.create_initialization_options())
    finally:
        await state.close()
