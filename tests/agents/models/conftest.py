"""Fixtures: a started fake server per test, wrapped with the provider that talks to it."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest

from tests.agents.models.harness import Harness, make_server


async def _running(provider: str) -> AsyncIterator[Harness]:
    with make_server(provider) as server:
        harness = Harness(provider, server)
        yield harness
        await harness.aclose()


@pytest.fixture(params=["ollama", "openai"])
async def harness(request: pytest.FixtureRequest) -> AsyncIterator[Harness]:
    """Each test using it runs once per provider."""
    async for running in _running(request.param):
        yield running


@pytest.fixture
async def ollama_harness() -> AsyncIterator[Harness]:
    async for running in _running("ollama"):
        yield running


@pytest.fixture
async def openai_harness() -> AsyncIterator[Harness]:
    async for running in _running("openai"):
        yield running
