"""Socket Mode: the bot over an outbound WebSocket, for installations without a public URL.

The app-level token (``xapp-``) opens the connection; events arrive over it instead of signed
HTTP requests, and the bot answers them exactly as in HTTP mode. The Web API calls use the
bot's own client, so ``api_url`` applies here too.
"""

from __future__ import annotations

import asyncio

from slack_bolt.adapter.socket_mode.async_handler import AsyncSocketModeHandler

from aiops.slack.bot import SlackBot
from aiops.slack.config import SlackConfig
from aiops.state import AppState


def socket_mode_bot(state: AppState, config: SlackConfig) -> SlackBot:
    if not config.socket_ready:
        raise ValueError("Socket Mode needs the bot token and the app-level token")
    return SlackBot(state, config, socket_mode=True)


def socket_mode_handler(bot: SlackBot) -> AsyncSocketModeHandler:
    """The handler (not yet connected: ``start_async`` connects and serves)."""
    if not bot.config.app_token:
        raise ValueError("Socket Mode needs the app-level token (xapp-...)")
    return AsyncSocketModeHandler(bot.app, app_token=bot.config.app_token, web_client=bot.client)


async def serve_socket_mode(handler: AsyncSocketModeHandler) -> None:
    """Connect and serve until cancelled, then disconnect (Bolt leaves these untyped)."""
    await handler.connect_async()  # type: ignore[no-untyped-call]
    try:
        await asyncio.Event().wait()
    finally:
        await handler.close_async()  # type: ignore[no-untyped-call]
