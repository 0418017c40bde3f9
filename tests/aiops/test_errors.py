"""Bad input gets a clear 4xx with field detail; nothing leaks a trace or a secret."""

from __future__ import annotations

import httpx
from fastapi import FastAPI

from aiops.state import AppState
from tests.support.tenants import make_tenant


async def test_validation_errors_name_the_fields_and_do_not_echo_secrets(
    client: httpx.AsyncClient,
) -> None:
    response = await client.post(
        "/api/v1/auth/token", json={"email": "not-an-email", "password": "hunter2-secret"}
    )
    assert response.status_code == 422
    error = response.json()["error"]
    assert error["code"] == "validation_error"
    assert [f["field"] for f in error["details"]["fields"]] == ["body.email"]
    assert "hunter2-secret" not in response.text
    assert error["request_id"] == response.headers["x-request-id"]


async def test_malformed_json_and_wrong_types_are_422(
    client: httpx.AsyncClient, state: AppState
) -> None:
    tenant = await make_tenant(state, "acme")
    headers = {**tenant["owner"].headers, "Content-Type": "application/json"}
    url = "/api/v1/organizations/acme/workspaces"
    broken = await client.post(url, headers=headers, content=b"{not json")
    assert broken.status_code == 422
    typed = await client.post(url, headers=headers, json={"name": 42, "plan": "huge"})
    assert typed.status_code == 422
    fields = {f["field"] for f in typed.json()["error"]["details"]["fields"]}
    assert fields == {"body.name", "body.plan"}
    bad_name = await client.post(url, headers=headers, json={"name": "Not_A_DNS_Label"})
    assert bad_name.status_code == 422
    assert "lowercase" in bad_name.json()["error"]["message"]


async def test_unknown_routes_and_methods(client: httpx.AsyncClient) -> None:
    missing = await client.get("/api/v1/nothing-here")
    assert missing.status_code == 404
    assert missing.json()["error"]["code"] == "not_found"
    wrong_method = await client.put("/healthz")
    assert wrong_method.status_code == 405
    assert wrong_method.json()["error"]["code"] == "method_not_allowed"


async def test_an_unexpected_failure_is_a_clean_500_with_the_request_id(
    app: FastAPI, client: httpx.AsyncClient
) -> None:
    @app.get("/api/v1/test-explodes")
    async def explode() -> None:
        raise RuntimeError("secret-connection-string=postgres://u:p@db")

    response = await client.get("/api/v1/test-explodes", headers={"X-Request-ID": "req-500"})
    assert response.status_code == 500
    body = response.json()["error"]
    assert body == {
        "code": "internal_error",
        "message": "an unexpected error occurred; quote the request id",
        "request_id": "req-500",
    }
    assert "secret" not in response.text and "Traceback" not in response.text
    assert response.headers["x-content-type-options"] == "nosniff"


async def test_a_malicious_request_id_is_replaced(client: httpx.AsyncClient) -> None:
    response = await client.get("/healthz", headers={"X-Request-ID": 'x" onload=alert(1)'})
    assert response.headers["x-request-id"] != 'x" onload=alert(1)'
    assert len(response.headers["x-request-id"]) == 32


async def test_metrics_count_requests_by_route_template(client: httpx.AsyncClient) -> None:
    await client.get("/api/v1/organizations/abc/workspaces")
    metrics = (await client.get("/metrics")).text
    assert (
        'aiops_http_requests_total{method="GET",route="/api/v1/organizations/{org}/workspaces",'
        'status="401"}' in metrics
    )
