"""The Bolt app: verifies and parses what Slack sends, acknowledges at once, works after.

Slack wants an answer within three seconds and redelivers otherwise, while a turn can take a
minute. So every listener only parses the payload and hands the work to a background task the
bot tracks (``drain`` waits for them, ``close`` stops them); Bolt runs listeners before
answering (``process_before_response``), which keeps acknowledging independent of how Bolt
schedules its own tasks. Messages the bot cannot act on (edits, bots, other channels' chatter)
are acknowledged and ignored.

Nothing here reads the environment: Bolt would fall back to ``SLACK_*`` variables for a missing
token or signing secret, so both are always passed explicitly.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import re
from collections.abc import Coroutine
from typing import Any

from slack_bolt.async_app import AsyncApp
from slack_bolt.context.ack.async_ack import AsyncAck
from slack_bolt.context.async_context import AsyncBoltContext
from slack_sdk.web.async_client import AsyncWebClient

from aiops.slack.config import SlackConfig
from aiops.slack.handlers import Click, Handlers, Incoming
from aiops.slack.render import APPROVE_ACTION, DENY_ACTION
from aiops.state import AppState

logger = logging.getLogger(__name__)
MENTION = re.compile(r"<@[A-Z0-9]+(?:\|[^>]*)?>")


def web_client(config: SlackConfig) -> AsyncWebClient:
    if config.api_url:
        return AsyncWebClient(token=config.bot_token, base_url=config.api_url)
    return AsyncWebClient(token=config.bot_token)


def strip_mentions(text: str, bot_user_id: str | None) -> str:
    """The message without the bot's mention (or, if unknown, without leading mentions)."""
    if bot_user_id:
        text = re.sub(rf"<@{re.escape(bot_user_id)}(?:\|[^>]*)?>", " ", text)
    else:
        text = re.sub(rf"^\s*(?:{MENTION.pattern}\s*)+", " ", text)
    return " ".join(text.split())


def _team(body: dict[str, Any], event: dict[str, Any]) -> str:
    return str(event.get("user_team") or event.get("team") or body.get("team_id") or "")


class SlackBot:
    """The bot for one Slack workspace (one bot token)."""

    def __init__(self, state: AppState, config: SlackConfig, *, socket_mode: bool = False) -> None:
        if not config.bot_token:
            raise ValueError("the Slack bot needs a bot token")
        if not socket_mode and not config.signing_secret:
            raise ValueError("HTTP mode needs the signing secret: requests must be verified")
        self.config = config
        self.client = web_client(config)
        self.app = AsyncApp(
            client=self.client,
            signing_secret=config.signing_secret or "",
            # Socket Mode traffic arrives over the app-token connection, not signed requests
            request_verification_enabled=not socket_mode,
            process_before_response=True,
            logger=logging.getLogger("aiops.slack.bolt"),
        )
        self.handlers = Handlers(state, self.client, config)
        self._tasks: set[asyncio.Task[None]] = set()
        self.app.event("app_mention")(self._on_mention)
        self.app.event("message")(self._on_message)
        self.app.action(APPROVE_ACTION)(self._on_approve)
        self.app.action(DENY_ACTION)(self._on_deny)

    # ------------------------------------------------------------------ background work

    def spawn(self, work: Coroutine[Any, Any, None], name: str) -> None:
        task = asyncio.create_task(self._logged(work), name=name)
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    @staticmethod
    async def _logged(work: Coroutine[Any, Any, None]) -> None:
        try:
            await work
        except Exception:
            logger.exception("Slack work failed")

    async def drain(self) -> None:
        """Wait until all work started so far (and what it started) is done."""
        while self._tasks:
            await asyncio.gather(*list(self._tasks), return_exceptions=True)

    async def close(self) -> None:
        for task in list(self._tasks):
            task.cancel()
        for task in list(self._tasks):
            with contextlib.suppress(asyncio.CancelledError):
                await task

    # ------------------------------------------------------------------ listeners

    async def _on_mention(
        self, body: dict[str, Any], event: dict[str, Any], context: AsyncBoltContext
    ) -> None:
        if event.get("bot_id") or not event.get("user"):
            return
        self._incoming(body, event, context, direct=event.get("channel_type") == "im")

    async def _on_message(
        self, body: dict[str, Any], event: dict[str, Any], context: AsyncBoltContext
    ) -> None:
        # only what a person wrote in a DM; in channels the bot answers mentions
        if event.get("channel_type") != "im" or event.get("subtype") or event.get("bot_id"):
            return
        if not event.get("user"):
            return
        self._incoming(body, event, context, direct=True)

    def _incoming(
        self,
        body: dict[str, Any],
        event: dict[str, Any],
        context: AsyncBoltContext,
        *,
        direct: bool,
    ) -> None:
        incoming = Incoming(
            team_id=_team(body, event),
            user=str(event["user"]),
            channel=str(event["channel"]),
            ts=str(event["ts"]),
            thread_ts=str(event["thread_ts"]) if event.get("thread_ts") else None,
            text=strip_mentions(str(event.get("text") or ""), context.bot_user_id),
            direct=direct,
        )
        self.spawn(self.handlers.on_message(incoming), name=f"slack-message-{incoming.ts}")

    async def _on_approve(self, ack: AsyncAck, body: dict[str, Any]) -> None:
        await ack()
        self._click(body, approve=True)

    async def _on_deny(self, ack: AsyncAck, body: dict[str, Any]) -> None:
        await ack()
        self._click(body, approve=False)

    def _click(self, body: dict[str, Any], *, approve: bool) -> None:
        actions = body.get("actions") or []
        message = body.get("message") or {}
        channel = (body.get("channel") or {}).get("id")
        user = body.get("user") or {}
        if not actions or not channel or not message.get("ts") or not user.get("id"):
            return  # not a click on a message we posted
        click = Click(
            team_id=str(user.get("team_id") or (body.get("team") or {}).get("id") or ""),
            user=str(user["id"]),
            channel=str(channel),
            approval_id=str(actions[0].get("value") or ""),
            approve=approve,
            message_ts=str(message["ts"]),
            thread_ts=str(message.get("thread_ts") or message["ts"]),
            blocks=list(message.get("blocks") or []),
            text=str(message.get("text") or ""),
        )
        self.spawn(self.handlers.on_click(click), name=f"slack-click-{click.message_ts}")
