"""What the agent runtime reports about each turn: Langfuse traces and ClickHouse history.

The contract (``base``) is imported eagerly; the sinks are loaded on first access because their
SDKs (langfuse, OpenTelemetry, clickhouse-connect) cost ~0.4 s to import and code that only needs
the contract should not pay for them.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

from agents.telemetry.base import (
    CompositeTelemetry,
    ModelCall,
    NoopTelemetry,
    Telemetry,
    ToolCall,
    TurnInfo,
    TurnOutcome,
    TurnTrace,
)

if TYPE_CHECKING:
    from agents.telemetry.clickhouse import ClickHouseTelemetry, ClickHouseUnavailableError
    from agents.telemetry.factory import ConfiguredTelemetry, build_telemetry
    from agents.telemetry.langfuse import LangfuseTelemetry

_LAZY = {
    "ClickHouseTelemetry": "agents.telemetry.clickhouse",
    "ClickHouseUnavailableError": "agents.telemetry.clickhouse",
    "ConfiguredTelemetry": "agents.telemetry.factory",
    "build_telemetry": "agents.telemetry.factory",
    "LangfuseTelemetry": "agents.telemetry.langfuse",
}


def __getattr__(name: str) -> Any:
    module = _LAZY.get(name)
    if module is None:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    return getattr(importlib.import_module(module), name)


__all__ = [
    "ClickHouseTelemetry",
    "ClickHouseUnavailableError",
    "CompositeTelemetry",
    "ConfiguredTelemetry",
    "LangfuseTelemetry",
    "ModelCall",
    "NoopTelemetry",
    "Telemetry",
    "ToolCall",
    "TurnInfo",
    "TurnOutcome",
    "TurnTrace",
    "build_telemetry",
]
