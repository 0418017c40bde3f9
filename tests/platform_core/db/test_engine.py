"""Pooled PostgreSQL connections: busy ones are used as they are, idle ones are checked first,
and one that died while idle is replaced without the caller noticing."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine

from platform_core.db import engine as engine_module
from platform_core.db.engine import create_engine
from tests.support.databases import POSTGRES_ADMIN_URL


async def _backend_pid(engine: AsyncEngine) -> int:
    async with engine.connect() as connection:
        return int((await connection.execute(text("SELECT pg_backend_pid()"))).scalar_one())


@pytest.fixture
async def pooled() -> AsyncIterator[AsyncEngine]:
    engine = create_engine(POSTGRES_ADMIN_URL, pool_size=1)
    yield engine
    await engine.dispose()


@pytest.fixture
def pings(pooled: AsyncEngine, monkeypatch: pytest.MonkeyPatch) -> list[object]:
    seen: list[object] = []
    real = pooled.dialect.do_ping

    def counting(dbapi_connection: object) -> bool:
        seen.append(dbapi_connection)
        return real(dbapi_connection)

    monkeypatch.setattr(pooled.dialect, "do_ping", counting)
    return seen


async def test_a_connection_in_steady_use_is_not_pinged(
    pooled: AsyncEngine, pings: list[object]
) -> None:
    first = await _backend_pid(pooled)
    for _ in range(5):
        assert await _backend_pid(pooled) == first
    assert pings == []


async def test_an_idle_connection_is_pinged_before_use(
    pooled: AsyncEngine, pings: list[object], monkeypatch: pytest.MonkeyPatch
) -> None:
    first = await _backend_pid(pooled)
    monkeypatch.setattr(engine_module, "IDLE_PING_SECONDS", 0.0)
    assert await _backend_pid(pooled) == first
    assert len(pings) == 1


async def test_a_connection_killed_while_idle_is_replaced_unnoticed(
    pooled: AsyncEngine, pings: list[object], monkeypatch: pytest.MonkeyPatch
) -> None:
    dead = await _backend_pid(pooled)
    killer = create_engine(POSTGRES_ADMIN_URL)
    try:
        async with killer.connect() as connection:
            await connection.execute(text(f"SELECT pg_terminate_backend({dead})"))
    finally:
        await killer.dispose()
    monkeypatch.setattr(engine_module, "IDLE_PING_SECONDS", 0.0)

    replacement = await _backend_pid(pooled)

    assert replacement != dead
    assert len(pings) >= 1
