"""MCP over streamable HTTP at ``/mcp``, with the official MCP client against the real service.

The service runs on a loopback port (``running_server``); the client authenticates with the same
bearer tokens and API keys as the REST API. What must hold: the tool list is the caller's, a
read answers with the twin's real state, a change answers approval_required and changes nothing
until someone allowed approves it elsewhere (here: the REST API), after which the twin has
changed and ``get_approval`` reports the result.
"""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import AsyncIterator, Iterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from typing import Any

import httpx
import httpx2
import pytest
from fastapi import FastAPI
from mcp import Client, ClientSession, types
from mcp.client.streamable_http import streamable_http_client
from mcp.shared.exceptions import MCPError
from mcp.types.version import HANDSHAKE_PROTOCOL_VERSIONS

from aiops.app import create_app
from aiops.mcp import mount_mcp
from aiops.state import AppState
from platform_core.config import Settings
from platform_core.tenancy.models import Membership
from tests.support.databases import close_and_wipe, drop_redis_namespace
from tests.support.server import running_server
from tests.support.tenants import Tenant, make_tenant

WRITES = {"scale_application", "restart_application", "delete_workspace", "create_project"}


def serve_mcp(app: FastAPI) -> None:
    """Mount MCP as ``create_app`` does once it is wired in there (a no-op when it already is)."""
    if any(getattr(route, "name", None) == "mcp" for route in app.routes):
        return
    service = mount_mcp(app, app.state.aiops)
    original = app.router.lifespan_context

    @asynccontextmanager
    async def lifespan(application: FastAPI) -> AsyncIterator[Any]:
        async with original(application) as value, service:
            yield value

    app.router.lifespan_context = lifespan


@dataclass
class World:
    url: str
    acme: Tenant
    rival: Tenant
    api_key: str


@pytest.fixture
def world(settings: Settings) -> Iterator[World]:
    """The service on a port, with tenants acme (applications running) and rival.

    Set up in a loop of its own, then handed to the server's loop: connections made here are
    closed first, since they belong to the loop they were made in.
    """
    app = create_app(settings)
    serve_mcp(app)
    state: AppState = app.state.aiops

    async def prepare() -> tuple[Tenant, Tenant, str]:
        await state.start()
        acme = await make_tenant(state, "acme", apps=True)
        rival = await make_tenant(state, "rival")
        async with state.db.session() as session:
            # rival's owner is also a member of acme: someone in two organizations
            session.add(
                Membership(
                    organization_id=acme.org.id, user_id=rival["owner"].user.id, role="member"
                )
            )
            key = await state.auth.api_keys.create(
                session, organization_id=acme.org.id, name="bot", role="admin", created_by=None
            )
            await session.commit()
        await state.db.dispose()
        await state.redis.connection_pool.disconnect()
        return acme, rival, key.key

    acme, rival, api_key = asyncio.run(prepare())
    with running_server(app) as url:
        yield World(url, acme, rival, api_key)

    async def cleanup() -> None:
        await close_and_wipe(state)
        await drop_redis_namespace(settings)

    asyncio.run(cleanup())


@asynccontextmanager
async def mcp_client(url: str, headers: dict[str, str]) -> AsyncIterator[ClientSession]:
    """The official client over streamable HTTP, initialized."""
    async with (
        httpx2.AsyncClient(headers=headers, timeout=30) as http,
        streamable_http_client(f"{url}/mcp", http_client=http) as (read, write),
        ClientSession(read, write, read_timeout_seconds=30) as session,
    ):
        await session.initialize()
        yield session


async def tool_names(session: ClientSession) -> set[str]:
    return {tool.name for tool in (await session.list_tools()).tools}


def text(result: types.CallToolResult) -> str:
    return "\n".join(c.text for c in result.content if isinstance(c, types.TextContent))


def org(name: str) -> dict[str, str]:
    return {"X-Organization": name}


def describe_web(**extra: Any) -> dict[str, Any]:
    return {"workspace": "acme-ws", "project": "app", "application": "web", **extra}


async def replicas(session: ClientSession) -> int:
    result = await session.call_tool("describe_application", describe_web())
    assert not result.is_error, text(result)
    assert isinstance(result.structured_content, dict)
    count: int = result.structured_content["data"]["replicas"]
    return count


async def test_the_tool_list_is_the_callers_own(world: World) -> None:
    acme = world.acme
    async with mcp_client(world.url, acme["viewer"].headers) as session:
        viewer = (await session.list_tools()).tools
    names = {tool.name for tool in viewer}
    assert {"describe_application", "list_applications", "get_approval"} <= names
    assert not names & WRITES
    assert all(tool.annotations and tool.annotations.read_only_hint for tool in viewer)

    async with mcp_client(world.url, acme["owner"].headers) as session:
        owner = {tool.name: tool for tool in (await session.list_tools()).tools}
    assert set(owner) >= WRITES
    scale = owner["scale_application"]
    assert scale.input_schema["required"] == ["application", "replicas"]
    assert "approval" in (scale.description or "")
    assert scale.annotations and scale.annotations.read_only_hint is False
    assert owner["delete_workspace"].annotations.destructive_hint  # type: ignore[union-attr]

    # an API key needs no organization: it belongs to one
    async with mcp_client(world.url, {"X-API-Key": world.api_key}) as session:
        assert "scale_application" in await tool_names(session)
    # read-only on request, whoever asks
    read_only = {**acme["owner"].headers, "X-Read-Only": "true"}
    async with mcp_client(world.url, read_only) as session:
        assert not await tool_names(session) & WRITES

    # the high-level client negotiates the current protocol (no handshake): same answer
    async with (
        httpx2.AsyncClient(headers=acme["viewer"].headers, timeout=30) as http,
        Client(streamable_http_client(f"{world.url}/mcp", http_client=http)) as client,
    ):
        assert client.protocol_version not in HANDSHAKE_PROTOCOL_VERSIONS
        assert {tool.name for tool in (await client.list_tools()).tools} == names


async def test_rights_are_read_again_for_every_request(world: World) -> None:
    acme = world.acme
    async with mcp_client(world.url, acme["editor"].headers) as session:
        assert "scale_application" in await tool_names(session)
        async with httpx.AsyncClient(base_url=world.url) as rest:
            demoted = await rest.post(
                "/api/v1/organizations/acme/workspaces/acme-ws/members",
                headers=acme["owner"].headers,
                json={"user_id": str(acme["editor"].user.id), "role": "viewer"},
            )
        assert demoted.status_code == 200, demoted.text
        assert "scale_application" not in await tool_names(session)
        refused = await session.call_tool("scale_application", describe_web(replicas=5))
    assert refused.is_error
    assert "no tool 'scale_application' available to you" in text(refused)


async def test_a_change_waits_for_a_person_to_approve_it_elsewhere(world: World) -> None:
    acme = world.acme
    async with mcp_client(world.url, acme["editor"].headers) as session:
        read = await session.call_tool("describe_application", describe_web())
        assert not read.is_error
        assert text(read).startswith("status: ok\napplication web: 2/2 ready")

        asked = await session.call_tool("scale_application", describe_web(replicas=4))
        assert not asked.is_error
        assert text(asked).startswith("status: approval_required")
        assert isinstance(asked.structured_content, dict)
        approval_id = asked.structured_content["approval_id"]
        assert approval_id in text(asked)
        assert await replicas(session) == 2  # nothing changed yet

        pending = await session.call_tool("get_approval", {"approval_id": approval_id})
        assert "is pending: nothing has changed yet" in text(pending)

        async with httpx.AsyncClient(base_url=world.url, timeout=30) as rest:
            listed = await rest.get(
                "/api/v1/chat/approvals",
                params={"organization": "acme"},
                headers=acme["editor"].headers,
            )
            assert [a["id"] for a in listed.json()] == [approval_id]  # where the UI finds it
            approve = f"/api/v1/chat/approvals/{approval_id}/approve"
            refused = await rest.post(approve, headers=acme["viewer"].headers)
            assert refused.status_code == 403
            assert await replicas(session) == 2
            approved = await rest.post(approve, headers=acme["editor"].headers)
            assert approved.status_code == 200, approved.text
            assert approved.json()["events"][-1]["status"] == "completed"

        assert await replicas(session) == 4
        done = await session.call_tool("get_approval", {"approval_id": approval_id})
        assert not done.is_error
        assert f"was approved by {acme['editor'].user.email}" in text(done)
        assert "scaled web in acme-ws/app from 2 to 4 replicas" in text(done)
        assert isinstance(done.structured_content, dict)
        assert done.structured_content["data"]["result"]["status"] == "ok"

    # not the viewer's to see, nor another organization's
    async with mcp_client(world.url, acme["viewer"].headers) as session:
        hidden = await session.call_tool("get_approval", {"approval_id": approval_id})
        assert hidden.is_error and "not found" in text(hidden)
    async with mcp_client(world.url, world.rival["owner"].headers | org("rival")) as session:
        hidden = await session.call_tool("get_approval", {"approval_id": approval_id})
        assert hidden.is_error and "not found" in text(hidden)


async def test_credentials_and_tenancy_are_enforced(world: World) -> None:
    initialize = {
        "jsonrpc": "2.0",
        "id": 1,
        "method": "initialize",
        "params": {
            "protocolVersion": "2025-11-25",
            "capabilities": {},
            "clientInfo": {"name": "probe", "version": "0"},
        },
    }
    accept = {"Accept": "application/json, text/event-stream"}
    async with httpx.AsyncClient(base_url=world.url) as http:
        for headers in ({}, {"Authorization": "Bearer not-a-token"}, {"X-API-Key": "hxa_nope"}):
            refused = await http.post("/mcp", json=initialize, headers=accept | headers)
            assert refused.status_code == 401, refused.text
            assert refused.json()["error"]["code"] == "unauthenticated"
            assert refused.headers["www-authenticate"] == "Bearer"
        # someone in two organizations must say which
        both = world.rival["owner"].headers
        ambiguous = await http.post("/mcp", json=initialize, headers=accept | both)
        assert ambiguous.status_code == 400
        assert "2 organizations" in ambiguous.json()["error"]["message"]
        # and only one of their own
        foreign = world.acme["owner"].headers | org("rival")
        assert (
            await http.post("/mcp", json=initialize, headers=accept | foreign)
        ).status_code == 404

    with pytest.raises(ExceptionGroup) as failed:
        async with mcp_client(world.url, {}) as session:
            await session.list_tools()
    assert failed.group_contains(MCPError)

    # the owner of rival, a plain member of acme, has in each organization the rights held there
    async with mcp_client(world.url, world.rival["owner"].headers | org("acme")) as session:
        assert "scale_application" not in await tool_names(session)
    async with mcp_client(world.url, world.rival["owner"].headers | org("rival")) as session:
        assert "scale_application" in await tool_names(session)
    async with mcp_client(world.url, world.acme["owner"].headers) as session:
        elsewhere = await session.call_tool(
            "describe_application", describe_web(workspace="rival-ws")
        )
        assert elsewhere.is_error
        assert "workspace 'rival-ws' not found; workspaces you can use: acme-ws" in text(elsewhere)
        unknown = await session.call_tool("get_approval", {"approval_id": uuid.uuid4().hex})
        assert unknown.is_error
