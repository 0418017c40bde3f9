"""Sliding-window rate limits per account, per address and for sign-in: 429 with Retry-After."""

from __future__ import annotations

from typing import Any

import httpx
import pytest

from aiops.state import AppState
from tests.support.tenants import PASSWORD, make_tenant


@pytest.fixture
def settings_overrides() -> dict[str, Any]:
    return {
        "rate_limit_user_per_minute": 5,
        "rate_limit_ip_per_minute": 12,
        "rate_limit_login_per_minute": 3,
    }


async def test_an_account_over_its_limit_gets_429_with_retry_after(
    client: httpx.AsyncClient, state: AppState
) -> None:
    tenant = await make_tenant(state, "acme")
    headers = tenant["owner"].headers
    statuses = [
        (await client.get("/api/v1/organizations", headers=headers)).status_code for _ in range(6)
    ]
    assert statuses == [200] * 5 + [429]
    limited = await client.get("/api/v1/organizations", headers=headers)
    assert limited.status_code == 429
    assert 1 <= int(limited.headers["retry-after"]) <= 60
    assert limited.json()["error"]["code"] == "rate_limited"
    # another account from the same address is still served
    other = await client.get("/api/v1/organizations", headers=tenant["admin"].headers)
    assert other.status_code == 200


async def test_an_address_over_its_limit_gets_429_even_without_credentials(
    client: httpx.AsyncClient,
) -> None:
    statuses = [(await client.get("/api/v1/organizations")).status_code for _ in range(13)]
    assert statuses[:12] == [401] * 12
    assert statuses[12] == 429
    # health checks are never limited
    assert (await client.get("/healthz")).status_code == 200


async def test_sign_in_attempts_are_limited_per_address_and_account(
    client: httpx.AsyncClient, state: AppState
) -> None:
    tenant = await make_tenant(state, "acme")
    email = tenant["owner"].user.email
    body = {"email": email, "password": "guess"}
    statuses = [(await client.post("/api/v1/auth/token", json=body)).status_code for _ in range(4)]
    assert statuses == [401, 401, 401, 429]
    # even the right password waits now: guessing cannot continue
    right = await client.post("/api/v1/auth/token", json={"email": email, "password": PASSWORD})
    assert right.status_code == 429
    assert "retry-after" in right.headers
