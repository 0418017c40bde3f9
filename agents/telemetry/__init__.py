"""What the agent runtime reports about each turn: Langfuse traces and ClickHouse history."""

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

__all__ = [
    "CompositeTelemetry",
    "ModelCall",
    "NoopTelemetry",
    "Telemetry",
    "ToolCall",
    "TurnInfo",
    "TurnOutcome",
    "TurnTrace",
]
