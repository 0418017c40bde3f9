"""The real ChatOllama / ChatOpenAI, as ``build_chat_model`` configures them, against fakes.

What the runtime relies on: text streamed as deltas, tool calls parsed into
``AIMessage.tool_calls``, token usage at the end of a stream, the bound tool schemas and the
configured options reaching the server, no hidden SDK retries, no configuration from the
environment.
"""

from __future__ import annotations

import json
from typing import Any

import pytest
from langchain_core.messages import AIMessage, HumanMessage, SystemMessage, ToolMessage

from agents.models import ModelConfig, build_chat_model
from tests.agents.models.harness import LIST_PODS, MODEL, Harness, collect
from tests.support.fake_ollama import HTTPError, Reply, ScriptedToolCall

ASK = [SystemMessage("You operate a Kubernetes platform."), HumanMessage("What is failing?")]


async def test_text_arrives_as_deltas_in_order(harness: Harness) -> None:
    harness.server.script(Reply.say("Two pods", " are", " crash-looping."))

    chunks, total = await collect(harness.model(), ASK)

    assert [chunk.content for chunk in chunks if chunk.content] == [
        "Two pods",
        " are",
        " crash-looping.",
    ]
    assert total.content == "Two pods are crash-looping."
    assert total.tool_calls == []


async def test_usage_metadata_arrives_with_the_stream(harness: Harness) -> None:
    harness.server.script(Reply.say("ok", prompt_tokens=321, completion_tokens=45))

    chunks, total = await collect(harness.model(), ASK)

    assert total.usage_metadata is not None
    assert total.usage_metadata["input_tokens"] == 321
    assert total.usage_metadata["output_tokens"] == 45
    assert total.usage_metadata["total_tokens"] == 366
    # Once, at the end: summing chunks must not double count.
    assert sum(1 for chunk in chunks if chunk.usage_metadata) == 1


async def test_streamed_tool_call_is_parsed(harness: Harness) -> None:
    harness.server.script(
        Reply.call("list_pods", {"namespace": "shop", "phase": "Failed", "limit": 5})
    )

    _, total = await collect(harness.model().bind_tools([LIST_PODS]), ASK)

    assert len(total.tool_calls) == 1
    call = total.tool_calls[0]
    assert call["name"] == "list_pods"
    assert call["args"] == {"namespace": "shop", "phase": "Failed", "limit": 5}
    assert isinstance(call["id"], str) and call["id"]
    assert total.invalid_tool_calls == []


async def test_text_then_several_tool_calls(harness: Harness) -> None:
    harness.server.script(
        Reply(
            chunks=("Checking both.",),
            tool_calls=(
                ScriptedToolCall("list_pods", {"namespace": "a"}),
                ScriptedToolCall("list_pods", {"namespace": "b"}),
            ),
        )
    )

    _, total = await collect(harness.model().bind_tools([LIST_PODS]), ASK)

    assert total.content == "Checking both."
    assert [call["args"] for call in total.tool_calls] == [{"namespace": "a"}, {"namespace": "b"}]
    assert len({call["id"] for call in total.tool_calls}) == 2


async def test_openai_keeps_the_servers_tool_call_id(openai_harness: Harness) -> None:
    # Ollama's client drops tool call ids and langchain-ollama makes up a UUID instead.
    openai_harness.server.script(Reply.call("list_pods", {"namespace": "a"}, call_id="call_abc"))

    _, total = await collect(openai_harness.model().bind_tools([LIST_PODS]), ASK)

    assert total.tool_calls[0]["id"] == "call_abc"


async def test_non_streaming_invoke(harness: Harness) -> None:
    harness.server.script(
        Reply(chunks=("Looking.",), tool_calls=(ScriptedToolCall("list_pods", {"namespace": "a"}),))
    )

    message = await harness.model().bind_tools([LIST_PODS]).ainvoke(ASK)

    assert isinstance(message, AIMessage)
    assert message.content == "Looking."
    assert [call["args"] for call in message.tool_calls] == [{"namespace": "a"}]
    assert message.usage_metadata is not None
    assert message.usage_metadata["input_tokens"] == 12


async def test_bound_tool_schema_reaches_openai_unchanged(openai_harness: Harness) -> None:
    openai_harness.server.script(Reply.say("ok"))

    await collect(openai_harness.model().bind_tools([LIST_PODS]), ASK)

    request = openai_harness.server.last_chat
    assert request.tools == [LIST_PODS]
    assert request.body["stream"] is True
    assert request.body["stream_options"] == {"include_usage": True}


async def test_bound_tool_schema_reaches_ollama(ollama_harness: Harness) -> None:
    ollama_harness.server.script(Reply.say("ok"))

    await collect(ollama_harness.model().bind_tools([LIST_PODS]), ASK)

    (tool,) = ollama_harness.server.last_chat.tools
    function = tool["function"]
    assert tool["type"] == "function"
    assert function["name"] == "list_pods"
    assert function["description"] == LIST_PODS["function"]["description"]
    assert function["parameters"]["required"] == ["namespace"]
    properties = function["parameters"]["properties"]
    assert properties["namespace"] == {"type": "string", "description": "Kubernetes namespace."}
    assert properties["phase"]["enum"] == ["Running", "Pending", "Failed"]


async def test_ollama_client_drops_schema_keywords_it_does_not_model(
    ollama_harness: Harness,
) -> None:
    """Pins a limitation of the ``ollama`` client: its ``Tool`` model keeps only type,
    description, enum and items per property. Constraints, defaults, nested object
    properties and ``anyOf`` (what pydantic emits for Optional fields) never reach the model,
    so tool arguments must be validated on our side whatever the schema says."""
    schema: dict[str, Any] = json.loads(json.dumps(LIST_PODS))
    properties = schema["function"]["parameters"]["properties"]
    properties["limit"]["default"] = 20
    properties["selector"] = {
        "type": "object",
        "properties": {"app": {"type": "string"}},
        "description": "Label selector.",
    }
    properties["since"] = {"anyOf": [{"type": "string"}, {"type": "null"}]}
    ollama_harness.server.script(Reply.say("ok"))

    await collect(ollama_harness.model().bind_tools([schema]), ASK)

    sent = ollama_harness.server.last_chat.tools[0]["function"]["parameters"]["properties"]
    assert sent["limit"] == {"type": "integer", "description": "At most this many."}
    assert sent["selector"] == {"type": "object", "description": "Label selector."}
    assert sent["since"] == {}


async def test_ollama_options_carry_the_config(ollama_harness: Harness) -> None:
    ollama_harness.server.script(Reply.say("ok"))
    model = ollama_harness.model(temperature=0.2, context_window=16384, max_output_tokens=512)

    await collect(model, ASK)

    request = ollama_harness.server.last_chat
    assert request.model == MODEL
    assert request.body["stream"] is True
    assert request.options == {"temperature": 0.2, "num_ctx": 16384, "num_predict": 512}


async def test_openai_request_carries_the_config(openai_harness: Harness) -> None:
    openai_harness.server.script(Reply.say("ok"))
    model = openai_harness.model(temperature=0.3, max_output_tokens=256)

    await collect(model, ASK)

    body = openai_harness.server.last_chat.body
    assert body["model"] == MODEL
    assert body["temperature"] == 0.3
    # ChatOpenAI renames max_tokens; servers that only know max_tokens ignore it.
    assert body["max_completion_tokens"] == 256
    assert "max_tokens" not in body


async def test_temperature_zero_is_sent_not_omitted(harness: Harness) -> None:
    harness.server.script(Reply.say("ok"))

    await collect(harness.model(), ASK)

    request = harness.server.last_chat
    sent = request.options if harness.provider == "ollama" else request.body
    assert sent["temperature"] == 0


async def test_conversation_with_a_tool_round_trip_is_sent(harness: Harness) -> None:
    harness.server.script(Reply.say("Pod web-1 is out of memory."))
    history = [
        *ASK,
        AIMessage(
            "",
            tool_calls=[{"name": "list_pods", "args": {"namespace": "shop"}, "id": "call_1"}],
        ),
        ToolMessage('[{"name": "web-1", "phase": "Failed"}]', tool_call_id="call_1"),
    ]

    await collect(harness.model().bind_tools([LIST_PODS]), history)

    messages = harness.server.last_chat.messages
    assert [message["role"] for message in messages] == ["system", "user", "assistant", "tool"]
    (sent_call,) = messages[2]["tool_calls"]
    arguments = sent_call["function"]["arguments"]
    if harness.provider == "openai":
        assert sent_call["id"] == "call_1"
        arguments = json.loads(arguments)
    assert sent_call["function"]["name"] == "list_pods"
    assert arguments == {"namespace": "shop"}
    assert messages[3]["content"] == '[{"name": "web-1", "phase": "Failed"}]'


async def test_the_sdk_does_not_retry(harness: Harness) -> None:
    """Retrying is the runtime's decision (once, then fall back); the SDK must not add more."""
    harness.server.script(HTTPError(503, "overloaded"))

    with pytest.raises(Exception):  # noqa: B017 - the type is errors.py's business
        await collect(harness.model(), ASK)

    assert len(harness.server.chat_requests) == 1


async def test_the_model_recovers_when_the_server_comes_back(harness: Harness) -> None:
    """The runtime keeps one model object; after an outage it must work again as is."""
    model = harness.model()
    harness.server.script(Reply.say("first"))
    await collect(model, ASK)
    harness.server.stop()
    with pytest.raises(Exception):  # noqa: B017
        await collect(model, ASK)

    harness.server.start()
    harness.server.script(Reply.say("back"))
    _, total = await collect(model, ASK)

    assert total.content == "back"


async def test_openai_api_key_is_sent_and_the_environment_ignored(
    monkeypatch: pytest.MonkeyPatch, openai_harness: Harness
) -> None:
    monkeypatch.setenv("OPENAI_API_KEY", "sk-from-env")
    monkeypatch.setenv("OPENAI_BASE_URL", "http://127.0.0.1:9/v1")
    openai_harness.server.script(Reply.say("a"), Reply.say("b"))

    await collect(openai_harness.model(api_key="sk-configured"), ASK)
    await collect(openai_harness.model(), ASK)

    first, second = openai_harness.server.chat_requests
    assert first.headers["authorization"] == "Bearer sk-configured"
    assert second.headers["authorization"] == "Bearer not-needed"


async def test_ollama_api_key_becomes_a_bearer_header(
    monkeypatch: pytest.MonkeyPatch, ollama_harness: Harness
) -> None:
    monkeypatch.setenv("OLLAMA_API_KEY", "from-env")
    ollama_harness.server.script(Reply.say("ok"))

    await collect(ollama_harness.model(api_key="configured"), ASK)

    assert ollama_harness.server.last_chat.headers["authorization"] == "Bearer configured"


def test_building_does_not_touch_the_network() -> None:
    # Nothing listens on port 9; construction must still succeed.
    for provider in ("ollama", "openai"):
        build_chat_model(ModelConfig(provider=provider, model="m", base_url="http://127.0.0.1:9"))


@pytest.mark.parametrize("provider", ["offline", "local", "scripted"])
def test_other_providers_are_not_built_here(provider: Any) -> None:
    config = ModelConfig(provider=provider, model="m")

    with pytest.raises(ValueError, match="only builds 'ollama' and 'openai'"):
        build_chat_model(config)


# -- malformed tool calls: what the runtime's "unusable tool call" check gets to see ----------


async def test_openai_unparseable_arguments_become_an_invalid_tool_call(
    openai_harness: Harness,
) -> None:
    bad = ScriptedToolCall("list_pods", raw_arguments="namespace=shop")
    openai_harness.server.script(Reply(tool_calls=(bad,)))

    _, total = await collect(openai_harness.model().bind_tools([LIST_PODS]), ASK)

    assert total.tool_calls == []
    (invalid,) = total.invalid_tool_calls
    assert invalid["name"] == "list_pods"
    assert invalid["args"] == "namespace=shop"


async def test_openai_truncated_arguments_are_silently_completed_when_streamed(
    openai_harness: Harness,
) -> None:
    """Pins langchain-core's partial-JSON parsing of streamed tool calls: an argument object
    cut short still comes out as a valid call, so a truncated call (e.g. at the output token
    limit) is not detectable from ``invalid_tool_calls``; check ``finish_reason`` instead."""
    truncated = ScriptedToolCall("list_pods", raw_arguments='{"namespace": "shop", "li')
    openai_harness.server.script(Reply(tool_calls=(truncated,), finish_reason="length"))

    chunks, total = await collect(openai_harness.model().bind_tools([LIST_PODS]), ASK)

    assert [call["args"] for call in total.tool_calls] == [{"namespace": "shop"}]
    finish = [c.response_metadata.get("finish_reason") for c in chunks]
    assert "length" in finish


async def test_ollama_unparseable_tool_call_arrives_as_text(ollama_harness: Harness) -> None:
    bad = ScriptedToolCall("list_pods", raw_arguments="namespace=shop")
    ollama_harness.server.script(Reply(tool_calls=(bad,)))

    _, total = await collect(ollama_harness.model().bind_tools([LIST_PODS]), ASK)

    assert total.tool_calls == [] and total.invalid_tool_calls == []
    assert total.content == "namespace=shop"


async def test_ollama_done_reason_is_reported(ollama_harness: Harness) -> None:
    ollama_harness.server.script(Reply.say("cut sh", finish_reason="length"))

    chunks, _ = await collect(ollama_harness.model(), ASK)

    assert "length" in [c.response_metadata.get("done_reason") for c in chunks]
