"""Roles decide what a person may change; a refused change changes nothing."""

from __future__ import annotations

import httpx
from fastapi import FastAPI
from sqlalchemy import func, select

from aiops.state import AppState
from platform_core.db.models import Base
from tests.support.routes import ORG, mutating_operations, valid_bodies
from tests.support.tenants import make_tenant, populate


async def _row_counts(state: AppState) -> dict[str, int]:
    counts = {}
    async with state.db.session() as session:
        for table in Base.metadata.sorted_tables:
            if table.name != "audit_log":
                counts[table.name] = int(
                    await session.scalar(select(func.count()).select_from(table)) or 0
                )
    return counts


async def test_a_viewer_cannot_mutate_anything_in_its_organization(
    app: FastAPI, client: httpx.AsyncClient, state: AppState
) -> None:
    tenant = await make_tenant(state, "acme")
    objects = await populate(state, tenant)
    viewer = tenant["viewer"]
    bodies = valid_bodies(str(viewer.user.id))
    before = await _row_counts(state)
    allowed_anyway = []
    for method, template in mutating_operations(app):
        if not template.startswith(ORG):
            continue
        assert (method, template) in bodies, f"add a valid body for {method} {template}"
        path = objects.fill(
            template.replace(
                "/projects/{project}/members/{binding_id}",
                "/projects/{project}/members/{project_binding_id}",
            )
        )
        response = await client.request(
            method, path, headers=viewer.headers, json=bodies[(method, template)]
        )
        if response.status_code != 403:
            allowed_anyway.append((method, template, response.status_code, response.text[:120]))
    assert allowed_anyway == []
    assert await _row_counts(state) == before


async def test_workspace_roles_grade_what_can_be_done(
    client: httpx.AsyncClient, state: AppState
) -> None:
    tenant = await make_tenant(state, "acme")
    ws = f"/api/v1/organizations/acme/workspaces/{tenant.workspace.name}"
    editor, ws_admin, member = tenant["editor"], tenant["ws_admin"], tenant["member"]

    created = await client.post(f"{ws}/projects", headers=editor.headers, json={"name": "svc"})
    assert created.status_code == 201
    assert (await client.delete(f"{ws}/projects/svc", headers=editor.headers)).status_code == 403
    assert (await client.delete(f"{ws}", headers=editor.headers)).status_code == 403
    grant = {"user_id": str(member.user.id), "role": "viewer"}
    assert (
        await client.post(f"{ws}/members", headers=editor.headers, json=grant)
    ).status_code == 403

    # an organization member without a workspace role does not even see the workspace
    assert (await client.get(ws, headers=member.headers)).status_code == 404
    assert (
        await client.post(f"{ws}/members", headers=ws_admin.headers, json=grant)
    ).status_code == 200
    assert (await client.get(ws, headers=member.headers)).status_code == 200
    assert (await client.delete(f"{ws}/projects/svc", headers=ws_admin.headers)).status_code == 204


async def test_project_role_reaches_sub_projects_but_not_siblings(
    client: httpx.AsyncClient, state: AppState
) -> None:
    tenant = await make_tenant(state, "acme")
    base = f"/api/v1/organizations/acme/workspaces/{tenant.workspace.name}/projects"
    owner, member = tenant["owner"], tenant["member"]
    for body in ({"name": "team"}, {"name": "team-api", "parent": "team"}, {"name": "other"}):
        assert (await client.post(base, headers=owner.headers, json=body)).status_code == 201
    grant = {"email": member.user.email, "role": "developer"}
    assert (
        await client.post(f"{base}/team/members", headers=owner.headers, json=grant)
    ).status_code == 200

    listed = await client.get(base, headers=member.headers)
    assert sorted(p["name"] for p in listed.json()) == ["team", "team-api"]
    assert (await client.get(f"{base}/team-api", headers=member.headers)).status_code == 200
    assert (await client.get(f"{base}/other", headers=member.headers)).status_code == 404
    # a developer may not restructure the project tree
    sub = {"name": "team-new", "parent": "team"}
    assert (await client.post(base, headers=member.headers, json=sub)).status_code == 403


async def test_group_roles_apply_to_its_members_and_stop_when_removed(
    client: httpx.AsyncClient, state: AppState
) -> None:
    tenant = await make_tenant(state, "acme")
    org = "/api/v1/organizations/acme"
    ws = f"{org}/workspaces/{tenant.workspace.name}"
    owner, member = tenant["owner"], tenant["member"]
    assert (
        await client.post(f"{org}/groups", headers=owner.headers, json={"name": "sre"})
    ).status_code == 201
    add = {"user_id": str(member.user.id)}
    assert (
        await client.post(f"{org}/groups/sre/members", headers=owner.headers, json=add)
    ).status_code == 201
    grant = await client.post(
        f"{ws}/members", headers=owner.headers, json={"group": "sre", "role": "editor"}
    )
    assert grant.status_code == 200 and grant.json()["group_name"] == "sre"

    created = await client.post(
        f"{ws}/projects", headers=member.headers, json={"name": "via-group"}
    )
    assert created.status_code == 201
    removed = await client.delete(
        f"{org}/groups/sre/members/{member.user.id}", headers=owner.headers
    )
    assert removed.status_code == 204
    assert (await client.get(ws, headers=member.headers)).status_code == 404


async def test_only_owners_make_owners_and_the_last_owner_stays(
    client: httpx.AsyncClient, state: AppState
) -> None:
    tenant = await make_tenant(state, "acme")
    members = "/api/v1/organizations/acme/members"
    owner, admin, member = tenant["owner"], tenant["admin"], tenant["member"]
    promote = {"role": "owner"}
    assert (
        await client.patch(f"{members}/{member.user.id}", headers=admin.headers, json=promote)
    ).status_code == 403
    assert (
        await client.patch(
            f"{members}/{owner.user.id}", headers=admin.headers, json={"role": "member"}
        )
    ).status_code == 403
    last = await client.patch(
        f"{members}/{owner.user.id}", headers=owner.headers, json={"role": "admin"}
    )
    assert last.status_code == 409
    assert (
        await client.delete(f"{members}/{owner.user.id}", headers=owner.headers)
    ).status_code == 409
    assert (
        await client.patch(f"{members}/{member.user.id}", headers=owner.headers, json=promote)
    ).status_code == 200
    assert (
        await client.patch(
            f"{members}/{owner.user.id}", headers=owner.headers, json={"role": "admin"}
        )
    ).status_code == 200


async def test_a_member_can_leave_and_loses_access(
    client: httpx.AsyncClient, state: AppState
) -> None:
    tenant = await make_tenant(state, "acme")
    editor = tenant["editor"]
    left = await client.delete(
        f"/api/v1/organizations/acme/members/{editor.user.id}", headers=editor.headers
    )
    assert left.status_code == 204
    assert (
        await client.get("/api/v1/organizations/acme", headers=editor.headers)
    ).status_code == 404


async def test_a_suspended_organization_is_read_only(
    client: httpx.AsyncClient, state: AppState
) -> None:
    tenant = await make_tenant(state, "acme")
    async with state.db.session() as session:
        org = await session.get(type(tenant.org), tenant.org.id)
        assert org is not None
        org.status = "suspended"
        await session.commit()
    owner = tenant["owner"]
    workspaces = "/api/v1/organizations/acme/workspaces"
    assert (await client.get(workspaces, headers=owner.headers)).status_code == 200
    refused = await client.post(workspaces, headers=owner.headers, json={"name": "more"})
    assert refused.status_code == 403
    assert "suspended" in refused.json()["error"]["message"]
