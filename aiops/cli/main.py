"""``aiops``: serve the API, migrate the database, administer tenants."""

from __future__ import annotations

import asyncio

import typer

from aiops.cli.admin import admin_app
from aiops.cli.bench import bench_app
from aiops.cli.chat import chat
from aiops.cli.db import db_app, migrate
from aiops.cli.models import models_app
from aiops.cli.runtime import cli_runtime, seed_everything
from aiops.mcp.cli import mcp
from aiops.slack.cli import slack
from evals.cli import eval_app  # the CLI is the only place that reaches the evaluation suite
from platform_core.config import Settings, get_settings

app = typer.Typer(help="Hexabase AIOps service and tools.", no_args_is_help=True)
app.add_typer(db_app, name="db")
app.add_typer(admin_app, name="admin")
app.add_typer(eval_app, name="eval")
app.add_typer(bench_app, name="bench")
app.add_typer(models_app, name="models")
app.command()(mcp)
app.command()(slack)
app.command()(chat)


async def _seed_and_issue_token(settings: Settings) -> str:
    """Seed the demo tenant and its applications (once), and sign the demo admin in."""
    demo = await seed_everything(settings)
    async with cli_runtime(settings) as rt:
        pair = await rt.state.auth.open_session(rt.session, demo.admin.id)
    return pair.access_token


@app.command()
def serve(
    host: str | None = typer.Option(None, help="Bind address (default AIOPS_HOST)"),
    port: int | None = typer.Option(None, help="Port (default AIOPS_PORT, 8000)"),
    migrate_first: bool = typer.Option(
        True, "--migrate/--no-migrate", help="Apply database migrations before starting"
    ),
    seed: bool = typer.Option(
        False, "--seed-demo/--no-seed-demo", help="Create the demo tenant if it is missing"
    ),
) -> None:
    """Start the service."""
    import uvicorn

    from aiops.app import create_app
    from aiops.logging import configure_logging
    from aiops.serving import server_config

    overrides = {k: v for k, v in {"host": host, "port": port}.items() if v is not None}
    settings = get_settings().model_copy(update=overrides)
    configure_logging(settings.log_level, json_lines=settings.log_json)
    if migrate_first:
        asyncio.run(migrate(settings))
    token = asyncio.run(_seed_and_issue_token(settings)) if seed else None
    typer.echo(
        f"Hexabase AIOps on {settings.base_url}  (OpenAPI: {settings.base_url}/openapi.json)"
    )
    if token:
        typer.echo("demo admin: admin@demo.local (organization 'demo'); access token for 15 min:")
        typer.echo(f"token: {token}")
    uvicorn.Server(server_config(create_app(settings), settings)).run()


if __name__ == "__main__":  # pragma: no cover
    app()
