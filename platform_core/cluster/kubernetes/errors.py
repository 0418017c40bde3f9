"""Kubernetes API failures -> the platform's domain errors.

The official client raises ``ApiException`` (with the HTTP status and the API server's ``Status``
body), ``urllib3`` errors (connection refused, timeouts) and, for request bodies that do not fit
its generated models, ``pydantic.ValidationError``. None of these may reach a caller: they carry
URLs, headers and stack traces that mean nothing to the person (or model) reading the error.

The API server's own ``Status.message`` is kept, because it is precise and already written for
people (``deployments.apps "web" already exists``, ``exceeded quota: ...``). Mapping:

====================  ==========================================================================
400, 405, 415, 422    ``InvalidInput`` - the request is not acceptable as sent
401                   ``Unavailable`` - the platform's credentials were rejected: a backend fault
403                   ``Forbidden``
404                   ``NotFound``
409, 410              ``Conflict`` - it exists already, or the state changed under us
429, 5xx, network     ``Unavailable`` - only raised once the retries are spent
====================  ==========================================================================
"""

from __future__ import annotations

import json
from typing import Any

from platform_core.errors import (
    Conflict,
    DomainError,
    Forbidden,
    InvalidInput,
    NotFound,
    Unavailable,
)

RETRYABLE_STATUS = frozenset({429, 500, 502, 503, 504})


def status_body(body: object) -> dict[str, Any]:
    """The ``Status`` object of an error response, or ``{}`` if the body is not one."""
    if isinstance(body, bytes):
        body = body.decode("utf-8", "replace")
    if not isinstance(body, str) or not body:
        return {}
    try:
        data = json.loads(body)
    except ValueError:
        return {}
    return data if isinstance(data, dict) else {}


def from_status(status: int, body: object, *, what: str) -> DomainError:
    """The domain error for an HTTP error answer of the API server about ``what``."""
    data = status_body(body)
    message = str(data.get("message") or "").strip()
    reason = str(data.get("reason") or "")
    details: dict[str, Any] = {"status": status}
    if reason:
        details["reason"] = reason
    causes = (data.get("details") or {}).get("causes") if isinstance(data, dict) else None
    if causes:
        details["causes"] = [
            {"field": c.get("field", ""), "message": c.get("message", "")} for c in causes
        ]
    text = message or f"{what}: HTTP {status}"
    if status in {400, 405, 415, 422}:
        return InvalidInput(text, details=details)
    if status == 401:
        return Unavailable(
            f"{what}: the cluster rejected the platform's credentials", details=details
        )
    if status == 403:
        return Forbidden(text, details=details)
    if status == 404:
        return NotFound(text, details=details)
    if status in {409, 410}:
        return Conflict(text, details=details)
    if status == 429:
        return Unavailable(
            f"{what}: the API server is overloaded (429); try again", details=details
        )
    if status >= 500:
        return Unavailable(
            f"{what}: the API server failed (HTTP {status}): {text}", details=details
        )
    return InvalidInput(text, details=details)


def unreachable(what: str, problem: str) -> Unavailable:
    """The error for a request that got no HTTP answer at all."""
    return Unavailable(f"{what}: the API server did not answer ({problem})")
