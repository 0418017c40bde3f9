"""One reply in a Slack thread, updated in place while a turn runs.

The turn's events are read from its stream by a separate task into a queue, so updates can be
paced by a clock rather than by the events: the message is updated at most once per
``interval`` while events arrive, a pending change is flushed when the interval has passed even
if no new event came, and the finished reply is always written last. ``chat.update`` is rate
limited by Slack (about one per second per message), hence the pacing.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections.abc import AsyncIterator, Awaitable, Callable
from typing import cast

from slack_sdk.errors import SlackApiError
from slack_sdk.web.async_client import AsyncWebClient

from agents.events import AgentEvent, SessionEvent
from aiops.slack.render import ReplyView

logger = logging.getLogger(__name__)
OnSession = Callable[[str], Awaitable[None]]
_END = object()


async def update_message(client: AsyncWebClient, channel: str, ts: str, view: ReplyView) -> None:
    message = view.message()
    try:
        await client.chat_update(channel=channel, ts=ts, text=message.text, blocks=message.blocks)
    except SlackApiError as error:  # a lost update is replaced by the next one
        logger.warning("chat.update failed: %s", error.response.get("error"))


async def stream_reply(
    client: AsyncWebClient,
    channel: str,
    ts: str,
    events: AsyncIterator[AgentEvent],
    *,
    interval: float,
    on_session: OnSession | None = None,
) -> ReplyView:
    """Fold ``events`` into the message ``ts``; returns the finished view."""
    view = ReplyView()
    queue: asyncio.Queue[object] = asyncio.Queue()

    async def pump() -> None:
        try:
            async for event in events:
                await queue.put(event)
        except Exception as error:
            logger.exception("following the turn failed")
            await queue.put(error)
        finally:
            await queue.put(_END)

    reader = asyncio.create_task(pump(), name=f"slack-follow-{ts}")
    last_update = float("-inf")
    dirty = False
    try:
        while True:
            wait = max(0.0, last_update + interval - time.monotonic()) if dirty else None
            try:
                item = await asyncio.wait_for(queue.get(), wait)
            except TimeoutError:
                await update_message(client, channel, ts, view)
                last_update, dirty = time.monotonic(), False
                continue
            if item is _END:
                break
            if isinstance(item, Exception):
                view.fail("internal_error", "lost track of the answer; ask again")
                break
            event = cast(AgentEvent, item)
            view.apply(event)
            if isinstance(event, SessionEvent) and on_session is not None:
                try:
                    await on_session(event.session_id)
                except Exception:  # the answer matters more than remembering the thread
                    logger.exception("could not remember the thread's session")
            dirty = True
            if time.monotonic() - last_update >= interval and not view.done:
                await update_message(client, channel, ts, view)
                last_update, dirty = time.monotonic(), False
        if not view.done:
            view.fail("interrupted", "the answer stopped before it was finished")
        await update_message(client, channel, ts, view)
        return view
    finally:
        reader.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await reader
