"""An understood request: its kind and the things it names (see ``intents``)."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

METRIC_NOUNS = r"\b(cpu|memory|ram|disk|network|latency|p\d\d|request rate|error rate)\b"


@dataclass
class Intent:
    kind: str
    app: str | None = None
    workspace: str | None = None
    project: str | None = None
    replicas: int | None = None
    delta: int | None = None
    minutes: int | None = None
    lines: int | None = None
    name: str | None = None
    extra: dict[str, Any] = field(default_factory=dict)
    candidates: list[str] = field(default_factory=list)
    owner: str | None = None
    text: str = ""


Detector = Callable[[str, str], Intent | None]
