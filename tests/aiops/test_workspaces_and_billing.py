"""Workspace lifecycle, plan limits and metering as the frontend sees them."""

from __future__ import annotations

from datetime import UTC, datetime

import httpx

from aiops.state import AppState
from platform_core.billing.service import record_usage
from platform_core.cluster.twin.cluster import SimulatedCluster
from tests.support.tenants import make_tenant

ORG = "/api/v1/organizations/acme"


async def test_workspace_lifecycle_follows_its_cluster(
    client: httpx.AsyncClient, state: AppState
) -> None:
    tenant = await make_tenant(state, "acme")
    headers = tenant["owner"].headers
    twin = state.cluster
    assert isinstance(twin, SimulatedCluster)
    created = await client.post(f"{ORG}/workspaces", headers=headers, json={"name": "staging"})
    assert created.status_code == 201
    assert created.json()["status"] == "provisioning"
    assert (await twin.get_workspace(created.json()["id"])).phase == "provisioning"
    early = await client.post(
        f"{ORG}/workspaces/staging/projects", headers=headers, json={"name": "svc"}
    )
    assert early.status_code == 409 and "provisioning" in early.json()["error"]["message"]

    await twin.advance(120)
    assert (await client.get(f"{ORG}/workspaces/staging", headers=headers)).json()["status"] == (
        "active"
    )
    project = await client.post(
        f"{ORG}/workspaces/staging/projects", headers=headers, json={"name": "svc"}
    )
    assert project.status_code == 201
    names = {ns.name for ns in await twin.list_namespaces(created.json()["id"])}
    assert "svc" in names

    suspended = await client.patch(
        f"{ORG}/workspaces/staging", headers=headers, json={"status": "suspended"}
    )
    assert suspended.json()["status"] == "suspended"
    assert (await twin.get_workspace(created.json()["id"])).phase == "suspended"
    resumed = await client.patch(
        f"{ORG}/workspaces/staging", headers=headers, json={"status": "active"}
    )
    assert resumed.json()["status"] == "active"

    deleted = await client.delete(f"{ORG}/workspaces/staging", headers=headers)
    assert deleted.status_code == 200 and deleted.json()["status"] == "terminating"
    await twin.advance(600)
    assert (await client.get(f"{ORG}/workspaces/staging", headers=headers)).status_code == 404
    names = [w["name"] for w in (await client.get(f"{ORG}/workspaces", headers=headers)).json()]
    assert "staging" not in names
    again = await client.post(f"{ORG}/workspaces", headers=headers, json={"name": "staging"})
    assert again.status_code == 201  # the name is free again


async def test_duplicate_names_conflict(client: httpx.AsyncClient, state: AppState) -> None:
    tenant = await make_tenant(state, "acme")
    headers = tenant["owner"].headers
    duplicate = await client.post(
        f"{ORG}/workspaces", headers=headers, json={"name": tenant.workspace.name}
    )
    assert duplicate.status_code == 409
    org = await client.post("/api/v1/organizations", headers=headers, json={"name": "acme"})
    assert org.status_code == 409


async def test_plan_limits_refuse_with_402(client: httpx.AsyncClient, state: AppState) -> None:
    tenant = await make_tenant(state, "acme", plan="free")  # one workspace, five projects
    headers = tenant["owner"].headers
    refused = await client.post(f"{ORG}/workspaces", headers=headers, json={"name": "second"})
    assert refused.status_code == 402
    error = refused.json()["error"]
    assert error["code"] == "plan_limit_exceeded"
    assert error["details"] == {"plan": "free", "limit": 1, "used": 1}
    dedicated = await client.post(
        f"{ORG}/workspaces", headers=headers, json={"name": "big", "plan": "dedicated"}
    )
    assert dedicated.status_code == 402 and "dedicated" in dedicated.json()["error"]["message"]
    projects = f"{ORG}/workspaces/{tenant.workspace.name}/projects"
    statuses = [
        (await client.post(projects, headers=headers, json={"name": f"p{i}"})).status_code
        for i in range(5)
    ]
    assert statuses == [201, 201, 201, 201, 402]  # the tenant starts with one project


async def test_usage_is_metered_per_day_and_checked_against_the_plan(
    client: httpx.AsyncClient, state: AppState
) -> None:
    tenant = await make_tenant(state, "acme")
    today = datetime.now(UTC)
    async with state.db.session() as session:
        await record_usage(session, tenant.org.id, "llm_tokens_in", 1200, at=today)
        await record_usage(session, tenant.org.id, "llm_tokens_in", 300, at=today)
        await record_usage(session, tenant.org.id, "llm_tokens_out", 500, at=today)
        await record_usage(session, tenant.org.id, "function_invocations", 7, at=today)
        await session.commit()
    usage = await client.get(f"{ORG}/billing/usage", headers=tenant["owner"].headers)
    assert usage.status_code == 200
    body = usage.json()
    assert body["totals"]["llm_tokens_in"] == 1500
    assert body["totals"]["tool_calls"] == 0
    assert body["limits"]["llm_tokens_per_month"] == {"used": 2000, "limit": 5_000_000}
    days = {(d["meter"], d["quantity"]) for d in body["days"]}
    assert ("llm_tokens_in", 1500) in days
    subscription = await client.get(f"{ORG}/billing/subscription", headers=tenant["owner"].headers)
    assert subscription.json()["plan"]["id"] == "team"
    assert subscription.json()["status"] == "active"
    plans = await client.get("/api/v1/billing/plans", headers=tenant["viewer"].headers)
    assert [p["id"] for p in plans.json()] == ["free", "team", "enterprise"]
    assert (
        await client.get(f"{ORG}/billing/usage", headers=tenant["viewer"].headers)
    ).status_code == 403
    backwards = await client.get(
        f"{ORG}/billing/usage",
        headers=tenant["owner"].headers,
        params={"since": "2026-02-01", "until": "2026-01-01"},
    )
    assert backwards.status_code == 422


async def test_organization_create_and_delete(client: httpx.AsyncClient, state: AppState) -> None:
    tenant = await make_tenant(state, "acme")
    headers = tenant["editor"].headers
    created = await client.post(
        "/api/v1/organizations", headers=headers, json={"name": "side-project"}
    )
    assert created.status_code == 201 and created.json()["role"] == "owner"
    plan = await client.get("/api/v1/organizations/side-project/billing/plan", headers=headers)
    assert plan.json()["id"] == "free"
    ws = await client.post(
        "/api/v1/organizations/side-project/workspaces", headers=headers, json={"name": "w"}
    )
    assert ws.status_code == 201
    blocked = await client.delete("/api/v1/organizations/side-project", headers=headers)
    assert blocked.status_code == 409
    await client.delete("/api/v1/organizations/side-project/workspaces/w", headers=headers)
    await state.cluster.advance(600)  # type: ignore[attr-defined]
    await client.get("/api/v1/organizations/side-project/workspaces", headers=headers)
    deleted = await client.delete("/api/v1/organizations/side-project", headers=headers)
    assert deleted.status_code == 204
    assert (
        await client.get("/api/v1/organizations/side-project", headers=headers)
    ).status_code == 404
