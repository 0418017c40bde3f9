"""Delivering a notification to channels, with retries, without ever failing the caller.

``Notifier.send`` returns a ``DeliveryResult`` whatever happens: connection errors, 429 (its
``Retry-After`` honoured up to a cap) and 5xx are retried with exponential backoff; other 4xx,
Slack's ``{"ok": false}`` and permanent SMTP refusals are not. Only cancellation propagates.
Logs and results carry the channel's public view, never a token, secret or webhook URL; the
URL that httpx itself logs for each request is masked while a notification is being sent.

Tenants type the URLs in, so by default a URL that resolves into a private network (the
service's own cluster, cloud metadata) is refused before any request; ``allow_private_networks``
lifts this for development and tests. Redirects are never followed, for the same reason.
"""

from __future__ import annotations

import asyncio
import json
import logging
import random
import time
import uuid
from collections.abc import Awaitable, Callable, Iterable
from contextvars import ContextVar
from email.utils import parsedate_to_datetime
from types import TracebackType
from typing import Any, Self

import httpx
from pydantic import SecretStr

from aiops.notifications.channels import (
    Channel,
    EmailChannel,
    SlackBotChannel,
    SlackWebhookChannel,
    WebhookChannel,
)
from aiops.notifications.mail import build_message, send_message
from aiops.notifications.messages import Notification
from aiops.notifications.rendering import render_slack, render_webhook, truncate
from aiops.notifications.results import Attempt, DeliveryResult
from aiops.notifications.signing import (
    DELIVERY_HEADER,
    EVENT_HEADER,
    SIGNATURE_HEADER,
    signature_header,
)
from aiops.notifications.urls import is_public_destination, masked_url

logger = logging.getLogger(__name__)

USER_AGENT = "Hexabase-AIOps-Notifier/1"
# Slack errors worth another try; every other ``ok: false`` is a configuration problem.
SLACK_TRANSIENT_ERRORS = frozenset(
    {"ratelimited", "service_unavailable", "internal_error", "fatal_error", "request_timeout"}
)

_masked_request_url: ContextVar[str | None] = ContextVar("notification_url", default=None)


class _MaskRequestUrl(logging.Filter):
    """httpx logs each request's URL at INFO; for a Slack webhook that URL is the credential."""

    def filter(self, record: logging.LogRecord) -> bool:
        masked = _masked_request_url.get()
        if masked is not None and isinstance(record.args, tuple):
            record.args = tuple(masked if isinstance(a, httpx.URL) else a for a in record.args)
        return True


logging.getLogger("httpx").addFilter(_MaskRequestUrl())


def _target(channel: Channel) -> str:
    if isinstance(channel, SlackWebhookChannel):
        return masked_url(channel.url.get_secret_value())
    if isinstance(channel, SlackBotChannel):
        return f"{channel.channel} via {masked_url(channel.api_url)}"
    if isinstance(channel, WebhookChannel):
        return masked_url(channel.url)
    return f"{len(channel.to)} recipient(s) via {channel.smtp_host}:{channel.smtp_port}"


def _redact(text: str, channel: Channel) -> str:
    """``text`` with every secret of ``channel`` replaced, in case a library echoed one."""
    for value in channel.__dict__.values():
        if isinstance(value, SecretStr) and value.get_secret_value():
            text = text.replace(value.get_secret_value(), "********")
    return text


def _retry_after(response: httpx.Response) -> float | None:
    value = response.headers.get("Retry-After", "").strip()
    if not value:
        return None
    if value.isdigit():
        return float(value)
    try:
        moment = parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    return max(0.0, moment.timestamp() - time.time())


def _http_outcome(response: httpx.Response) -> Attempt:
    """2xx is success; 408, 429 and 5xx may succeed later; any other status will not."""
    status = response.status_code
    if 200 <= status < 300:
        return Attempt(ok=True, status=status)
    body = " ".join(response.text.split())
    error = truncate(f"HTTP {status}" + (f": {body}" if body else ""), 300)
    retry = status in (408, 429) or status >= 500
    return Attempt(
        ok=False, retry=retry, status=status, error=error, retry_after=_retry_after(response)
    )


def _slack_api_outcome(response: httpx.Response) -> Attempt:
    """The Web API answers 200 with ``{"ok": false, "error": ...}`` when it refuses."""
    if response.status_code != 200:
        return _http_outcome(response)
    try:
        data: Any = response.json()
    except json.JSONDecodeError:
        return Attempt(ok=False, status=200, error="Slack answered with something other than JSON")
    if isinstance(data, dict) and data.get("ok") is True:
        return Attempt(ok=True, status=200)
    error = str(data.get("error", "unknown_error")) if isinstance(data, dict) else "unknown_error"
    return Attempt(
        ok=False,
        retry=error in SLACK_TRANSIENT_ERRORS,
        status=200,
        error=truncate(f"Slack error: {error}", 300),
    )


class Notifier:
    """Sends notifications to channels. Reuse one per process; ``aclose`` it at shutdown.

    ``http`` is an optional shared client (it is not closed here); ``timeout`` bounds each
    request or SMTP session; ``attempts`` counts the first try. Backoff doubles from
    ``backoff`` seconds with jitter, up to ``max_backoff``; a ``Retry-After`` is waited for up
    to ``max_retry_after`` seconds.
    """

    def __init__(
        self,
        http: httpx.AsyncClient | None = None,
        *,
        timeout: float = 10.0,
        attempts: int = 3,
        backoff: float = 0.5,
        max_backoff: float = 10.0,
        max_retry_after: float = 30.0,
        allow_private_networks: bool = False,
    ) -> None:
        if attempts < 1:
            raise ValueError("attempts must be at least 1")
        self._owns_http = http is None
        self._http = http or httpx.AsyncClient(
            timeout=timeout, follow_redirects=False, headers={"User-Agent": USER_AGENT}
        )
        self._timeout = timeout
        self._attempts = attempts
        self._backoff = backoff
        self._max_backoff = max_backoff
        self._max_retry_after = max_retry_after
        self._allow_private_networks = allow_private_networks

    async def aclose(self) -> None:
        """Close the HTTP client if this notifier created it."""
        if self._owns_http:
            await self._http.aclose()

    async def __aenter__(self) -> Self:
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        await self.aclose()

    async def send_all(
        self, channels: Iterable[Channel], notification: Notification
    ) -> list[DeliveryResult]:
        """Deliver to every channel concurrently; results are in the order of ``channels``."""
        return list(await asyncio.gather(*(self.send(c, notification) for c in channels)))

    async def send(self, channel: Channel, notification: Notification) -> DeliveryResult:
        """Deliver to one channel. Never raises for a failed delivery: see the result."""
        delivery_id = uuid.uuid4().hex
        target = _target(channel)
        token = _masked_request_url.set(target)
        try:
            result = await self._deliver(channel, notification, delivery_id, target)
        except Exception as exc:  # a failure here must never reach the caller
            error = _redact(truncate(f"{type(exc).__name__}: {exc}", 300), channel)
            result = DeliveryResult(
                ok=False,
                channel_kind=channel.kind,
                attempts=0,
                delivery_id=delivery_id,
                target=target,
                error=f"internal error: {error}",
            )
        finally:
            _masked_request_url.reset(token)
        self._log(result, notification)
        return result

    async def _deliver(
        self, channel: Channel, notification: Notification, delivery_id: str, target: str
    ) -> DeliveryResult:
        def finish(outcome: Attempt, attempts: int) -> DeliveryResult:
            return DeliveryResult(
                ok=outcome.ok,
                channel_kind=channel.kind,
                attempts=attempts,
                delivery_id=delivery_id,
                target=target,
                status=outcome.status,
                error=_redact(outcome.error, channel) if outcome.error else None,
            )

        if isinstance(channel, EmailChannel):
            message = build_message(channel, notification)
            return finish(
                *await self._retrying(
                    lambda: send_message(channel, message, time_limit=self._timeout)
                )
            )
        url, attempt = self._http_request(channel, notification, delivery_id)
        if not self._allow_private_networks and not await is_public_destination(url):
            refused = Attempt(ok=False, error=f"refused: {target} is not a public address")
            return finish(refused, 0)
        return finish(*await self._retrying(attempt))

    def _http_request(
        self, channel: Channel, notification: Notification, delivery_id: str
    ) -> tuple[str, Callable[[], Awaitable[Attempt]]]:
        """The URL to call and a function making one attempt at it."""
        if isinstance(channel, SlackWebhookChannel):
            url = channel.url.get_secret_value()
            body = json.dumps(render_slack(notification)).encode()
            return url, lambda: self._post(url, body, {}, _http_outcome)
        if isinstance(channel, SlackBotChannel):
            url = channel.api_url.rstrip("/") + "/chat.postMessage"
            payload = {
                "channel": channel.channel,
                "unfurl_links": False,
                **render_slack(notification),
            }
            body = json.dumps(payload).encode()
            auth = {"Authorization": f"Bearer {channel.token.get_secret_value()}"}
            return url, lambda: self._post(url, body, auth, _slack_api_outcome)
        if isinstance(channel, WebhookChannel):
            body = json.dumps(render_webhook(notification, delivery_id=delivery_id)).encode()
            fixed = {EVENT_HEADER: notification.event, DELIVERY_HEADER: delivery_id}

            def signed() -> Awaitable[Attempt]:  # signed afresh on every attempt
                headers = {**fixed, SIGNATURE_HEADER: signature_header(channel.secret, body)}
                return self._post(channel.url, body, headers, _http_outcome)

            return channel.url, signed
        raise TypeError(f"no HTTP delivery for {channel.kind}")

    async def _post(
        self,
        url: str,
        body: bytes,
        headers: dict[str, str],
        interpret: Callable[[httpx.Response], Attempt],
    ) -> Attempt:
        try:
            response = await self._http.post(
                url,
                content=body,
                headers={"Content-Type": "application/json; charset=utf-8", **headers},
                timeout=self._timeout,
                follow_redirects=False,
            )
        except httpx.TransportError as exc:  # refused, reset, timed out, DNS: worth a retry
            detail = str(exc) or "no detail"
            return Attempt(
                ok=False, retry=True, error=truncate(f"{type(exc).__name__}: {detail}", 300)
            )
        return interpret(response)

    async def _retrying(self, attempt: Callable[[], Awaitable[Attempt]]) -> tuple[Attempt, int]:
        number = 1
        while True:
            outcome = await attempt()
            if outcome.ok or not outcome.retry or number >= self._attempts:
                return outcome, number
            await asyncio.sleep(self._delay(number, outcome.retry_after))
            number += 1

    def _delay(self, number: int, retry_after: float | None) -> float:
        if retry_after is not None:
            return min(retry_after, self._max_retry_after)
        ceiling = min(self._max_backoff, self._backoff * 2 ** (number - 1))
        return random.uniform(ceiling / 2, ceiling)

    def _log(self, result: DeliveryResult, notification: Notification) -> None:
        fields = {
            "notification_channel": result.channel_kind,
            "notification_target": result.target,
            "notification_event": notification.event,
            "incident_id": notification.incident_id,
            "delivery_id": result.delivery_id,
            "attempts": result.attempts,
            "status": result.status,
        }
        if result.ok:
            logger.info("notification delivered", extra=fields)
        else:
            logger.warning("notification not delivered: %s", result.error, extra=fields)


__all__ = ["DeliveryResult", "Notifier"]
