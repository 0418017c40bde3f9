"""Calling a function over HTTP and reading the answer as a ``FunctionResponse``.

The request goes to the Knative Service's URL (the platform's Knative ingress) with the method,
path, query, headers and body of the ``FunctionRequest``, under the function's timeout. The
runtime (``platform_core.cluster.function_runtime``) answers a handler's exception with a 500
whose body names it; Knative's queue-proxy and activator answer 502/503 when the container died
and 504 when the revision's ``timeoutSeconds`` ran out. Those become ``error_kind``
``exception``, ``crashed`` and ``timeout``; a timeout on our side is a ``timeout`` too. Only a
function that cannot be reached at all is ``Unavailable``.
"""

from __future__ import annotations

import time

import httpx

from platform_core.cluster.schemas import FunctionErrorKind, FunctionRequest, FunctionResponse
from platform_core.errors import Unavailable

_TRANSPORT_HEADERS = {"connection", "date", "server", "transfer-encoding", "keep-alive"}


def _elapsed(started: float) -> float:
    return round((time.perf_counter() - started) * 1000, 3)


async def invoke(
    http: httpx.AsyncClient,
    url: str,
    request: FunctionRequest,
    *,
    time_limit: float,
    revision: str,
    function: str,
) -> FunctionResponse:
    started = time.perf_counter()
    try:
        answer = await http.request(
            request.method,
            url.rstrip("/") + "/" + request.path.lstrip("/"),
            params=request.query,
            headers=request.headers,
            content=request.body.encode(),
            timeout=time_limit,
        )
    except httpx.TimeoutException:
        return FunctionResponse(
            ok=False,
            status_code=504,
            headers={},
            body="",
            duration_ms=_elapsed(started),
            revision=revision,
            error=f"function timed out after {time_limit:g}s",
            error_kind="timeout",
        )
    except httpx.HTTPError as exc:
        raise Unavailable(
            f'function "{function}" could not be reached ({type(exc).__name__})'
        ) from None
    duration = _elapsed(started)
    code, text = answer.status_code, answer.text
    kind: FunctionErrorKind | None = None
    error = None
    if code == 500:
        kind, error = "exception", text.strip() or "the function raised an exception"
    elif code == 504:
        kind, error = "timeout", f"function timed out after {time_limit:g}s"
    elif code >= 500:
        kind, error = "crashed", f"the function's container failed (HTTP {code})"
    return FunctionResponse(
        ok=code < 500,
        status_code=code,
        headers={
            k.lower(): v for k, v in answer.headers.items() if k.lower() not in _TRANSPORT_HEADERS
        },
        body=text,
        duration_ms=duration,
        revision=revision,
        error=error,
        error_kind=kind,
    )
