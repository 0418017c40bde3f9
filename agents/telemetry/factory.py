"""Build the service's telemetry from its settings: whatever is configured, nothing else.

ClickHouse history is on whenever a URL is given (the service always gives one: the embedded
chDB store under its data dir unless a server is configured). Langfuse is on only with a host and
both keys; a partial configuration is reported once in the log rather than failing start-up. A
sink that cannot even be constructed (a malformed URL) is logged and left out: telemetry must
never be the reason the agent does not start. Construction does no I/O.
"""

from __future__ import annotations

import logging

from agents.telemetry.base import CompositeTelemetry, NoopTelemetry, Telemetry
from agents.telemetry.clickhouse import ClickHouseTelemetry
from agents.telemetry.langfuse import LangfuseTelemetry

logger = logging.getLogger("agents.telemetry")


class ConfiguredTelemetry(CompositeTelemetry):
    """The composite of the configured sinks, keeping typed handles on them.

    The REST API reads run history through ``clickhouse`` and readiness pings it; the runtime
    only sees a ``Telemetry``.
    """

    def __init__(
        self, clickhouse: ClickHouseTelemetry | None, langfuse: LangfuseTelemetry | None
    ) -> None:
        self.clickhouse = clickhouse
        self.langfuse = langfuse
        sinks: list[Telemetry] = [sink for sink in (clickhouse, langfuse) if sink is not None]
        super().__init__(sinks)


def build_telemetry(
    *,
    clickhouse_url: str | None,
    langfuse_host: str | None,
    langfuse_public_key: str | None,
    langfuse_secret_key: str | None,
    environment: str,
) -> Telemetry:
    """A ``ConfiguredTelemetry`` of the configured sinks, or ``NoopTelemetry`` if there are none."""
    clickhouse: ClickHouseTelemetry | None = None
    if clickhouse_url:
        try:
            clickhouse = ClickHouseTelemetry(clickhouse_url)
        except Exception as exc:
            logger.error("ClickHouse history disabled: %s", exc)

    langfuse: LangfuseTelemetry | None = None
    langfuse_values = (langfuse_host, langfuse_public_key, langfuse_secret_key)
    if langfuse_host and langfuse_public_key and langfuse_secret_key:
        try:
            langfuse = LangfuseTelemetry(
                langfuse_host, langfuse_public_key, langfuse_secret_key, environment=environment
            )
        except Exception as exc:
            logger.error("Langfuse tracing disabled: %s", exc)
    elif any(langfuse_values):
        logger.warning("Langfuse tracing disabled: it needs a host, a public key and a secret key")

    if clickhouse is None and langfuse is None:
        return NoopTelemetry()
    return ConfiguredTelemetry(clickhouse, langfuse)
