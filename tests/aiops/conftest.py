"""Fixtures for tests that use the real Redis directly (not through the app's state)."""

from __future__ import annotations

import secrets
from collections.abc import AsyncIterator

import pytest
from redis.asyncio import Redis

from platform_core.kv import KeySpace, create_redis
from tests.support.databases import REDIS_URL


@pytest.fixture
async def redis() -> AsyncIterator[Redis]:
    client = create_redis(REDIS_URL)
    yield client
    await client.aclose()


@pytest.fixture
async def keys(redis: Redis) -> AsyncIterator[KeySpace]:
    """A key namespace of this test's own, emptied afterwards."""
    space = KeySpace(f"aiops-test-{secrets.token_hex(4)}")
    yield space
    found = [key async for key in redis.scan_iter(match=f"{space.namespace}:*")]
    if found:
        await redis.delete(*found)
