"""The incidents API: what people see of incidents, and who may close them."""

from __future__ import annotations

import httpx
import pytest

from aiops.state import AppState
from tests.support.remediation import set_policy, tick, twin
from tests.support.tenants import Tenant, make_tenant

BASE = "/api/v1/organizations/acme/incidents"
# The crash loop is in web; the less traffic it passes on can also open an anomaly-only incident
# for api or worker (how strongly depends on the twin's seed), so the tests pick web's incident.
WEB = f"{BASE}?application=web"


@pytest.fixture
async def tenant(state: AppState) -> Tenant:
    tenant = await make_tenant(state, "acme", apps=True)
    await set_policy(state, tenant, allowed_actions=["restart"])  # the fix will need approval
    twin(state).inject_fault(str(tenant.workspace.id), "app", "web", "crash_loop")
    await tick(state, state.remediation.monitor, tenant)
    return tenant


async def test_people_of_the_workspace_see_the_incident_and_its_timeline(
    client: httpx.AsyncClient, tenant: Tenant
) -> None:
    listed = await client.get(WEB, headers=tenant["viewer"].headers)
    assert listed.status_code == 200
    [incident] = listed.json()
    assert incident["application"] == "web" and incident["workspace"] == "acme-ws"
    assert incident["status"] == "awaiting_approval" and incident["approval_id"]
    detail = (await client.get(f"{BASE}/{incident['id']}", headers=tenant["viewer"].headers)).json()
    kinds = [entry["kind"] for entry in detail["timeline"]]
    assert kinds[:2] == ["detected", "action_proposed"]
    assert "approval_requested" in kinds
    assert (await client.get(BASE, headers=tenant["member"].headers)).json() == []
    hidden = await client.get(f"{BASE}/{incident['id']}", headers=tenant["member"].headers)
    assert hidden.status_code == 404


async def test_filters(client: httpx.AsyncClient, tenant: Tenant) -> None:
    owner = tenant["owner"].headers
    [web] = (await client.get(WEB, headers=owner)).json()
    assert web["application"] == "web"
    active = (await client.get(f"{BASE}?status=active", headers=owner)).json()
    assert web["id"] in {i["id"] for i in active}
    assert (await client.get(f"{BASE}?status=resolved", headers=owner)).json() == []
    assert (await client.get(f"{BASE}?application=billing", headers=owner)).json() == []
    in_workspace = (await client.get(f"{BASE}?workspace=acme-ws", headers=owner)).json()
    assert web["id"] in {i["id"] for i in in_workspace}
    assert {i["workspace"] for i in in_workspace} == {"acme-ws"}
    assert (await client.get(f"{BASE}?workspace=other-ws", headers=owner)).json() == []
    bad = await client.get(f"{BASE}?status=sleeping", headers=owner)
    assert bad.status_code == 422


async def test_editors_resolve_by_hand_and_viewers_cannot(
    client: httpx.AsyncClient, state: AppState, tenant: Tenant
) -> None:
    [incident] = (await client.get(WEB, headers=tenant["owner"].headers)).json()
    url = f"{BASE}/{incident['id']}/resolve"
    refused = await client.post(url, headers=tenant["viewer"].headers, json={"note": "done"})
    assert refused.status_code == 403
    empty = await client.post(url, headers=tenant["editor"].headers, json={"note": ""})
    assert empty.status_code == 422
    done = await client.post(
        url, headers=tenant["editor"].headers, json={"note": "rolled back by hand"}
    )
    assert done.status_code == 200
    assert done.json()["status"] == "resolved"
    assert "rolled back by hand" in done.json()["timeline"][-1]["summary"]
    again = await client.post(url, headers=tenant["editor"].headers, json={"note": "x"})
    assert again.status_code == 409


async def test_another_organization_never_sees_the_incident(
    client: httpx.AsyncClient, state: AppState, tenant: Tenant
) -> None:
    [incident] = (await client.get(WEB, headers=tenant["owner"].headers)).json()
    other = await make_tenant(state, "globex")
    own = await client.get("/api/v1/organizations/globex/incidents", headers=other["owner"].headers)
    assert own.json() == []
    theirs = await client.get(f"{BASE}/{incident['id']}", headers=other["owner"].headers)
    assert theirs.status_code == 404
    sideways = await client.get(
        f"/api/v1/organizations/globex/incidents/{incident['id']}", headers=other["owner"].headers
    )
    assert sideways.status_code == 404
