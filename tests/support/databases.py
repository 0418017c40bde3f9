"""Throw-away databases for one test run, on the real PostgreSQL and on a SQLite file.

Each run gets its own PostgreSQL database (``aiops_test_<random>``), migrated from empty with the
project's Alembic migrations, and dropped at the end, so runs on the same server never collide.
"""

from __future__ import annotations

import os
import secrets
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path

from clickhouse_connect.driver.client import Client
from sqlalchemy import text
from sqlalchemy.engine import make_url
from sqlalchemy.ext.asyncio import AsyncEngine

from aiops.state import AppState
from platform_core.clickhouse import acquire, check_identifier, release
from platform_core.config import Settings
from platform_core.db.engine import create_engine
from platform_core.db.migrate import upgrade
from platform_core.db.models import Base
from platform_core.kv import create_redis

POSTGRES_ADMIN_URL = os.environ.get(
    "AIOPS_TEST_POSTGRES_URL", "postgresql+asyncpg://postgres@127.0.0.1:5432/test"
)
REDIS_URL = os.environ.get("AIOPS_TEST_REDIS_URL", "redis://127.0.0.1:6379/0")
KEEP_TABLES = frozenset({"plans", "alembic_version"})


async def _autocommit(url: str, statement: str) -> None:
    engine = create_engine(url)
    try:
        async with engine.connect() as connection:
            auto = await connection.execution_options(isolation_level="AUTOCOMMIT")
            await auto.execute(text(statement))
    finally:
        await engine.dispose()


@asynccontextmanager
async def postgres_database() -> AsyncIterator[str]:
    name = f"aiops_test_{secrets.token_hex(4)}"
    await _autocommit(POSTGRES_ADMIN_URL, f'CREATE DATABASE "{name}"')
    url = make_url(POSTGRES_ADMIN_URL).set(database=name).render_as_string(hide_password=False)
    try:
        yield url
    finally:
        await _autocommit(POSTGRES_ADMIN_URL, f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


@asynccontextmanager
async def sqlite_database(directory: Path) -> AsyncIterator[str]:
    yield f"sqlite+aiosqlite:///{directory / 'aiops-test.db'}"


async def migrate(url: str) -> None:
    engine = create_engine(url)
    try:
        await upgrade(engine)
    finally:
        await engine.dispose()


async def wipe(engine: AsyncEngine) -> None:
    """Empty every table but the plan catalogue, between tests."""
    tables = [t for t in Base.metadata.sorted_tables if t.name not in KEEP_TABLES]
    async with engine.begin() as connection:
        if connection.dialect.name == "postgresql":
            names = ", ".join(f'"{t.name}"' for t in tables)
            await connection.execute(text(f"TRUNCATE {names} RESTART IDENTITY CASCADE"))
        else:
            # Self-references (sub-projects) are checked at commit, when all rows are gone.
            await connection.execute(text("PRAGMA defer_foreign_keys=ON"))
            for table in reversed(tables):
                await connection.execute(table.delete())


async def wipe_clickhouse(state: AppState) -> None:
    """Empty the ClickHouse tables (metrics, execution history): one embedded ClickHouse serves
    the whole run, and a test's workspace ids repeat on the other database (see ``tenants``)."""
    if state.metrics is None:
        return
    target = state.metrics.target
    connection = acquire(target, 5.0)

    def truncate(client: Client) -> None:
        rows = client.query(
            "SELECT name FROM system.tables"
            " WHERE database = {db:String} AND engine NOT LIKE '%View'",
            parameters={"db": target.database},
        ).result_rows
        for (name,) in rows:
            client.command(f"TRUNCATE TABLE {target.database}.{check_identifier(name)}")

    try:
        await connection.run(truncate)
    finally:
        release(connection)


async def close_and_wipe(state: AppState) -> None:
    """Stop the service (it saves the twin), then empty the tables it wrote, the twin's too."""
    url = state.settings.resolved_database_url
    await wipe_clickhouse(state)
    await state.close()
    engine = create_engine(url)
    try:
        await wipe(engine)
    finally:
        await engine.dispose()


async def drop_redis_namespace(settings: Settings) -> None:
    """Delete every key a test's service wrote under its own namespace."""
    redis = create_redis(settings.redis_url)
    try:
        keys = [key async for key in redis.scan_iter(match=f"{settings.redis_namespace}:*")]
        if keys:
            await redis.delete(*keys)
    finally:
        await redis.aclose()
