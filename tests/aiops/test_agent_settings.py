"""An organization chooses its model and can make its agent read-only."""

from __future__ import annotations

from collections.abc import Iterator

import httpx
import pytest

from agents.models.config import ModelConfig
from agents.models.offline import OfflinePlanner
from agents.models.providers import build_chat_model
from agents.models.router import ModelRouter
from aiops.state import AppState
from tests.support.agent import final_text, of_type, turn
from tests.support.fake_ollama import FakeOllama, Reply
from tests.support.tenants import make_tenant

URL = "/api/v1/organizations/acme/agent-settings"


@pytest.fixture
def ollama() -> Iterator[FakeOllama]:
    with FakeOllama() as server:
        yield server


async def test_admins_set_the_model_and_the_key_is_never_shown(
    client: httpx.AsyncClient, state: AppState, ollama: FakeOllama
) -> None:
    tenant = await make_tenant(state, "acme", apps=True)
    assert (await client.get(URL, headers=tenant["viewer"].headers)).json()["provider"] is None
    body = {
        "provider": "ollama",
        "model": "llama3.1:8b",
        "base_url": ollama.base_url,
        "api_key": "sk-very-secret-value-123456",
    }
    assert (await client.put(URL, headers=tenant["editor"].headers, json=body)).status_code == 403
    saved = await client.put(URL, headers=tenant["admin"].headers, json=body)
    assert saved.status_code == 200
    assert saved.json()["api_key_set"] is True and "sk-very" not in saved.text
    invalid = await client.put(URL, headers=tenant["admin"].headers, json={"provider": "openai"})
    assert invalid.status_code == 422

    # the organization's turns now go to its own model
    state.runtime.models = ModelRouter(
        ModelConfig(provider="offline"), offline=OfflinePlanner(), build=build_chat_model
    )
    ollama.script(Reply.say("answered by llama"))
    events = await turn(state, tenant, tenant["owner"], "hello there", workspace="acme-ws")
    assert events[0].provider == "ollama" and events[0].model == "llama3.1:8b"
    assert final_text(events) == "answered by llama"
    assert ollama.last_chat.headers.get("authorization") == "Bearer sk-very-secret-value-123456"


async def test_an_organization_can_make_its_agent_read_only(
    client: httpx.AsyncClient, state: AppState
) -> None:
    tenant = await make_tenant(state, "acme", apps=True)
    saved = await client.put(URL, headers=tenant["owner"].headers, json={"read_only": True})
    assert saved.json()["read_only"] is True
    events = await turn(state, tenant, tenant["owner"], "scale web to 5", workspace="acme-ws")
    assert events[0].read_only is True
    assert not of_type(events, "approval_required")
    assert "not available to you" in final_text(events)
