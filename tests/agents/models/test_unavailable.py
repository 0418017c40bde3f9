"""Every way a model server fails, provoked for real, classified by ``is_unavailable``.

The exceptions are whatever the installed ollama / openai / langchain libraries raise against
the fake servers; each test also pins the exception type, so a library upgrade that changes
it shows up here rather than as a runtime that stops falling back.
"""

from __future__ import annotations

import time

import httpx
import ollama
import openai
import pytest
from langchain_core.messages import HumanMessage

from agents.models import is_unavailable, unavailable_reason
from tests.agents.models.harness import MODEL, Harness, collect, make_server
from tests.support.fake_ollama import Disconnect, Hang, HTTPError, Reply, StreamError

ASK = [HumanMessage("Why is web-1 restarting?")]


async def failure(harness: Harness, **config: object) -> Exception:
    """Stream one answer, expecting it to fail; the exception raised."""
    with pytest.raises(Exception) as caught:
        await collect(harness.model(**config), ASK)
    assert isinstance(caught.value, Exception)
    return caught.value


ExceptionTypes = type[BaseException] | tuple[type[BaseException], ...]


def expect_type(
    harness: Harness, exc: Exception, ollama_type: ExceptionTypes, openai_type: ExceptionTypes
) -> None:
    expected = ollama_type if harness.provider == "ollama" else openai_type
    assert isinstance(exc, expected), f"{type(exc)!r} is not {expected!r}"


async def test_connection_refused(harness: Harness) -> None:
    harness.server.stop()

    exc = await failure(harness)

    expect_type(harness, exc, httpx.ConnectError, openai.APIConnectionError)
    assert unavailable_reason(exc) == "connection"


async def test_ollama_refused_without_streaming_is_a_builtin_connection_error(
    ollama_harness: Harness,
) -> None:
    # The ollama client rewraps ConnectError as ConnectionError, but only off the stream path.
    ollama_harness.server.stop()
    client = ollama_client(ollama_harness)

    with pytest.raises(ConnectionError) as caught:
        await client.chat(model=MODEL, messages=[{"role": "user", "content": "hi"}])

    assert unavailable_reason(caught.value) == "connection"


def ollama_client(harness: Harness) -> ollama.AsyncClient:
    return ollama.AsyncClient(host=harness.server.base_url, timeout=2)


async def test_dns_failure(harness: Harness) -> None:
    harness.server.stop()
    base_url = "http://model-server.invalid:11434"
    if harness.provider == "openai":
        base_url += "/v1"

    exc = await failure(harness, base_url=base_url, timeout_seconds=3)

    expect_type(harness, exc, httpx.ConnectError, openai.APIConnectionError)
    assert is_unavailable(exc)


@pytest.mark.parametrize("status", [500, 502, 503])
async def test_server_error(harness: Harness, status: int) -> None:
    harness.server.script(HTTPError(status, "model runner crashed"))

    exc = await failure(harness)

    expect_type(harness, exc, ollama.ResponseError, openai.InternalServerError)
    assert unavailable_reason(exc) == "server_error"


async def test_rate_limited_is_unavailable(harness: Harness) -> None:
    harness.server.script(HTTPError(429, "slow down"))

    exc = await failure(harness)

    expect_type(harness, exc, ollama.ResponseError, openai.RateLimitError)
    assert unavailable_reason(exc) == "rate_limited"


async def test_hang_before_the_response_times_out(harness: Harness) -> None:
    harness.server.script(Hang())
    started = time.monotonic()

    exc = await failure(harness, timeout_seconds=0.5)

    assert time.monotonic() - started < 3
    expect_type(harness, exc, httpx.ReadTimeout, openai.APITimeoutError)
    assert unavailable_reason(exc) == "timeout"


async def test_hang_in_the_middle_of_the_stream_times_out(harness: Harness) -> None:
    harness.server.script(Reply(chunks=("Looking", " at"), fault=Hang(after_chunks=2)))
    started = time.monotonic()

    exc = await failure(harness, timeout_seconds=0.5)

    assert time.monotonic() - started < 3
    # For OpenAI two clocks of the same length race: langchain-openai's per-chunk timeout
    # (a TimeoutError, usually first) and httpx2's read timeout (wrapped as APITimeoutError).
    expect_type(harness, exc, httpx.ReadTimeout, (TimeoutError, openai.APITimeoutError))
    assert unavailable_reason(exc) == "timeout"


async def test_server_killed_mid_stream(harness: Harness) -> None:
    words = ("The", " pod", " ran", " out", " of", " memory")
    harness.server.script(Reply.say(*words, delay=0.2))
    model = harness.model()
    received: list[str] = []

    with pytest.raises(Exception) as caught:
        async for chunk in model.astream(ASK):
            if chunk.content:
                received.append(str(chunk.content))
                harness.server.stop()

    assert received[0] == "The"
    assert len(received) < len(words)
    exc = caught.value
    expect_type(harness, exc, httpx.RemoteProtocolError, openai.APIConnectionError)
    assert unavailable_reason(exc) == "stream_interrupted"


@pytest.mark.parametrize("reset", [False, True], ids=["fin", "rst"])
async def test_connection_dropped_mid_stream(harness: Harness, reset: bool) -> None:
    harness.server.script(Reply(chunks=("a", "b", "c"), fault=Disconnect(2, reset=reset)))

    exc = await failure(harness)

    ollama_type = httpx.ReadError if reset else httpx.RemoteProtocolError
    expect_type(harness, exc, ollama_type, openai.APIConnectionError)
    assert unavailable_reason(exc) == "stream_interrupted"


async def test_error_event_inside_a_200_stream(harness: Harness) -> None:
    harness.server.script(Reply(chunks=("Let me",), fault=StreamError("out of memory", 1)))

    exc = await failure(harness)

    expect_type(harness, exc, ollama.ResponseError, openai.APIError)
    assert unavailable_reason(exc) == "server_error"


async def test_non_streaming_call_failures(harness: Harness) -> None:
    model = harness.model(timeout_seconds=0.5)
    harness.server.script(HTTPError(500), Hang(), Disconnect(reset=True))

    for _ in range(3):
        with pytest.raises(Exception) as caught:
            await model.ainvoke(ASK)
        assert is_unavailable(caught.value), repr(caught.value)


# -- configuration errors: reported, not fallen back from ---------------------------------


@pytest.mark.parametrize("status", [400, 401, 403, 404, 422])
async def test_client_errors_are_not_unavailability(harness: Harness, status: int) -> None:
    harness.server.script(HTTPError(status, "no"))

    exc = await failure(harness)

    expect_type(harness, exc, ollama.ResponseError, openai.APIStatusError)
    assert not is_unavailable(exc)


async def test_wrong_api_key_is_not_unavailability() -> None:
    with make_server("openai", api_key="sk-right") as server:
        probe = Harness("openai", server)
        exc = await failure(probe, api_key="sk-wrong")
        await probe.aclose()

    assert isinstance(exc, openai.AuthenticationError)
    assert not is_unavailable(exc)


async def test_unknown_model_is_not_unavailability(harness: Harness) -> None:
    harness.server.stop()
    with make_server(harness.provider, models=("some-other-model",)) as server:
        probe = Harness(harness.provider, server)
        exc = await failure(probe)
        await probe.aclose()

    expect_type(harness, exc, ollama.ResponseError, openai.NotFoundError)
    assert not is_unavailable(exc)


async def test_wrong_url_scheme_is_not_unavailability() -> None:
    # ModelConfig refuses such a URL; a client given one anyway fails before connecting.
    client = ollama.AsyncClient(host="ftp://127.0.0.1:1")

    with pytest.raises(httpx.UnsupportedProtocol) as caught:
        await client.chat(model=MODEL, messages=[{"role": "user", "content": "hi"}])

    assert not is_unavailable(caught.value)
