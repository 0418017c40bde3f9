"""Every mutating call leaves an audit record: who, what, target, outcome and request id."""

from __future__ import annotations

import uuid

import httpx
from fastapi import FastAPI
from sqlalchemy import select

from aiops.state import AppState
from platform_core.audit.models import AuditRecord
from tests.support.routes import mutating_operations, valid_bodies
from tests.support.tenants import make_tenant, populate


async def _record(state: AppState, request_id: str) -> AuditRecord | None:
    async with state.db.session() as session:
        return await session.scalar(select(AuditRecord).where(AuditRecord.request_id == request_id))


def _expected_outcome(status: int) -> str:
    if status < 400:
        return "success"
    return "denied" if status in (401, 403, 404) else "failed"


async def test_every_mutating_operation_is_audited_whatever_its_outcome(
    app: FastAPI, client: httpx.AsyncClient, state: AppState
) -> None:
    tenant = await make_tenant(state, "acme")
    objects = await populate(state, tenant)
    owner = tenant["owner"]
    bodies = valid_bodies(str(tenant["member"].user.id))
    operations = mutating_operations(app)
    # creations first, deletions last, the organization itself at the very end
    operations.sort(key=lambda op: (op[0] == "DELETE", op[1].count("/") * -1))
    missing = []
    for caller, body_kind in ((owner, "valid"), (tenant["viewer"], "valid"), (owner, "invalid")):
        for method, template in operations:
            assert (method, template) in bodies, f"add a valid body for {method} {template}"
            path = objects.fill(
                template.replace(
                    "/projects/{project}/members/{binding_id}",
                    "/projects/{project}/members/{project_binding_id}",
                )
            )
            body = bodies[(method, template)] if body_kind == "valid" else {"unexpected": [1]}
            request_id = uuid.uuid4().hex
            response = await client.request(
                method,
                path,
                json=body,
                headers={**caller.headers, "X-Request-ID": request_id},
            )
            row = await _record(state, request_id)
            if row is None:
                missing.append((body_kind, method, template, response.status_code))
                continue
            assert row.outcome == _expected_outcome(response.status_code), (method, template)
            assert row.status_code in (None, response.status_code)
            if row.actor_type != "user" or row.actor_id == "anonymous":
                continue
            assert row.actor_user_id == caller.user.id or template.startswith("/api/v1/auth/")
    assert missing == []


async def test_audit_log_filters_and_paginates(client: httpx.AsyncClient, state: AppState) -> None:
    tenant = await make_tenant(state, "acme")
    owner = tenant["owner"]
    base = f"/api/v1/organizations/acme/workspaces/{tenant.workspace.name}/projects"
    for index in range(5):
        created = await client.post(base, headers=owner.headers, json={"name": f"p{index}"})
        assert created.status_code == 201
    await client.post(base, headers=tenant["viewer"].headers, json={"name": "nope"})

    audit = "/api/v1/organizations/acme/audit-log"
    page = (
        await client.get(
            audit,
            headers=owner.headers,
            params={"action": "project.create", "outcome": "success", "limit": 2},
        )
    ).json()
    assert len(page["items"]) == 2 and page["next_cursor"]
    names = [item["details"]["name"] for item in page["items"]]
    rest = (
        await client.get(
            audit,
            headers=owner.headers,
            params={
                "action": "project.create",
                "outcome": "success",
                "limit": 10,
                "cursor": page["next_cursor"],
            },
        )
    ).json()
    names += [item["details"]["name"] for item in rest["items"]]
    assert names == ["p4", "p3", "p2", "p1", "p0"] and rest["next_cursor"] is None

    denied = (await client.get(audit, headers=owner.headers, params={"outcome": "denied"})).json()
    assert [item["actor_user_id"] for item in denied["items"]] == [str(tenant["viewer"].user.id)]
    prefix = (await client.get(audit, headers=owner.headers, params={"action": "project.*"})).json()
    assert {item["action"] for item in prefix["items"]} == {"project.create"}
    assert len(prefix["items"]) == 6
    # only organization admins read the audit log
    assert (await client.get(audit, headers=tenant["editor"].headers)).status_code == 403
