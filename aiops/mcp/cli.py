"""``aiops mcp``: the agent's tools over MCP on stdin/stdout.

A local MCP client starts it, for example::

    {"command": "aiops", "args": ["mcp", "--token", "hxa_...", "--workspace", "demo"]}

Nothing but the protocol goes to stdout; logs and errors go to stderr.
"""

from __future__ import annotations

import asyncio

import typer

from aiops.logging import configure_logging
from aiops.mcp.stdio import serve_stdio
from platform_core.config import get_settings
from platform_core.errors import DomainError


def mcp(
    token: str = typer.Option(
        ...,
        "--token",
        help=(
            "API key (hxa_...) or access token to act as; an access token expires after its "
            "lifetime (15 minutes by default), so a long-running client wants an API key"
        ),
    ),
    organization: str | None = typer.Option(
        None, "--org", help="Organization id or name (needed only if you belong to several)"
    ),
    workspace: str | None = typer.Option(
        None, "--workspace", "-w", help="Default workspace for tools that name none"
    ),
    read_only: bool = typer.Option(False, "--read-only", help="Offer and run reads only"),
) -> None:
    """Serve the agent's tools over MCP on stdio (changes wait for a person's approval)."""
    settings = get_settings()
    configure_logging(settings.log_level, json_lines=settings.log_json)  # stderr, never stdout
    try:
        asyncio.run(
            serve_stdio(
                settings,
                credential=token,
                organization=organization,
                workspace=workspace,
                read_only=read_only,
            )
        )
    except DomainError as error:
        typer.secho(f"error: {error.message}", fg=typer.colors.RED, err=True)
        raise typer.Exit(code=1) from None


app = typer.Typer(add_completion=False)
app.command()(mcp)
