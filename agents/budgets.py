"""Limits of one turn: steps (model calls), tokens and wall time."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Budgets:
    max_steps: int = 10
    max_tokens: int = 60_000
    max_seconds: float = 180.0
    context_tokens: int = 12_000
    """History beyond this is folded into a summary before the model sees it."""
