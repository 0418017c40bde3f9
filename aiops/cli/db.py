"""``aiops db``: database migrations."""

from __future__ import annotations

import asyncio

import typer

from platform_core.config import Settings, get_settings
from platform_core.db.engine import create_engine
from platform_core.db.migrate import current_revision, upgrade

db_app = typer.Typer(help="Database migrations.", no_args_is_help=True)


async def migrate(settings: Settings, revision: str = "head") -> None:
    engine = create_engine(settings.resolved_database_url)
    try:
        await upgrade(engine, revision)
    finally:
        await engine.dispose()


@db_app.command("upgrade")
def upgrade_command(revision: str = typer.Argument("head", help="Target revision")) -> None:
    """Apply migrations up to REVISION (default: the latest)."""
    settings = get_settings()
    asyncio.run(migrate(settings, revision))
    typer.echo(f"database at {revision}")


@db_app.command("current")
def current_command() -> None:
    """Print the database's current revision."""

    async def read() -> str | None:
        engine = create_engine(get_settings().resolved_database_url)
        try:
            return await current_revision(engine)
        finally:
            await engine.dispose()

    typer.echo(asyncio.run(read()) or "empty database (run 'aiops db upgrade')")
