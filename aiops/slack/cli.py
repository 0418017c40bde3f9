"""``aiops slack``: run the Slack bot over Socket Mode (no public URL needed).

The process runs its own copy of the service state (database, Redis, cluster, agent), like
``aiops serve`` does; HTTP mode needs no command, it is mounted in the API at
``/slack/events`` when the signing secret is configured.
"""

from __future__ import annotations

import asyncio

import typer

from aiops.slack.config import SlackConfig
from platform_core.config import Settings, get_settings


async def run_socket_mode(settings: Settings, config: SlackConfig) -> None:
    """Serve until cancelled; everything is closed on the way out."""
    from aiops.slack.socket_mode import serve_socket_mode, socket_mode_bot, socket_mode_handler
    from aiops.state import AppState

    state = AppState.build(settings)
    await state.start(run_clock=True)
    bot = socket_mode_bot(state, config)
    handler = socket_mode_handler(bot)
    try:
        await serve_socket_mode(handler)
    finally:
        await bot.close()
        await state.close()


def slack() -> None:
    """Run the Slack bot over Socket Mode (needs the bot token and the app-level token)."""
    from aiops.logging import configure_logging

    settings = get_settings()
    config = SlackConfig.from_settings(settings)
    if not config.socket_ready:
        typer.echo(
            "Socket Mode needs AIOPS_SLACK_BOT_TOKEN (xoxb-...) and AIOPS_SLACK_APP_TOKEN "
            "(xapp-...).",
            err=True,
        )
        raise typer.Exit(code=2)
    configure_logging(settings.log_level, json_lines=settings.log_json)
    typer.echo("Slack bot connecting over Socket Mode; Ctrl-C stops it.")
    try:
        asyncio.run(run_socket_mode(settings, config))
    except KeyboardInterrupt:
        typer.echo("stopped")
