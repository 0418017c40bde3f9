"""One ASGI middleware for what every request needs, in the order it needs it.

Request id (taken from ``X-Request-ID`` when well-formed, else generated), the per-IP rate limit,
security headers and the request id on every response, a JSON access-log line, Prometheus
metrics, a clean 500 for anything unexpected, and the audit record of a mutating call that
failed before a service could write one.
"""

from __future__ import annotations

import logging
import re
import time
import uuid
from typing import Any

from starlette.datastructures import MutableHeaders
from starlette.responses import JSONResponse
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from aiops.http.errors import error_body
from aiops.logging import request_id_var
from platform_core.audit.service import outcome_for_status, record
from platform_core.context import CallContext
from platform_core.rbac.subject import ANONYMOUS

logger = logging.getLogger("aiops.http")
access_logger = logging.getLogger("aiops.access")

REQUEST_ID = re.compile(r"^[A-Za-z0-9._-]{1,64}$")
UNLIMITED_PATHS = frozenset({"/healthz", "/readyz", "/metrics"})
MUTATING = frozenset({"POST", "PUT", "PATCH", "DELETE"})
SECURITY_HEADERS = {
    "X-Content-Type-Options": "nosniff",
    "X-Frame-Options": "DENY",
    "Referrer-Policy": "no-referrer",
    "Strict-Transport-Security": "max-age=63072000; includeSubDomains",
    "Cross-Origin-Opener-Policy": "same-origin",
    "Cross-Origin-Resource-Policy": "same-origin",
    "Permissions-Policy": "camera=(), microphone=(), geolocation=()",
    "Content-Security-Policy": (
        "default-src 'self'; img-src 'self' data:; style-src 'self'; script-src 'self'; "
        "connect-src 'self'; frame-ancestors 'none'; base-uri 'none'; form-action 'self'"
    ),
}


def _request_id(scope: Scope) -> str:
    for name, value in scope.get("headers", ()):
        if name == b"x-request-id":
            candidate: str = value.decode("latin-1")
            if REQUEST_ID.match(candidate):
                return candidate
    return uuid.uuid4().hex


def _route_template(scope: Scope) -> str:
    template = getattr(scope.get("route"), "path", None)
    return template if isinstance(template, str) else "unmatched"


class RequestContextMiddleware:
    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        started = time.perf_counter()
        request_id = _request_id(scope)
        token = request_id_var.set(request_id)
        scope.setdefault("state", {})["request_id"] = request_id
        client = scope.get("client")
        client_ip = client[0] if client else None
        scope["state"]["client_ip"] = client_ip
        response = {"status": 500, "started": False}

        async def send_with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                response["started"] = True
                response["status"] = message["status"]
                headers = MutableHeaders(scope=message)
                headers["X-Request-ID"] = request_id
                for name, value in SECURITY_HEADERS.items():
                    if name not in headers:
                        headers[name] = value
                if scope["path"].startswith("/api/") and "cache-control" not in headers:
                    headers["Cache-Control"] = "no-store"
            await send(message)

        try:
            refusal = await self._ip_limit(scope, client_ip)
            if refusal is not None:
                await refusal(scope, receive, send_with_headers)
            else:
                await self.app(scope, receive, send_with_headers)
        except Exception:
            logger.exception("unhandled error", extra={"path": scope["path"]})
            response["status"] = 500
            if not response["started"]:
                body = error_body(
                    "internal_error", "an unexpected error occurred; quote the request id"
                )
                await JSONResponse(body, status_code=500)(scope, receive, send_with_headers)
        finally:
            await self._finish(scope, int(response["status"]), time.perf_counter() - started)
            request_id_var.reset(token)

    async def _ip_limit(self, scope: Scope, client_ip: str | None) -> JSONResponse | None:
        state = scope["app"].state.aiops
        settings = state.settings
        if not settings.rate_limit_enabled or scope["path"] in UNLIMITED_PATHS:
            return None
        decision = await state.auth.limiter.hit(
            f"ip:{client_ip or 'unknown'}", limit=settings.rate_limit_ip_per_minute
        )
        if decision.allowed:
            return None
        scope["app"].state.metrics.rate_limited.labels("ip").inc()
        return JSONResponse(
            error_body(
                "rate_limited",
                "too many requests from this address",
                {"retry_after": decision.retry_after_seconds},
            ),
            status_code=429,
            headers={"Retry-After": str(decision.retry_after_seconds)},
        )

    async def _finish(self, scope: Scope, status: int, seconds: float) -> None:
        route = _route_template(scope)
        scope["app"].state.metrics.observe(scope["method"], route, status, seconds)
        ctx: CallContext | None = scope["state"].get("ctx")
        access_logger.info(
            "request",
            extra={
                "method": scope["method"],
                "path": scope["path"],
                "route": route,
                "status": status,
                "duration_ms": round(seconds * 1000, 2),
                "client_ip": scope["state"].get("client_ip"),
                "subject": ctx.subject.display if ctx else None,
            },
        )
        if scope["method"] in MUTATING and (ctx is None or not ctx.audited):
            await self._audit_unrecorded(scope, ctx, status)

    async def _audit_unrecorded(self, scope: Scope, ctx: CallContext | None, status: int) -> None:
        """Record a mutating call that no service recorded (it failed early, or was refused)."""
        route = scope.get("route")
        methods = getattr(route, "methods", None) or set()
        if route is None or scope["method"] not in methods:
            return
        state = scope["app"].state.aiops
        context = ctx or CallContext(
            subject=ANONYMOUS,
            request_id=scope["state"].get("request_id"),
            client_ip=scope["state"].get("client_ip"),
        )
        params: dict[str, Any] = scope.get("path_params") or {}
        try:
            async with state.db.session() as session:
                record(
                    session,
                    context,
                    action=getattr(route, "name", "unknown"),
                    organization_id=scope["state"].get("audit_org_id"),
                    target_id=next(reversed(params.values()), None) if params else None,
                    outcome=outcome_for_status(status),
                    status_code=status,
                    details={"path": scope["path"]},
                )
                await session.commit()
        except Exception:
            logger.exception("could not write the audit record of a failed call")
