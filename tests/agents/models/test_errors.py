"""``is_unavailable`` on exceptions built by hand: wrapping, groups, and the edge types.

The real failure modes, raised by the real clients, are in ``test_unavailable.py``.
"""

from __future__ import annotations

import asyncio
import errno
import socket

import httpx
import httpx2
import ollama
import openai
import pytest
from langchain_core import exceptions as lc
from langchain_openai.chat_models.base import OpenAIAPIContextOverflowError

from agents.models import is_unavailable, unavailable_reason

REQUEST = httpx2.Request("POST", "http://127.0.0.1:1/v1/chat/completions")


def wrapped(exc: BaseException, outer: Exception) -> Exception:
    """``outer`` raised while handling ``exc`` (implicit chaining), as a caller would."""
    try:
        try:
            raise exc
        except BaseException:
            raise outer  # noqa: B904 - implicit chaining is what is tested
    except Exception as raised:
        return raised


@pytest.mark.parametrize(
    ("exc", "reason"),
    [
        (TimeoutError(), "timeout"),
        (ConnectionRefusedError(errno.ECONNREFUSED, "refused"), "connection"),
        (ConnectionResetError(errno.ECONNRESET, "reset"), "connection"),
        (BrokenPipeError(errno.EPIPE, "broken pipe"), "connection"),
        (socket.gaierror(socket.EAI_NONAME, "Name or service not known"), "connection"),
        (OSError(errno.ENETUNREACH, "Network is unreachable"), "connection"),
        (OSError(errno.EHOSTUNREACH, "No route to host"), "connection"),
        (httpx.ConnectTimeout("connect"), "timeout"),
        (httpx.PoolTimeout("pool"), "timeout"),
        (httpx.ConnectError("refused"), "connection"),
        (httpx.ReadError("reset"), "stream_interrupted"),
        (httpx.RemoteProtocolError("incomplete chunked read"), "stream_interrupted"),
        (httpx2.ConnectError("refused"), "connection"),
        (httpx2.ReadTimeout("read"), "timeout"),
        (httpx2.RemoteProtocolError("incomplete chunked read"), "stream_interrupted"),
        (ollama.ResponseError("runner crashed", 500), "server_error"),
        (ollama.ResponseError("in-band error line"), "server_error"),
        (ollama.ResponseError("too many requests", 429), "rate_limited"),
        (ollama.ResponseError("request timeout", 408), "timeout"),
        (openai.APIConnectionError(request=REQUEST), "connection"),
        (openai.APITimeoutError(request=REQUEST), "timeout"),
        (openai.APIError("stream error", REQUEST, body=None), "server_error"),
        (openai.APIError("stream error", REQUEST, body={"code": 503}), "server_error"),
        (lc.ModelAPIError(), "server_error"),
        (lc.ModelConnectionError(), "connection"),
        (lc.ModelTimeoutError(), "timeout"),
        (lc.ModelRateLimitError(), "rate_limited"),
    ],
    ids=lambda value: type(value).__name__ if isinstance(value, BaseException) else value,
)
def test_unavailable(exc: BaseException, reason: str) -> None:
    assert unavailable_reason(exc) == reason
    assert is_unavailable(exc)


@pytest.mark.parametrize(
    "exc",
    [
        ValueError("bad value"),
        KeyError("missing"),
        RuntimeError("bug"),
        OSError(errno.ENOENT, "No such file"),
        asyncio.CancelledError(),
        KeyboardInterrupt(),
        lc.OutputParserException("tool arguments are not JSON"),
        lc.ModelAuthenticationError(),
        lc.ModelNotFoundError(),
        lc.ContextOverflowError(),
        ollama.ResponseError("model is required", 400),
        ollama.ResponseError("unauthorized", 401),
        ollama.ResponseError('model "x" not found', 404),
        ollama.RequestError("must provide a model"),
        httpx.UnsupportedProtocol("ftp"),
        httpx.LocalProtocolError("bad header"),
        httpx.InvalidURL("no host"),
        openai.APIError("stream error", REQUEST, body={"code": 400}),
        openai.APIResponseValidationError(httpx2.Response(200, request=REQUEST), body={}),
        openai.OpenAIError("The api_key client option must be set"),
        OpenAIAPIContextOverflowError("exceeds the context window", REQUEST, body=None),
    ],
    ids=lambda value: type(value).__name__,
)
def test_not_unavailable(exc: BaseException) -> None:
    assert not is_unavailable(exc)


@pytest.mark.parametrize(("status", "expected"), [(503, True), (429, True), (404, False)])
def test_raw_http_status_errors(status: int, expected: bool) -> None:
    request = httpx.Request("POST", "http://127.0.0.1:1/api/chat")
    response = httpx.Response(status, request=request)
    exc = httpx.HTTPStatusError("status", request=request, response=response)

    assert is_unavailable(exc) is expected


def test_explicit_cause_is_followed() -> None:
    outer = RuntimeError("the model call failed")
    outer.__cause__ = httpx.ConnectError("refused")

    assert unavailable_reason(outer) == "connection"


def test_implicit_context_is_followed() -> None:
    exc = wrapped(httpx.ReadTimeout("read"), RuntimeError("while streaming"))

    assert unavailable_reason(exc) == "timeout"


def test_suppressed_context_is_not_followed() -> None:
    exc = wrapped(httpx.ReadTimeout("read"), RuntimeError("unrelated"))
    exc.__suppress_context__ = True

    assert not is_unavailable(exc)


def test_a_known_verdict_wins_over_the_cause() -> None:
    # A 400 raised while handling a timeout is still a configuration error.
    exc = wrapped(httpx.ReadTimeout("read"), ollama.ResponseError("bad request", 400))

    assert not is_unavailable(exc)


def test_cycles_in_the_chain_terminate() -> None:
    first, second = RuntimeError("a"), RuntimeError("b")
    first.__cause__, second.__cause__ = second, first

    assert not is_unavailable(first)


def test_openai_connection_error_wrapping_a_cut_stream() -> None:
    exc = openai.APIConnectionError(request=REQUEST)
    exc.__cause__ = httpx2.RemoteProtocolError("incomplete chunked read")

    assert unavailable_reason(exc) == "stream_interrupted"


def test_group_of_outages_is_unavailable() -> None:
    group = ExceptionGroup("both", [httpx.ConnectError("a"), httpx.ReadTimeout("b")])

    assert unavailable_reason(group) == "connection"


def test_group_with_a_configuration_error_is_not() -> None:
    group = ExceptionGroup("mixed", [httpx.ConnectError("a"), ollama.ResponseError("no", 401)])

    assert not is_unavailable(group)


def test_cancellations_in_a_group_are_ignored() -> None:
    group = BaseExceptionGroup("cancelled", [asyncio.CancelledError(), httpx.ConnectError("a")])

    assert is_unavailable(group)
    assert not is_unavailable(BaseExceptionGroup("only", [asyncio.CancelledError()]))
