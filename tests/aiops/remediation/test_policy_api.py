"""Remediation policies over the API: validated, admin-only, and with their own identity."""

from __future__ import annotations

import httpx
import pytest

from aiops.state import AppState
from tests.support.tenants import Tenant, make_tenant

POLICY = "/api/v1/organizations/acme/workspaces/acme-ws/remediation-policy"


@pytest.fixture
async def tenant(state: AppState) -> Tenant:
    return await make_tenant(state, "acme")


async def test_a_workspace_admin_creates_replaces_and_deletes_the_policy(
    client: httpx.AsyncClient, tenant: Tenant
) -> None:
    admin = tenant["ws_admin"].headers
    assert (await client.get(POLICY, headers=admin)).status_code == 404
    created = await client.put(POLICY, headers=admin, json={"max_replicas": 6})
    assert created.status_code == 201
    policy = created.json()
    assert policy["allowed_actions"] == ["restart", "scale", "rollback", "raise_limits"]
    assert policy["max_replicas"] == 6 and policy["service_key_id"]
    keys = (
        await client.get("/api/v1/organizations/acme/api-keys", headers=tenant["owner"].headers)
    ).json()
    identity = next(k for k in keys if k["id"] == policy["service_key_id"])
    assert identity["name"] == "remediation: acme-ws"
    replaced = await client.put(POLICY, headers=admin, json={"allowed_actions": ["restart"]})
    assert replaced.status_code == 200
    assert replaced.json()["allowed_actions"] == ["restart"]
    assert replaced.json()["max_replicas"] == 10  # PUT replaces the whole policy
    assert replaced.json()["service_key_id"] == policy["service_key_id"]
    listed = await client.get(
        "/api/v1/organizations/acme/remediation-policies", headers=tenant["viewer"].headers
    )
    assert [p["workspace"] for p in listed.json()] == ["acme-ws"]
    assert (await client.delete(POLICY, headers=admin)).status_code == 204
    keys = (
        await client.get("/api/v1/organizations/acme/api-keys", headers=tenant["owner"].headers)
    ).json()
    revoked = next(k for k in keys if k["id"] == policy["service_key_id"])
    assert revoked["revoked_at"] is not None


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"min_replicas": 5, "max_replicas": 2}, "min_replicas"),
        ({"allowed_actions": ["delete"]}, "allowed_actions"),
        ({"allowed_actions": ["restart", "restart"]}, "twice"),
        ({"max_memory_limit": "lots"}, "max_memory_limit"),
        ({"max_actions_per_hour": 0}, "max_actions_per_hour"),
        ({"applications": ["Not A Name"]}, "applications"),
        ({"surprise": True}, "surprise"),
    ],
)
async def test_invalid_policies_are_refused_with_field_detail(
    client: httpx.AsyncClient, tenant: Tenant, body: dict[str, object], field: str
) -> None:
    refused = await client.put(POLICY, headers=tenant["ws_admin"].headers, json=body)
    assert refused.status_code == 422
    assert field in refused.text
    assert (await client.get(POLICY, headers=tenant["ws_admin"].headers)).status_code == 404


async def test_only_admins_change_the_policy(client: httpx.AsyncClient, tenant: Tenant) -> None:
    assert (await client.put(POLICY, headers=tenant["editor"].headers, json={})).status_code == 403
    assert (await client.get(POLICY, headers=tenant["member"].headers)).status_code == 404
