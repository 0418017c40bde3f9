"""The chat API: sessions, SSE turns that can be resumed, approvals only by the right people."""

from __future__ import annotations

import asyncio
import json
import uuid

import httpx
import pytest
from sqlalchemy import select

from agents.models.offline import OfflinePlanner
from aiops.state import AppState
from platform_core.audit.models import AuditRecord
from platform_core.cluster.twin.cluster import SimulatedCluster
from tests.support.agent import use_model
from tests.support.tenants import Tenant, make_tenant

CHAT = "/api/v1/chat"


@pytest.fixture
async def tenant(state: AppState) -> Tenant:
    use_model(state, OfflinePlanner(), provider="offline")
    return await make_tenant(state, "acme", apps=True)


def parse_sse(text: str) -> list[dict[str, object]]:
    events = []
    for block in text.strip().split("\n\n"):
        fields = dict(line.split(": ", 1) for line in block.splitlines() if ": " in line)
        events.append(
            {"id": fields["id"], "event": fields["event"], "data": json.loads(fields["data"])}
        )
    return events


async def open_session(client: httpx.AsyncClient, headers: dict[str, str], **body: object) -> str:
    response = await client.post(
        f"{CHAT}/sessions", headers=headers, json={"organization": "acme", **body}
    )
    assert response.status_code == 201, response.text
    return str(response.json()["id"])


async def test_a_multi_step_turn_streams_as_server_sent_events(
    client: httpx.AsyncClient, tenant: Tenant
) -> None:
    headers = tenant["owner"].headers
    session = await open_session(client, headers, workspace="acme-ws", project="app")
    response = await client.post(
        f"{CHAT}/sessions/{session}/messages",
        headers={**headers, "Accept": "text/event-stream"},
        json={"content": "why is web failing?"},
    )
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/event-stream")
    events = parse_sse(response.text)
    kinds = [e["event"] for e in events]
    assert kinds[0] == "session" and kinds[-1] == "final"
    calls = [e["data"]["tool"] for e in events if e["event"] == "tool_call"]
    assert calls == ["describe_application", "list_events", "get_pod_logs", "get_metrics"]
    turn_id = response.headers["x-turn-id"]
    assert [e["id"] for e in events] == [f"{turn_id}:{n}" for n in range(1, len(events) + 1)]
    for call, result in zip(
        [e for e in events if e["event"] == "tool_call"],
        [e for e in events if e["event"] == "tool_result"],
        strict=True,
    ):
        assert call["data"]["call_id"] == result["data"]["call_id"]
    assert "web looks healthy" in events[-1]["data"]["text"]


async def test_a_turn_can_be_resumed_after_the_last_event_seen(
    client: httpx.AsyncClient, tenant: Tenant
) -> None:
    headers = tenant["owner"].headers
    session = await open_session(client, headers, workspace="acme-ws", project="app")
    first = await client.post(
        f"{CHAT}/sessions/{session}/messages",
        headers=headers,
        json={"content": "list applications"},
    )
    assert first.status_code == 200
    body = first.json()
    turn_id = body["turn_id"]
    assert [e["type"] for e in body["events"]] == [
        "session",
        "tool_call",
        "tool_result",
        "delta",
        "final",
    ]
    resumed = await client.get(
        f"{CHAT}/sessions/{session}/turns/{turn_id}/events",
        headers={**headers, "Accept": "text/event-stream", "Last-Event-ID": f"{turn_id}:3"},
    )
    events = parse_sse(resumed.text)
    assert [e["event"] for e in events] == ["delta", "final"]
    assert [e["id"] for e in events] == [f"{turn_id}:4", f"{turn_id}:5"]
    # someone else cannot follow it
    other = await client.get(
        f"{CHAT}/sessions/{session}/turns/{turn_id}/events", headers=tenant["admin"].headers
    )
    assert other.status_code == 404


async def test_approvals_are_decided_only_by_those_allowed(
    client: httpx.AsyncClient, state: AppState, tenant: Tenant
) -> None:
    editor = tenant["editor"].headers
    session = await open_session(client, editor, workspace="acme-ws", project="app")
    asked = await client.post(
        f"{CHAT}/sessions/{session}/messages", headers=editor, json={"content": "scale web to 4"}
    )
    pending = asked.json()["events"][-1]
    assert pending["type"] == "approval_required"
    approval_id = pending["approval_id"]

    listed = await client.get(f"{CHAT}/approvals", headers=editor, params={"organization": "acme"})
    assert [a["id"] for a in listed.json()] == [approval_id]
    viewer_list = await client.get(
        f"{CHAT}/approvals", headers=tenant["viewer"].headers, params={"organization": "acme"}
    )
    assert viewer_list.json() == []
    refused = await client.post(
        f"{CHAT}/approvals/{approval_id}/approve", headers=tenant["viewer"].headers
    )
    assert refused.status_code == 403

    rival = await make_tenant(state, "rival")
    foreign = await client.post(
        f"{CHAT}/approvals/{approval_id}/approve", headers=rival["owner"].headers
    )
    assert foreign.status_code == 404

    twin = state.cluster
    assert isinstance(twin, SimulatedCluster)
    assert (await twin.get_application(str(tenant.workspace.id), "app", "web")).replicas == 2
    approved = await client.post(f"{CHAT}/approvals/{approval_id}/approve", headers=editor)
    assert approved.status_code == 200
    assert approved.json()["events"][-1]["type"] == "final"
    assert (await twin.get_application(str(tenant.workspace.id), "app", "web")).replicas == 4
    again = await client.post(f"{CHAT}/approvals/{approval_id}/approve", headers=editor)
    assert again.status_code == 409


async def test_sessions_are_private_and_validated(
    client: httpx.AsyncClient, tenant: Tenant
) -> None:
    owner, admin = tenant["owner"].headers, tenant["admin"].headers
    session = await open_session(client, owner, workspace="acme-ws")
    assert (await client.get(f"{CHAT}/sessions/{session}", headers=admin)).status_code == 404
    assert (
        await client.post(
            f"{CHAT}/sessions/{session}/messages", headers=admin, json={"content": "hi"}
        )
    ).status_code == 404
    assert (
        await client.post(
            f"{CHAT}/sessions/{session}/messages", headers=owner, json={"content": ""}
        )
    ).status_code == 422
    listed = await client.get(f"{CHAT}/sessions", headers=owner, params={"organization": "acme"})
    assert [s["id"] for s in listed.json()] == [session]
    renamed = await client.patch(f"{CHAT}/sessions/{session}", headers=owner, json={"title": "ops"})
    assert renamed.json()["title"] == "ops"
    await client.post(
        f"{CHAT}/sessions/{session}/messages", headers=owner, json={"content": "hello"}
    )
    detail = await client.get(f"{CHAT}/sessions/{session}", headers=owner)
    assert [m["role"] for m in detail.json()["messages"]] == ["user", "assistant"]
    assert (await client.delete(f"{CHAT}/sessions/{session}", headers=owner)).status_code == 204
    assert (await client.get(f"{CHAT}/sessions/{session}", headers=owner)).status_code == 404
    nowhere = await client.post(f"{CHAT}/sessions", headers=owner, json={"organization": "rival"})
    assert nowhere.status_code == 404


async def test_the_tool_catalogue_follows_the_callers_rights(
    client: httpx.AsyncClient, tenant: Tenant
) -> None:
    def names(response: httpx.Response) -> set[str]:
        return {tool["name"] for tool in response.json()}

    params = {"organization": "acme", "workspace": "acme-ws"}
    owner = names(await client.get(f"{CHAT}/tools", headers=tenant["owner"].headers, params=params))
    viewer = names(
        await client.get(f"{CHAT}/tools", headers=tenant["viewer"].headers, params=params)
    )
    assert {"scale_application", "delete_workspace", "get_usage"} <= owner
    assert "describe_application" in viewer
    assert not viewer & {"scale_application", "delete_workspace", "get_usage"}


async def _audited_actions(state: AppState, request_id: str) -> list[str]:
    async with state.db.session() as session:
        rows = await session.scalars(
            select(AuditRecord.action).where(AuditRecord.request_id == request_id)
        )
        return list(rows)


async def test_a_message_is_on_record_once_and_its_reads_follow_the_answer(
    client: httpx.AsyncClient, tenant: Tenant, state: AppState
) -> None:
    headers = tenant["owner"].headers
    session = await open_session(client, headers, workspace="acme-ws", project="app")
    request_id = uuid.uuid4().hex
    response = await client.post(
        f"{CHAT}/sessions/{session}/messages",
        headers={**headers, "X-Request-ID": request_id},
        json={"content": "list applications"},
    )
    assert response.status_code == 200
    # the call itself is on record once it has been answered
    assert "chat.message" in await _audited_actions(state, request_id)

    # the turn's reads are written with its metering, just after the answer
    for _ in range(200):
        actions = await _audited_actions(state, request_id)
        if "tool.list_applications" in actions:
            break
        await asyncio.sleep(0.01)
    assert sorted(actions) == ["chat.message", "tool.list_applications"]
