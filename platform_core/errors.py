"""Domain exceptions.

Every expected failure is one of these. Each carries the HTTP status it maps to, a stable
machine-readable ``code`` and a message written for the person (or model) that reads it. One
handler in the service renders them; nothing else turns exceptions into responses.
"""

from __future__ import annotations

from typing import Any, ClassVar


class DomainError(Exception):
    """Base class: an expected failure with a status code and a stable code."""

    status_code: ClassVar[int] = 400
    code: ClassVar[str] = "bad_request"

    def __init__(self, message: str, *, details: dict[str, Any] | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.details = details or {}


class InvalidInput(DomainError):
    """Input that is well-formed but not acceptable (e.g. a cycle in a project tree)."""

    status_code = 422
    code = "invalid_input"


class Unauthenticated(DomainError):
    """No credentials, or credentials that are expired, revoked or wrongly signed."""

    status_code = 401
    code = "unauthenticated"


class Forbidden(DomainError):
    """The caller can see the object but may not perform the action on it."""

    status_code = 403
    code = "forbidden"


class NotFound(DomainError):
    """The object does not exist, or exists in a tenant the caller cannot see."""

    status_code = 404
    code = "not_found"


class Conflict(DomainError):
    """The request conflicts with the current state (duplicate name, last owner, ...)."""

    status_code = 409
    code = "conflict"


class PlanLimitExceeded(DomainError):
    """The organization's plan or subscription does not allow this."""

    status_code = 402
    code = "plan_limit_exceeded"


class RateLimited(DomainError):
    """Too many requests; ``retry_after`` seconds until the next one is accepted."""

    status_code = 429
    code = "rate_limited"

    def __init__(self, message: str, *, retry_after: int) -> None:
        super().__init__(message, details={"retry_after": retry_after})
        self.retry_after = retry_after


class Unavailable(DomainError):
    """A backend the operation needs is unreachable or timed out."""

    status_code = 503
    code = "unavailable"
