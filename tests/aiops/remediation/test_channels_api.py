"""Notification channels over the API: validated per kind, secrets never shown again."""

from __future__ import annotations

from collections.abc import AsyncIterator

import httpx
import pytest
from sqlalchemy import select

from aiops.state import AppState
from platform_core.auth.secrets import SecretBox
from platform_core.notifications.models import NotificationChannel
from platform_core.notifications.service import BOX_PURPOSE
from tests.support.fake_receivers import FakeReceiver
from tests.support.tenants import Tenant, make_tenant

BASE = "/api/v1/organizations/acme/notification-channels"
SECRET = "very-secret-signing-key-123"


@pytest.fixture
def settings_overrides() -> dict[str, object]:
    return {"notify_allow_private_networks": True}


@pytest.fixture
async def tenant(state: AppState) -> Tenant:
    return await make_tenant(state, "acme")


@pytest.fixture
async def receiver() -> AsyncIterator[FakeReceiver]:
    async with FakeReceiver() as fake:
        yield fake


async def test_a_channel_is_stored_encrypted_and_shown_masked(
    client: httpx.AsyncClient, state: AppState, tenant: Tenant, receiver: FakeReceiver
) -> None:
    owner = tenant["owner"].headers
    body = {
        "name": "on-call",
        "settings": {"kind": "webhook", "url": receiver.url("/hook?token=abc"), "secret": SECRET},
        "events": ["approval_requested", "incident_escalated"],
        "workspace": "acme-ws",
    }
    created = await client.post(BASE, headers=owner, json=body)
    assert created.status_code == 201, created.text
    channel = created.json()
    assert SECRET not in created.text and "token=abc" not in created.text
    assert channel["settings"]["secret"] != SECRET
    assert channel["workspace_id"] == str(tenant.workspace.id)
    async with state.db.session() as session:
        row = await session.scalar(select(NotificationChannel))
    assert row is not None and SECRET not in row.settings_encrypted
    box = SecretBox(state.settings.secret_key.get_secret_value(), BOX_PURPOSE)
    assert SECRET in (box.open(row.settings_encrypted) or "")

    tested = await client.post(f"{BASE}/{channel['id']}/test", headers=owner)
    assert tested.status_code == 200 and tested.json()["ok"] is True
    assert receiver.requests[-1].json()["event"] == "incident_updated"
    listed = (await client.get(BASE, headers=owner)).json()
    assert listed[0]["last_delivery_at"] and listed[0]["last_delivery_error"] is None

    duplicate = await client.post(BASE, headers=owner, json=body)
    assert duplicate.status_code == 409
    assert (await client.delete(f"{BASE}/{channel['id']}", headers=owner)).status_code == 204
    assert (await client.get(BASE, headers=owner)).json() == []


@pytest.mark.parametrize(
    ("channel_settings", "field"),
    [
        ({"kind": "webhook", "url": "ftp://x.example.org", "secret": SECRET}, "url"),
        ({"kind": "webhook", "url": "https://x.example.org", "secret": "short"}, "secret"),
        ({"kind": "email", "to": [], "from_address": "a@b.org", "smtp_host": "mx"}, "to"),
        ({"kind": "pager", "url": "https://x.example.org"}, "kind"),
        ({"kind": "slack_bot", "token": "xoxb-1", "channel": "bad channel!"}, "channel"),
    ],
)
async def test_invalid_settings_are_refused_with_field_detail(
    client: httpx.AsyncClient, tenant: Tenant, channel_settings: dict[str, object], field: str
) -> None:
    refused = await client.post(
        BASE, headers=tenant["owner"].headers, json={"name": "x", "settings": channel_settings}
    )
    assert refused.status_code == 422
    assert field in refused.text
    assert SECRET not in refused.text


async def test_only_organization_admins_manage_channels(
    client: httpx.AsyncClient, tenant: Tenant
) -> None:
    body = {"name": "x", "settings": {"kind": "slack_webhook", "url": "https://hooks.slack.com/x"}}
    assert (
        await client.post(BASE, headers=tenant["ws_admin"].headers, json=body)
    ).status_code == 403
    assert (await client.get(BASE, headers=tenant["editor"].headers)).status_code == 403
    assert (await client.post(BASE, headers=tenant["admin"].headers, json=body)).status_code == 201
