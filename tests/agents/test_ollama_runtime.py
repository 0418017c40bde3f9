"""The real Ollama provider drives the runtime end to end over the real wire format; when the
server dies mid-session the offline planner takes over and the answer says so."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from agents.models.config import ModelConfig
from agents.models.offline import OfflinePlanner
from agents.models.providers import build_chat_model
from agents.models.router import ModelRouter
from aiops.state import AppState
from tests.support.agent import final_text, of_type, turn
from tests.support.fake_ollama import Disconnect, FakeOllama, Reply
from tests.support.tenants import Tenant, make_tenant


@pytest.fixture
def ollama() -> Iterator[FakeOllama]:
    with FakeOllama() as server:
        yield server


@pytest.fixture
async def tenant(state: AppState, ollama: FakeOllama) -> Tenant:
    config = ModelConfig(
        provider="ollama", model="qwen2.5:7b-instruct", base_url=ollama.base_url, timeout_seconds=5
    )
    state.runtime.models = ModelRouter(config, offline=OfflinePlanner(), build=build_chat_model)
    return await make_tenant(state, "acme", apps=True)


async def test_a_turn_over_the_ollama_wire_format(
    state: AppState, tenant: Tenant, ollama: FakeOllama
) -> None:
    ollama.script(
        Reply.call("describe_application", {"application": "web"}),
        Reply.say("web has ", "2 replicas, ", "both ready."),
    )
    events = await turn(
        state, tenant, tenant["owner"], "how is web?", workspace="acme-ws", project="app"
    )
    assert events[0].provider == "ollama" and events[0].model == "qwen2.5:7b-instruct"
    assert [e.type for e in events if e.type != "delta"] == [
        "session",
        "tool_call",
        "tool_result",
        "final",
    ]
    assert "".join(e.text for e in of_type(events, "delta")) == "web has 2 replicas, both ready."
    final = of_type(events, "final")[0]
    assert final.text == "web has 2 replicas, both ready." and final.fallback is None
    assert final.input_tokens > 0 and final.output_tokens > 0
    first, second = ollama.chat_requests
    assert "describe_application" in first.tool_names
    assert "scale_application" in first.tool_names  # an owner is offered changes too
    tool_reply = second.messages[-1]
    assert tool_reply["role"] == "tool" and 'trust="untrusted"' in tool_reply["content"]


async def test_the_planner_takes_over_when_ollama_dies_mid_session(
    state: AppState, tenant: Tenant, ollama: FakeOllama
) -> None:
    ollama.script(Reply.say("Hello! How can I help?"))
    hello = await turn(state, tenant, tenant["owner"], "hello", workspace="acme-ws", project="app")
    assert final_text(hello) == "Hello! How can I help?"
    session_id = hello[0].session_id

    ollama.stop()  # the model server crashes
    events = await turn(
        state, tenant, tenant["owner"], "how many replicas does web have?", session_id=session_id
    )
    final = of_type(events, "final")[0]
    assert (
        final.fallback is not None
        and "ollama:qwen2.5:7b-instruct was unavailable" in final.fallback
    )
    assert final.text.startswith("(The configured model could not answer")
    assert "web has 2 replicas" in final.text


async def test_a_stream_cut_off_mid_answer_falls_back_too(
    state: AppState, tenant: Tenant, ollama: FakeOllama
) -> None:
    ollama.script(Reply(("I will look", " at web", " now"), fault=Disconnect(after_chunks=1)))
    events = await turn(
        state, tenant, tenant["owner"], "list applications", workspace="acme-ws", project="app"
    )
    final = of_type(events, "final")[0]
    assert final.fallback is not None
    assert "web" in final.text and "api" in final.text
