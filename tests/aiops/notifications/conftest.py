"""A notification to send, and local receivers to send it to."""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable, Iterator
from datetime import UTC, datetime
from typing import Any

import pytest

from aiops.notifications import Links, Notification, Notifier
from tests.support.fake_receivers import FakeReceiver, FakeSmtpServer

INCIDENT_URL = "https://aiops.example.com/orgs/acme/incidents/inc-42"


def make_notification(**overrides: Any) -> Notification:
    values: dict[str, Any] = {
        "event": "incident_opened",
        "organization": "acme",
        "workspace": "production",
        "project": "shop",
        "application": "checkout",
        "incident_id": "inc-42",
        "title": "Checkout latency is ten times normal",
        "severity": "critical",
        "summary": "p95 latency of checkout rose sharply after the 10:40 deploy.",
        "details": ("latency_p95 observed 1812 ms, expected 90\u2013160 ms since 10:42",),
        "occurred_at": datetime(2024, 5, 1, 10, 42, tzinfo=UTC),
        "links": Links(incident_url=INCIDENT_URL),
    }
    values.update(overrides)
    return Notification(**values)


@pytest.fixture
def notification() -> Notification:
    return make_notification()


@pytest.fixture
def notification_factory() -> Callable[..., Notification]:
    return make_notification


@pytest.fixture
async def receiver() -> AsyncIterator[FakeReceiver]:
    async with FakeReceiver() as fake:
        yield fake


@pytest.fixture
def smtp() -> Iterator[FakeSmtpServer]:
    with FakeSmtpServer(credentials=("alerts", "smtp-pass-123")) as server:
        yield server


@pytest.fixture
async def notifier() -> AsyncIterator[Notifier]:
    """Fast retries; loopback receivers allowed (they are private addresses)."""
    async with Notifier(
        timeout=2.0, attempts=3, backoff=0.01, max_retry_after=0.2, allow_private_networks=True
    ) as instance:
        yield instance
