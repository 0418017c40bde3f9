"""First contact: health, sign-in and the demo flow a user would try first."""

from __future__ import annotations

import httpx

from aiops.state import AppState
from platform_core.demo import seed_demo
from tests.support.tenants import PASSWORD, make_tenant


async def test_healthz_answers_with_request_id_and_security_headers(
    client: httpx.AsyncClient,
) -> None:
    response = await client.get("/healthz", headers={"X-Request-ID": "abc-123"})
    assert response.status_code == 200
    assert response.headers["x-request-id"] == "abc-123"
    assert response.headers["x-content-type-options"] == "nosniff"
    assert response.headers["x-frame-options"] == "DENY"
    assert "frame-ancestors 'none'" in response.headers["content-security-policy"]


async def test_readyz_checks_database_and_redis(client: httpx.AsyncClient) -> None:
    response = await client.get("/readyz")
    assert response.status_code == 200
    names = {check["name"]: check["ok"] for check in response.json()["checks"]}
    assert names == {"database": True, "redis": True}


async def test_login_then_list_workspaces(client: httpx.AsyncClient, state: AppState) -> None:
    tenant = await make_tenant(state, "acme")
    login = await client.post(
        "/api/v1/auth/token", json={"email": tenant["owner"].user.email, "password": PASSWORD}
    )
    assert login.status_code == 200, login.text
    token = login.json()["access_token"]
    response = await client.get(
        "/api/v1/organizations/acme/workspaces", headers={"Authorization": f"Bearer {token}"}
    )
    assert response.status_code == 200
    assert [w["name"] for w in response.json()] == ["acme-ws"]


async def test_demo_seed_is_idempotent_and_lists_the_demo_workspace(
    client: httpx.AsyncClient, state: AppState
) -> None:
    for _ in range(2):
        async with state.db.session() as session:
            demo = await seed_demo(session, state.settings, state.auth.passwords)
            await session.commit()
    login = await client.post(
        "/api/v1/auth/token", json={"email": "admin@demo.local", "password": "hexabase-demo"}
    )
    headers = {"Authorization": f"Bearer {login.json()['access_token']}"}
    workspaces = await client.get("/api/v1/organizations/demo/workspaces", headers=headers)
    assert [w["name"] for w in workspaces.json()] == ["demo"]
    projects = await client.get(
        f"/api/v1/organizations/demo/workspaces/{demo.workspace.id}/projects", headers=headers
    )
    assert [p["name"] for p in projects.json()] == ["default"]
