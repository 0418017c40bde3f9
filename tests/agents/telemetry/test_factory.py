"""Which sinks the service gets for which settings, and that a failing sink spares the others."""

from __future__ import annotations

import logging
import socket
import uuid
from collections.abc import Iterator
from typing import Any

import pytest

from agents.telemetry.base import NoopTelemetry
from agents.telemetry.clickhouse import ClickHouseTelemetry
from agents.telemetry.factory import ConfiguredTelemetry, build_telemetry
from agents.telemetry.langfuse import LangfuseTelemetry
from tests.support.agent_turns import play, sample_turn
from tests.support.otlp import otlp_collector
from tests.support.server import free_port


@pytest.fixture
def no_network(monkeypatch: pytest.MonkeyPatch) -> Iterator[list[Any]]:
    """Fail (and record) any outbound connection attempt."""
    attempts: list[Any] = []

    def refuse(self: socket.socket, address: Any) -> None:
        attempts.append(address)
        raise AssertionError(f"unexpected connection to {address}")

    monkeypatch.setattr(socket.socket, "connect", refuse)
    yield attempts


@pytest.mark.parametrize(
    "langfuse",
    [
        (None, None, None),
        ("https://langfuse.example.com", None, None),
        ("https://langfuse.example.com", "pk-lf-1", None),
        (None, "pk-lf-1", "sk-lf-1"),
    ],
)
async def test_nothing_fully_configured_is_a_noop_without_network(
    langfuse: tuple[str | None, str | None, str | None], no_network: list[Any]
) -> None:
    host, public_key, secret_key = langfuse
    telemetry = build_telemetry(
        clickhouse_url=None,
        langfuse_host=host,
        langfuse_public_key=public_key,
        langfuse_secret_key=secret_key,
        environment="test",
    )

    assert isinstance(telemetry, NoopTelemetry)
    await play(telemetry, sample_turn())
    await telemetry.close()
    assert no_network == []


async def test_clickhouse_alone(no_network: list[Any]) -> None:
    telemetry = build_telemetry(
        clickhouse_url="http://default:pw@ch.example.com:8123/aiops",
        langfuse_host=None,
        langfuse_public_key=None,
        langfuse_secret_key=None,
        environment="test",
    )

    assert isinstance(telemetry, ConfiguredTelemetry)
    assert isinstance(telemetry.clickhouse, ClickHouseTelemetry)
    assert telemetry.clickhouse.target.host == "ch.example.com"
    assert telemetry.langfuse is None
    await telemetry.close()
    assert no_network == []


async def test_a_malformed_clickhouse_url_is_logged_and_left_out(
    caplog: pytest.LogCaptureFixture,
) -> None:
    caplog.set_level(logging.ERROR, logger="agents.telemetry")
    telemetry = build_telemetry(
        clickhouse_url="mysql://nope",
        langfuse_host=None,
        langfuse_public_key=None,
        langfuse_secret_key=None,
        environment="test",
    )

    assert isinstance(telemetry, NoopTelemetry)
    assert any("ClickHouse history disabled" in r.getMessage() for r in caplog.records)


async def test_both_sinks_and_a_dead_clickhouse_does_not_stop_langfuse(
    caplog: pytest.LogCaptureFixture,
) -> None:
    caplog.set_level(logging.WARNING, logger="agents.telemetry")
    public_key = f"pk-both-{uuid.uuid4().hex[:8]}"
    with otlp_collector() as collector:
        telemetry = build_telemetry(
            clickhouse_url=f"http://default:pw@127.0.0.1:{free_port()}/aiops",
            langfuse_host=collector.url,
            langfuse_public_key=public_key,
            langfuse_secret_key="sk-both",
            environment="staging",
        )
        assert isinstance(telemetry, ConfiguredTelemetry)
        assert isinstance(telemetry.langfuse, LangfuseTelemetry)
        assert isinstance(telemetry.clickhouse, ClickHouseTelemetry)
        turn = sample_turn()
        await play(telemetry, turn)
        await telemetry.close()

    spans = collector.spans()
    assert len(spans) == 6
    assert {s.attributes["langfuse.environment"] for s in spans} == {"staging"}
    assert any("dropping the history" in r.getMessage() for r in caplog.records)
