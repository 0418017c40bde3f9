"""The fake servers themselves: scripting, recording, lifecycle, the endpoints clients touch."""

from __future__ import annotations

import asyncio

import httpx
import ollama
import openai
import pytest
from langchain_core.messages import HumanMessage
from langchain_ollama import ChatOllama

from agents.models import aclose_chat_model, is_unavailable
from tests.agents.models.harness import LIST_PODS, MODEL, Harness, collect, make_server
from tests.support.fake_ollama import Hang, RecordedRequest, Reply
from tests.support.fake_openai import FakeOpenAI

ASK = [HumanMessage("status?")]


async def test_unscripted_request_is_a_loud_client_error(harness: Harness) -> None:
    with pytest.raises(Exception) as caught:
        await collect(harness.model(), ASK)

    assert "no reply scripted" in str(caught.value)
    assert not is_unavailable(caught.value)  # so a runtime test cannot pass by falling back


async def test_responder_sees_the_request_and_the_script_goes_first(harness: Harness) -> None:
    seen: list[RecordedRequest] = []

    def respond(request: RecordedRequest) -> Reply:
        seen.append(request)
        return Reply.say(f"{len(request.messages)} messages, tools: {request.tool_names}")

    harness.server.responder = respond
    harness.server.script(Reply.say("scripted"))
    model = harness.model().bind_tools([LIST_PODS])

    _, first = await collect(model, ASK)
    _, second = await collect(model, ASK)

    assert first.content == "scripted"
    assert second.content == "1 messages, tools: ['list_pods']"
    assert len(seen) == 1
    assert harness.server.pending == 0


async def test_requests_are_recorded(harness: Harness) -> None:
    harness.server.script(Reply.say("a"), Reply.say("b"))

    await collect(harness.model(), ASK)
    await collect(harness.model(), [HumanMessage("again")])

    first, second = harness.server.chat_requests
    assert first.method == "POST"
    assert first.messages[-1]["content"] == "status?"
    assert second.messages[-1]["content"] == "again"
    assert first.headers["content-type"] == "application/json"
    assert second.received_at >= first.received_at


async def test_restart_comes_back_on_the_same_port(harness: Harness) -> None:
    port = harness.server.port
    harness.server.stop()
    harness.server.stop()  # idempotent
    assert not harness.server.running

    harness.server.restart()

    assert harness.server.running and harness.server.port == port
    harness.server.script(Reply.say("up"))
    _, total = await collect(harness.model(), ASK)
    assert total.content == "up"


async def test_stop_cuts_a_hanging_request(harness: Harness) -> None:
    harness.server.script(Hang())
    task = asyncio.ensure_future(collect(harness.model(timeout_seconds=30), ASK))
    await harness.server.wait_for_requests(1)

    harness.server.stop()

    with pytest.raises(Exception) as caught:
        await asyncio.wait_for(task, 5)
    assert is_unavailable(caught.value)


async def test_ollama_metadata_endpoints() -> None:
    with make_server("ollama", models=(MODEL, "llama3.2")) as server:
        async with ollama.AsyncClient(host=server.base_url) as client:
            listing = await client.list()
            shown = await client.show(MODEL)
            running = await client.ps()
        async with httpx.AsyncClient(base_url=server.base_url) as http:
            version = (await http.get("/api/version")).json()
            root = (await http.get("/")).text

    assert [model.model for model in listing.models] == [MODEL, "llama3.2:latest"]
    assert shown.capabilities is not None and "tools" in shown.capabilities
    assert running.models == []
    assert version == {"version": "0.12.6"}
    assert root == "Ollama is running"


async def test_chat_ollama_model_validation_passes_against_the_fake() -> None:
    # validate_model_on_init lists /api/tags with the sync client.
    with make_server("ollama", models=(MODEL,)) as server:
        model = ChatOllama(model=MODEL, base_url=server.base_url, validate_model_on_init=True)
        await aclose_chat_model(model)
        with pytest.raises(ValueError, match="not found in Ollama"):
            ChatOllama(model="mistral", base_url=server.base_url, validate_model_on_init=True)


async def test_openai_models_endpoint_and_key_check() -> None:
    with FakeOpenAI(api_key="sk-test", models=(MODEL,)) as server:
        client = openai.AsyncOpenAI(base_url=server.base_url, api_key="sk-test", max_retries=0)
        wrong = openai.AsyncOpenAI(base_url=server.base_url, api_key="sk-nope", max_retries=0)
        async with client, wrong:
            models = [model.id async for model in client.models.list()]
            retrieved = await client.models.retrieve(MODEL)
            with pytest.raises(openai.AuthenticationError):
                await wrong.models.list()

    assert models == [MODEL]
    assert retrieved.id == MODEL


def test_sync_clients_work_too(harness: Harness) -> None:
    harness.server.script(Reply.say("sync", " works"), Reply.call("list_pods", {"namespace": "a"}))
    model = harness.model()

    streamed = "".join(str(chunk.content) for chunk in model.stream(ASK))
    message = model.bind_tools([LIST_PODS]).invoke(ASK)

    assert streamed == "sync works"
    assert message.tool_calls[0]["args"] == {"namespace": "a"}


async def test_a_failing_responder_is_a_loud_client_error(harness: Harness) -> None:
    def respond(request: RecordedRequest) -> Reply:
        raise KeyError("no such fixture")

    harness.server.responder = respond

    with pytest.raises(Exception) as caught:
        await collect(harness.model(), ASK)

    assert not is_unavailable(caught.value)
    assert [type(error) for error in harness.server.errors] == [KeyError]


async def test_clear_forgets_everything(harness: Harness) -> None:
    harness.server.script(Reply.say("a"), Reply.say("b"))
    await collect(harness.model(), ASK)

    harness.server.clear()

    assert harness.server.pending == 0
    assert harness.server.requests == []
    assert harness.server.responder is None
