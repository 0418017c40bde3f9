"""The metric store on the suite's one embedded ClickHouse."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest

from platform_core.observability.store import MetricStore


@pytest.fixture(scope="module")
async def metric_store(clickhouse_url: str) -> AsyncIterator[MetricStore]:
    """Closed after each module: chDB opens one path per process, and other modules (the
    execution-history tests) open their own once this engine is released."""
    store = MetricStore.from_url(clickhouse_url)
    yield store
    await store.close()
