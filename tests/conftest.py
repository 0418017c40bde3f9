"""Fixtures shared by the whole suite.

Every test that touches the database runs twice: once on the real PostgreSQL and once on a
SQLite file (the ``database_url`` fixture is parametrized), both migrated from empty by the
project's migrations. Redis is the real server, with a key namespace of its own per test.
"""

from __future__ import annotations

import re
import secrets
from collections.abc import AsyncIterator, Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from fastapi import FastAPI

from aiops.app import create_app
from aiops.state import AppState
from platform_core.auth.keys import generate_private_key_pem
from platform_core.config import Settings
from tests.support import tenants
from tests.support.databases import (
    REDIS_URL,
    close_and_wipe,
    drop_redis_namespace,
    migrate,
    postgres_database,
    sqlite_database,
)

JWT_KEY = generate_private_key_pem().decode()


@pytest.fixture(autouse=True)
def _name_the_test(request: pytest.FixtureRequest) -> None:
    """Seeds the test's workspace ids: the test's id without the database it runs on."""
    tenants.current_test = re.sub(r"\b(postgresql|sqlite)\b-?", "", request.node.nodeid)


@pytest.fixture(scope="session", params=["postgresql", "sqlite"])
async def database_url(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> AsyncIterator[str]:
    if request.param == "postgresql":
        manager = postgres_database()
    else:
        manager = sqlite_database(tmp_path_factory.mktemp("sqlite"))
    async with manager as url:
        await migrate(url)
        yield url


def make_settings(database_url: str, data_dir: Path, **overrides: Any) -> Settings:
    values: dict[str, Any] = {
        "environment": "test",
        "database_url": database_url,
        "redis_url": REDIS_URL,
        "redis_namespace": f"aiops-test-{secrets.token_hex(6)}",
        "data_dir": data_dir,
        "jwt_private_key": JWT_KEY,
        "password_hash_time_cost": 1,
        "password_hash_memory_kib": 8 * 1024,
        "password_hash_parallelism": 1,
        "rate_limit_user_per_minute": 10_000,
        "rate_limit_ip_per_minute": 10_000,
        "rate_limit_login_per_minute": 1_000,
        "log_json": False,
    }
    values.update(overrides)
    return Settings(_env_file=None, **values)  # type: ignore[call-arg]


@pytest.fixture
def settings_overrides() -> dict[str, Any]:
    """Override in a test module to change the app's settings."""
    return {}


@pytest.fixture(scope="session")
def clickhouse_url(tmp_path_factory: pytest.TempPathFactory) -> str:
    """One embedded ClickHouse for the run (chDB opens one path per process)."""
    return f"chdb://{tmp_path_factory.mktemp('chdb')}"


@pytest.fixture
def settings(
    database_url: str, tmp_path: Path, clickhouse_url: str, settings_overrides: dict[str, Any]
) -> Settings:
    values = {"clickhouse_url": clickhouse_url, **settings_overrides}
    return make_settings(database_url, tmp_path, **values)


@pytest.fixture
async def app(settings: Settings) -> AsyncIterator[FastAPI]:
    application = create_app(settings)
    await application.state.aiops.start()
    yield application
    state: AppState = application.state.aiops
    await close_and_wipe(state)
    await drop_redis_namespace(settings)


@pytest.fixture
def state(app: FastAPI) -> AppState:
    result: AppState = app.state.aiops
    return result


@pytest.fixture
async def client(app: FastAPI) -> AsyncIterator[httpx.AsyncClient]:
    transport = httpx.ASGITransport(app=app, client=("203.0.113.7", 5555))
    async with httpx.AsyncClient(transport=transport, base_url="http://aiops.test") as http:
        yield http


@pytest.fixture
def anyio_backend() -> Iterator[str]:
    yield "asyncio"
