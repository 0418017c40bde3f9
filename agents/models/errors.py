"""Tell "the model server is unavailable" apart from "the model is misconfigured".

The runtime falls back to the offline planner when a configured model is unavailable (it cannot
be reached, times out, fails on its side, or cuts the stream off) and reports configuration
errors (bad request, wrong key, unknown model) instead, because falling back would hide them.

The installed libraries raise different types for the same condition, so this module knows
them all (each case is provoked for real against the fake servers in ``tests/agents/models``):

* ``langchain-ollama`` / ``ollama`` (on httpx): a refused connection is ``httpx.ConnectError``
  when streaming, the builtin ``ConnectionError`` otherwise; a timeout is ``httpx.ReadTimeout``
  (before or during the stream); an HTTP error is ``ollama.ResponseError`` with its
  ``status_code``; an ``{"error": ...}`` line inside a 200 stream is a ``ResponseError`` with
  ``status_code == -1``; a stream cut off is ``httpx.RemoteProtocolError`` (FIN, "incomplete
  chunked read") or ``httpx.ReadError`` (RST).
* ``langchain-openai`` / ``openai`` >= 3 (on httpx2, a fork of httpx with its own classes):
  langchain re-raises the SDK's errors as subclasses that also derive from
  ``langchain_core.exceptions.ModelError``: refused connections and streams cut off mid-way
  are ``OpenAIConnectionError`` (an ``APIConnectionError`` caused by the httpx2 error), a hang
  before the response is ``OpenAITimeoutError``, 5xx is ``OpenAIAPIError`` (an
  ``InternalServerError``), 429 ``OpenAIRateLimitError``, 401 ``OpenAIAuthenticationError``.
  A hang mid-stream is langchain's ``StreamChunkTimeoutError`` (a ``TimeoutError``), an error
  event inside a 200 stream a bare ``openai.APIError``.
"""

from __future__ import annotations

import asyncio
import errno
import socket
from typing import Any, Literal

import httpx
import ollama
import openai
from langchain_core import exceptions as lc

UnavailableReason = Literal[
    "timeout", "connection", "server_error", "stream_interrupted", "rate_limited"
]

_TIMEOUTS: tuple[type[BaseException], ...] = (httpx.TimeoutException, TimeoutError)
_INTERRUPTED: tuple[type[BaseException], ...] = (httpx.RemoteProtocolError, httpx.ReadError)
_CONNECTION: tuple[type[BaseException], ...] = (httpx.NetworkError, httpx.ProxyError)
_HTTP_STATUS: tuple[type[BaseException], ...] = (httpx.HTTPStatusError,)
_OTHER_HTTP: tuple[type[BaseException], ...] = (httpx.HTTPError, httpx.InvalidURL)
try:  # openai>=3 transports through httpx2 (same API, its own classes); older SDKs use httpx.
    import httpx2
except ImportError:  # pragma: no cover - depends on the installed SDK
    pass
else:
    _TIMEOUTS += (httpx2.TimeoutException,)
    _INTERRUPTED += (httpx2.RemoteProtocolError, httpx2.ReadError)
    _CONNECTION += (httpx2.NetworkError, httpx2.ProxyError)
    _HTTP_STATUS += (httpx2.HTTPStatusError,)
    _OTHER_HTTP += (httpx2.HTTPError, httpx2.InvalidURL)

# Raw OSErrors that mean the network path failed (httpx normally wraps these).
_NETWORK_ERRNOS = frozenset(
    {
        errno.ECONNREFUSED,
        errno.ECONNRESET,
        errno.ECONNABORTED,
        errno.EPIPE,
        errno.ENETUNREACH,
        errno.ENETDOWN,
        errno.EHOSTUNREACH,
        errno.EHOSTDOWN,
        errno.ETIMEDOUT,
    }
)

# Decided by type, checked before the status-code rules (langchain's subclasses carry both a
# provider status type and one of these).
_CONFIGURATION_ERRORS: tuple[type[BaseException], ...] = (
    lc.ContextOverflowError,
    lc.ModelAuthenticationError,
    lc.ModelPermissionDeniedError,
    lc.ModelInvalidRequestError,
    lc.ModelNotFoundError,
    lc.ModelRefusalError,
)
_LANGCHAIN_UNAVAILABLE: tuple[tuple[type[BaseException], UnavailableReason], ...] = (
    (lc.ModelTimeoutError, "timeout"),
    (lc.ModelConnectionError, "connection"),
    (lc.ModelAPIError, "server_error"),
    (lc.ModelRateLimitError, "rate_limited"),
)

# Verdict for one exception: a reason (unavailable), False (definitely not), None (unknown
# type: look at what caused it).
_Verdict = UnavailableReason | Literal[False] | None


def is_unavailable(exc: BaseException) -> bool:
    """Whether ``exc`` means the model server is unavailable (fall back) rather than misused."""
    return unavailable_reason(exc) is not None


def unavailable_reason(exc: BaseException) -> UnavailableReason | None:
    """Why the model server is unavailable, or None when ``exc`` is not that kind of failure.

    Exceptions the runtime wraps are looked through: an unknown type is judged by its
    ``__cause__``, then by its ``__context__`` unless that was suppressed (``from None``).
    """
    return _judge(exc, seen=set())


def _judge(exc: BaseException, seen: set[int]) -> UnavailableReason | None:
    if id(exc) in seen:
        return None
    seen.add(id(exc))
    if isinstance(exc, BaseExceptionGroup):
        return _judge_group(exc, seen)
    verdict = _classify(exc)
    if verdict is not None:
        return verdict or None
    if exc.__cause__ is not None:
        return _judge(exc.__cause__, seen)
    if exc.__context__ is not None and not exc.__suppress_context__:
        return _judge(exc.__context__, seen)
    return None


def _judge_group(group: BaseExceptionGroup[Any], seen: set[int]) -> UnavailableReason | None:
    """Unavailable only if every failure in the group is (cancellations aside)."""
    reasons = [
        _judge(member, seen)
        for member in group.exceptions
        if not isinstance(member, asyncio.CancelledError)
    ]
    if not reasons or any(reason is None for reason in reasons):
        return None
    return reasons[0]


def _classify(exc: BaseException) -> _Verdict:
    if isinstance(exc, _CONFIGURATION_ERRORS):
        return False
    for kind, reason in _LANGCHAIN_UNAVAILABLE:
        if isinstance(exc, kind):
            return _refine_connection(exc) if reason == "connection" else reason
    if isinstance(exc, openai.OpenAIError):
        return _classify_openai(exc)
    if isinstance(exc, ollama.ResponseError):
        # -1: an {"error": ...} line after a 200 header; the server accepted the request and
        # then failed while generating (runner crash, out of memory).
        return "server_error" if exc.status_code == -1 else _classify_status(exc.status_code)
    if isinstance(exc, ollama.RequestError):
        return False
    return _classify_transport(exc)


def _classify_openai(exc: openai.OpenAIError) -> _Verdict:
    if isinstance(exc, openai.APITimeoutError):
        return "timeout"
    if isinstance(exc, openai.APIConnectionError):
        return _refine_connection(exc)
    if isinstance(exc, openai.APIStatusError):
        return _classify_status(exc.status_code)
    if isinstance(exc, openai.APIResponseValidationError):
        # A 200 whose body is not an OpenAI response: base_url points at something else.
        return False
    if isinstance(exc, openai.APIError):
        # An error event inside a 200 stream. Some servers put an HTTP-like code in the body.
        code = exc.body.get("code") if isinstance(exc.body, dict) else None
        if isinstance(code, int) and 400 <= code < 500:
            return _classify_status(code)
        return "server_error"
    return False  # client-side misuse: missing key, bad arguments, ...


def _refine_connection(exc: BaseException) -> UnavailableReason:
    """Tell a refused connection from a stream cut off mid-way: the SDK wraps both the same."""
    cause = exc.__cause__
    for _ in range(8):
        if cause is None:
            break
        if isinstance(cause, _INTERRUPTED):
            return "stream_interrupted"
        cause = cause.__cause__
    return "connection"


def _classify_status(status: int) -> _Verdict:
    if status >= 500:
        return "server_error"
    if status == 429:
        return "rate_limited"
    if status == 408:
        return "timeout"
    return False


def _classify_transport(exc: BaseException) -> _Verdict:
    if isinstance(exc, _TIMEOUTS):
        return "timeout"
    # A read that fails (RST) or ends early (FIN before the last chunk) after the response
    # started: the stream was cut off. Checked before _CONNECTION, ReadError is a NetworkError.
    if isinstance(exc, _INTERRUPTED):
        return "stream_interrupted"
    if isinstance(exc, _CONNECTION):
        return "connection"
    if isinstance(exc, _HTTP_STATUS):
        response = getattr(exc, "response", None)
        return _classify_status(response.status_code) if response is not None else False
    if isinstance(exc, _OTHER_HTTP):
        return False  # unsupported URL scheme, local protocol misuse, undecodable body
    if isinstance(exc, (ConnectionError, socket.gaierror)):
        return "connection"
    if isinstance(exc, OSError) and exc.errno in _NETWORK_ERRNOS:
        return "connection"
    return None
