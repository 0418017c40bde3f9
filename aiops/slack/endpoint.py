"""``POST /slack/events``: the Events API and interactivity endpoint (HTTP mode).

Mounted as a small ASGI app rather than an API route, on purpose: it is Slack's webhook, not
part of the REST API, so it is not in the OpenAPI document, and the audit middleware does not
write an anonymous record for every Slack delivery (what the bot does is audited where it
happens: links, approval decisions, and every tool call). Bolt verifies the ``v0=`` signature
over ``v0:{timestamp}:{body}`` and the timestamp's freshness (five minutes) before any
listener runs; a request that fails answers 401 and does nothing.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

from fastapi import FastAPI
from slack_bolt.adapter.starlette.async_handler import to_async_bolt_request, to_starlette_response
from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Mount
from starlette.types import Receive, Scope, Send

from aiops.http.errors import error_body
from aiops.slack.bot import SlackBot
from aiops.slack.config import SlackConfig
from aiops.state import AppState

MOUNT_PATH = "/slack"
EVENTS_PATH = "/events"
MAX_BODY_BYTES = 1024 * 1024  # Slack's payloads are a few kilobytes


class SlackEvents:
    """The ASGI endpoint in front of the Bolt app."""

    def __init__(self, bot: SlackBot) -> None:
        self.bot = bot

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            return
        path = scope["path"][len(scope.get("root_path", "")) :] or "/"
        if path.rstrip("/") != EVENTS_PATH:
            body = error_body("not_found", "not found")
            await JSONResponse(body, status_code=404)(scope, receive, send)
            return
        if scope["method"] != "POST":
            body = error_body("method_not_allowed", "use POST")
            await JSONResponse(body, status_code=405, headers={"Allow": "POST"})(
                scope, receive, send
            )
            return
        request = Request(scope, receive)
        payload = await _read_limited(request)
        if payload is None:
            body = error_body("payload_too_large", "the request body is too large")
            await JSONResponse(body, status_code=413)(scope, receive, send)
            return
        if not request.headers.get("x-slack-request-timestamp", "").isdigit():
            # Bolt would fail on a timestamp that is not a number; it is simply not signed
            await JSONResponse({"error": "invalid request"}, status_code=401)(scope, receive, send)
            return
        answer = await self.bot.app.async_dispatch(to_async_bolt_request(request, payload))
        await to_starlette_response(answer)(scope, receive, send)


async def _read_limited(request: Request) -> bytes | None:
    chunks: list[bytes] = []
    size = 0
    async for chunk in request.stream():
        size += len(chunk)
        if size > MAX_BODY_BYTES:
            return None
        chunks.append(chunk)
    return b"".join(chunks)


def install_slack(
    app: FastAPI, state: AppState, config: SlackConfig | None = None
) -> SlackBot | None:
    """Mount ``/slack/events`` when HTTP mode is configured (bot token + signing secret).

    Returns the bot (also at ``app.state.slack_bot``), or ``None`` when Slack is not
    configured. Installing again replaces the previous bot. The bot's background work is
    stopped when the application shuts down.
    """
    config = config or SlackConfig.from_settings(state.settings)
    if not config.http_ready:
        return None
    bot = SlackBot(state, config)
    previous: SlackBot | None = getattr(app.state, "slack_bot", None)
    app.state.slack_bot = bot
    app.router.routes[:] = [
        route for route in app.router.routes if getattr(route, "name", None) != "slack"
    ]
    app.router.routes.append(Mount(MOUNT_PATH, app=SlackEvents(bot), name="slack"))
    if previous is None:
        _stop_with(app)
    return bot


def _stop_with(app: FastAPI) -> None:
    """Close the (current) bot when the application's lifespan ends, before the state closes."""
    inner = app.router.lifespan_context

    @asynccontextmanager
    async def lifespan(application: Any) -> AsyncIterator[Any]:
        async with inner(application) as value:
            try:
                yield value
            finally:
                bot: SlackBot | None = getattr(app.state, "slack_bot", None)
                if bot is not None:
                    await bot.close()

    app.router.lifespan_context = lifespan
