"""Project trees and quotas, invitations end to end, groups."""

from __future__ import annotations

import httpx

from aiops.state import AppState
from tests.support.tenants import make_tenant

ORG = "/api/v1/organizations/acme"


async def test_sub_project_quotas_stay_within_the_parent(
    client: httpx.AsyncClient, state: AppState
) -> None:
    tenant = await make_tenant(state, "acme")  # project "app": cpu 16, memory 32Gi
    projects = f"{ORG}/workspaces/{tenant.workspace.name}/projects"
    headers = tenant["owner"].headers
    too_big = await client.post(
        projects,
        headers=headers,
        json={"name": "big", "parent": "app", "quota": {"cpu": "20", "memory": "1Gi"}},
    )
    assert too_big.status_code == 422
    assert too_big.json()["error"]["details"]["field"] == "quota.cpu"
    child = await client.post(
        projects,
        headers=headers,
        json={"name": "small", "parent": "app", "quota": {"cpu": "1500m", "memory": "2Gi"}},
    )
    assert child.status_code == 201
    assert child.json()["parent_id"] == str(tenant.project.id)
    shrink = await client.patch(
        f"{projects}/app", headers=headers, json={"quota": {"cpu": "1", "memory": "32Gi"}}
    )
    assert shrink.status_code == 422
    bad_unit = await client.post(
        projects, headers=headers, json={"name": "odd", "quota": {"memory": "lots"}}
    )
    assert bad_unit.status_code == 422
    assert (await client.delete(f"{projects}/app", headers=headers)).status_code == 409
    assert (await client.delete(f"{projects}/small", headers=headers)).status_code == 204
    assert (await client.delete(f"{projects}/app", headers=headers)).status_code == 204


async def test_projects_nest_at_most_five_deep(client: httpx.AsyncClient, state: AppState) -> None:
    tenant = await make_tenant(state, "acme")
    projects = f"{ORG}/workspaces/{tenant.workspace.name}/projects"
    headers = tenant["owner"].headers
    parent = "app"
    for depth in range(4):
        made = await client.post(
            projects, headers=headers, json={"name": f"level{depth}", "parent": parent}
        )
        assert made.status_code == 201
        parent = f"level{depth}"
    too_deep = await client.post(projects, headers=headers, json={"name": "deep", "parent": parent})
    assert too_deep.status_code == 422


async def test_invitation_for_a_new_person(client: httpx.AsyncClient, state: AppState) -> None:
    tenant = await make_tenant(state, "acme")
    invited = await client.post(
        f"{ORG}/invitations",
        headers=tenant["admin"].headers,
        json={"email": "New.Person@Example.org", "role": "admin"},
    )
    assert invited.status_code == 201
    token = invited.json()["token"]
    listed = await client.get(f"{ORG}/invitations", headers=tenant["admin"].headers)
    assert token not in listed.text
    incomplete = await client.post("/api/v1/invitations/accept", json={"token": token})
    assert incomplete.status_code == 422
    accepted = await client.post(
        "/api/v1/invitations/accept",
        json={"token": token, "name": "New Person", "password": "a-good-password"},
    )
    assert accepted.status_code == 200 and accepted.json()["role"] == "admin"
    login = await client.post(
        "/api/v1/auth/token",
        json={"email": "new.person@example.org", "password": "a-good-password"},
    )
    headers = {"Authorization": f"Bearer {login.json()['access_token']}"}
    assert (await client.get(f"{ORG}/members", headers=headers)).status_code == 200
    twice = await client.post(
        "/api/v1/invitations/accept",
        json={"token": token, "name": "x", "password": "another-password"},
    )
    assert twice.status_code == 409


async def test_invitation_for_an_existing_account_needs_that_account(
    client: httpx.AsyncClient, state: AppState
) -> None:
    acme = await make_tenant(state, "acme")
    other = await make_tenant(state, "other")
    outsider = other["editor"]
    invited = await client.post(
        f"{ORG}/invitations",
        headers=acme["owner"].headers,
        json={"email": outsider.user.email},
    )
    token = invited.json()["token"]
    anonymous = await client.post(
        "/api/v1/invitations/accept", json={"token": token, "name": "x", "password": "password-1"}
    )
    assert anonymous.status_code == 401
    wrong_person = await client.post(
        "/api/v1/invitations/accept", headers=other["viewer"].headers, json={"token": token}
    )
    assert wrong_person.status_code == 403
    accepted = await client.post(
        "/api/v1/invitations/accept", headers=outsider.headers, json={"token": token}
    )
    assert accepted.status_code == 200 and accepted.json()["name"] == "acme"


async def test_revoked_invitation_cannot_be_used_and_admins_only_invite(
    client: httpx.AsyncClient, state: AppState
) -> None:
    tenant = await make_tenant(state, "acme")
    assert (
        await client.post(
            f"{ORG}/invitations", headers=tenant["editor"].headers, json={"email": "a@b.org"}
        )
    ).status_code == 403
    owner_invite = await client.post(
        f"{ORG}/invitations",
        headers=tenant["admin"].headers,
        json={"email": "a@b.org", "role": "owner"},
    )
    assert owner_invite.status_code == 403
    invited = await client.post(
        f"{ORG}/invitations", headers=tenant["admin"].headers, json={"email": "a@b.org"}
    )
    revoke = await client.delete(
        f"{ORG}/invitations/{invited.json()['id']}", headers=tenant["admin"].headers
    )
    assert revoke.status_code == 204
    used = await client.post(
        "/api/v1/invitations/accept",
        json={"token": invited.json()["token"], "name": "A", "password": "password-1"},
    )
    assert used.status_code == 404


async def test_groups_crud(client: httpx.AsyncClient, state: AppState) -> None:
    tenant = await make_tenant(state, "acme")
    headers = tenant["admin"].headers
    created = await client.post(
        f"{ORG}/groups", headers=headers, json={"name": "dev", "description": "developers"}
    )
    assert created.status_code == 201
    added = await client.post(
        f"{ORG}/groups/dev/members", headers=headers, json={"email": tenant["viewer"].user.email}
    )
    assert added.status_code == 201
    again = await client.post(
        f"{ORG}/groups/dev/members", headers=headers, json={"email": tenant["viewer"].user.email}
    )
    assert again.status_code == 409
    outsider = await client.post(
        f"{ORG}/groups/dev/members", headers=headers, json={"email": "nobody@elsewhere.org"}
    )
    assert outsider.status_code == 404
    group = (await client.get(f"{ORG}/groups/dev", headers=tenant["viewer"].headers)).json()
    assert group["member_count"] == 1
    assert (await client.delete(f"{ORG}/groups/dev", headers=headers)).status_code == 204
