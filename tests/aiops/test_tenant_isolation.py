"""Another tenant's objects do not exist for you: 404 on every route, absent from every list."""

from __future__ import annotations

import httpx
import pytest
from fastapi import FastAPI

from aiops.state import AppState
from tests.support.routes import valid_bodies
from tests.support.tenants import Objects, Tenant, make_tenant, populate

ORG_PREFIX = "/api/v1/organizations/{org}"
# Valid bodies: FastAPI checks a body before the route can look the object up.
BODIES = valid_bodies("00000000-0000-0000-0000-000000000000")


def tenant_routes(app: FastAPI) -> list[tuple[str, str]]:
    """Every (method, path template) under an organization, from the OpenAPI document."""
    return sorted(
        (method.upper(), path)
        for path, operations in app.openapi()["paths"].items()
        if path.startswith(ORG_PREFIX)
        for method in operations
    )


def concrete(path: str, objects: Objects) -> str:
    if "/projects/{project}/members/{binding_id}" in path:
        path = path.replace("{binding_id}", objects.values["project_binding_id"])
    return objects.fill(path)


@pytest.fixture
async def two_tenants(state: AppState) -> tuple[Tenant, Tenant, Objects, Objects]:
    a, b = await make_tenant(state, "alpha"), await make_tenant(state, "bravo")
    return a, b, await populate(state, a), await populate(state, b)


async def test_every_route_answers_404_for_another_organizations_objects(
    app: FastAPI, client: httpx.AsyncClient, two_tenants: tuple[Tenant, Tenant, Objects, Objects]
) -> None:
    a, _, _, b_objects = two_tenants
    attacker = a["owner"]  # the strongest role in its own organization
    routes = tenant_routes(app)
    assert len(routes) > 30
    failures = []
    for method, template in routes:
        path = concrete(template, b_objects)
        response = await client.request(method, path, headers=attacker.headers, json={})
        if response.status_code != 404:
            failures.append((method, template, response.status_code))
    assert failures == []


async def test_names_of_another_organizations_objects_are_not_found_either(
    client: httpx.AsyncClient, two_tenants: tuple[Tenant, Tenant, Objects, Objects]
) -> None:
    a, _, _, _ = two_tenants
    headers = a["owner"].headers
    for path in (
        "/api/v1/organizations/bravo",
        "/api/v1/organizations/bravo/workspaces",
        "/api/v1/organizations/bravo/workspaces/bravo-ws",
        "/api/v1/organizations/bravo/workspaces/bravo-ws/projects/app",
        "/api/v1/organizations/bravo/groups/ops",
        "/api/v1/organizations/bravo/audit-log",
        "/api/v1/organizations/bravo/billing/usage",
    ):
        response = await client.get(path, headers=headers)
        assert response.status_code == 404, path
        assert "bravo" not in response.text


async def test_own_organization_path_cannot_reach_into_another_one(
    app: FastAPI, client: httpx.AsyncClient, two_tenants: tuple[Tenant, Tenant, Objects, Objects]
) -> None:
    """Mixing A's organization with B's workspace/project/group ids finds nothing."""
    a, _, a_objects, b_objects = two_tenants
    mixed = Objects({**b_objects.values, "org": a_objects.values["org"]})
    failures = []
    for method, template in tenant_routes(app):
        if template == ORG_PREFIX or template.count("{") < 2:
            continue
        if template.endswith(("/workspaces", "/groups", "/api-keys", "/members")) and (
            template.count("{") == 1
        ):
            continue
        response = await client.request(
            method,
            concrete(template, mixed),
            headers=a["owner"].headers,
            json=BODIES.get((method, template)) or {},
        )
        if response.status_code != 404:
            failures.append((method, template, response.status_code))
    assert failures == []


async def test_lists_only_show_the_callers_tenant(
    client: httpx.AsyncClient, two_tenants: tuple[Tenant, Tenant, Objects, Objects]
) -> None:
    a, b, _, _ = two_tenants
    orgs = await client.get("/api/v1/organizations", headers=a["owner"].headers)
    assert [o["name"] for o in orgs.json()] == ["alpha"]
    me = await client.get("/api/v1/auth/me", headers=a["admin"].headers)
    assert [m["organization"] for m in me.json()["organizations"]] == ["alpha"]
    for path in ("workspaces", "groups", "members", "api-keys", "invitations"):
        own = await client.get(f"/api/v1/organizations/alpha/{path}", headers=a["owner"].headers)
        assert own.status_code == 200, path
        assert str(b.org.id) not in own.text and "bravo" not in own.text, path
    audit = await client.get("/api/v1/organizations/alpha/audit-log", headers=a["owner"].headers)
    assert all(item["target_id"] != str(b.org.id) for item in audit.json()["items"])


async def test_api_key_of_one_organization_sees_nothing_of_another(
    client: httpx.AsyncClient, state: AppState, two_tenants: tuple[Tenant, Tenant, Objects, Objects]
) -> None:
    a, b, _, _ = two_tenants
    async with state.db.session() as session:
        created = await state.auth.api_keys.create(
            session, organization_id=a.org.id, name="admin-bot", role="admin", created_by=None
        )
        await session.commit()
    headers = {"X-API-Key": created.key}
    assert (
        await client.get("/api/v1/organizations/alpha/workspaces", headers=headers)
    ).status_code == 200
    assert (
        await client.get("/api/v1/organizations/bravo/workspaces", headers=headers)
    ).status_code == 404
    assert (
        await client.get(
            f"/api/v1/organizations/{b.org.id}/workspaces/{b.workspace.id}", headers=headers
        )
    ).status_code == 404
