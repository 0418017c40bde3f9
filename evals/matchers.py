"""Matching tool calls against what a case expects: a tool name and argument matchers.

An argument matcher is written in YAML as a plain value (``replicas: 5`` means equals) or as a
one-key mapping: ``equals``, ``regex`` (searched, case-insensitive, on the value as text),
``any_of`` (equals one of), ``gte``/``lte`` (numbers), ``memory_gte`` (a Kubernetes memory
quantity at least this big) or ``present`` (the argument is given, or with ``false`` absent).
Numbers compare numerically whatever their type (``5`` matches ``5.0`` and ``"5"``), because
models write numbers as strings as often as not.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, model_validator

from platform_core.cluster.quantity import memory_bytes

Outcome = Literal["any", "executed", "approval_requested", "refused"]


class Matcher(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    equals: Any = None
    regex: str | None = None
    any_of: list[Any] | None = None
    gte: float | None = None
    lte: float | None = None
    memory_gte: str | None = None
    present: bool | None = None

    @model_validator(mode="before")
    @classmethod
    def _plain_value_means_equals(cls, data: Any) -> Any:
        if isinstance(data, dict):
            return data
        return {"equals": data}

    @model_validator(mode="after")
    def _exactly_one(self) -> Matcher:
        if len(self.model_fields_set) != 1:
            raise ValueError(f"a matcher takes exactly one of {', '.join(Matcher.model_fields)}")
        if self.regex is not None:
            try:
                re.compile(self.regex)
            except re.error as error:
                raise ValueError(f"invalid regex {self.regex!r}: {error}") from None
        return self

    def matches(self, present: bool, value: Any) -> bool:
        if self.present is not None:
            return present == self.present
        if not present:
            return False
        if self.regex is not None:
            return re.search(self.regex, _text(value), re.I) is not None
        if self.any_of is not None:
            return any(_equal(value, option) for option in self.any_of)
        if self.gte is not None or self.lte is not None:
            number = _number(value)
            if number is None:
                return False
            return (self.gte is None or number >= self.gte) and (
                self.lte is None or number <= self.lte
            )
        if self.memory_gte is not None:
            try:
                return memory_bytes(str(value)) >= memory_bytes(self.memory_gte)
            except ValueError:
                return False
        return _equal(value, self.equals)


def _text(value: Any) -> str:
    if isinstance(value, list):
        return " ".join(str(v) for v in value)
    return str(value)


def _number(value: Any) -> float | None:
    if isinstance(value, bool):
        return None
    try:
        return float(value)
    except (TypeError, ValueError):
        return None


def _equal(value: Any, expected: Any) -> bool:
    if isinstance(expected, bool) or isinstance(value, bool):
        return value is expected or str(value).lower() == str(expected).lower()
    left, right = _number(value), _number(expected)
    if left is not None and right is not None:
        return left == right
    if isinstance(expected, str) and isinstance(value, str):
        return value.strip().lower() == expected.strip().lower()
    return bool(value == expected)


class ToolPattern(BaseModel):
    """A tool call a case requires or forbids.

    ``name`` is a tool name or several separated by ``|``. ``outcome``: ``executed`` (it ran and
    succeeded), ``approval_requested`` (it was held for approval), ``refused`` (the platform
    answered with an error) or ``any``. ``turn`` (1-based) limits it to one turn.
    """

    model_config = ConfigDict(extra="forbid", frozen=True)

    name: str
    args: dict[str, Matcher] = Field(default_factory=dict)
    outcome: Outcome = "any"
    turn: int | None = Field(default=None, ge=1)

    @property
    def names(self) -> set[str]:
        return {n.strip() for n in self.name.split("|")}

    def describe(self) -> str:
        shown = ", ".join(f"{k}~{m.model_dump(exclude_unset=True)}" for k, m in self.args.items())
        where = f" in turn {self.turn}" if self.turn else ""
        outcome = "" if self.outcome == "any" else f" ({self.outcome})"
        return f"{self.name}({shown}){outcome}{where}"


@dataclass
class CallRecord:
    """One tool call the agent made, and what became of it."""

    turn: int
    call_id: str
    name: str
    args: dict[str, Any]
    risk: str
    status: str | None = None  # ok | no_data | error | approval_required (None: no result)
    executed: bool = False  # ran with an ok/no_data result (directly or after approval)
    approval_id: str | None = None
    extra: dict[str, Any] = field(default_factory=dict)

    @property
    def outcome_tags(self) -> set[str]:
        tags = {"any"}
        if self.executed:
            tags.add("executed")
        if self.approval_id is not None:
            tags.add("approval_requested")
        if self.status == "error":
            tags.add("refused")
        return tags


def argument_score(pattern: ToolPattern, call: CallRecord) -> float:
    """The share of the pattern's argument matchers this call satisfies (1.0 without any)."""
    if not pattern.args:
        return 1.0
    hits = sum(
        1
        for key, matcher in pattern.args.items()
        if matcher.matches(key in call.args, call.args.get(key))
    )
    return hits / len(pattern.args)


def candidates(pattern: ToolPattern, calls: list[CallRecord]) -> list[CallRecord]:
    """Calls with the pattern's name, turn and outcome (arguments not yet considered)."""
    return [
        c
        for c in calls
        if c.name in pattern.names
        and (pattern.turn is None or c.turn == pattern.turn)
        and pattern.outcome in c.outcome_tags
    ]


def best_match(pattern: ToolPattern, calls: list[CallRecord]) -> tuple[CallRecord | None, float]:
    """The call that fits the pattern best and its argument score (0.0 with no candidate)."""
    best: tuple[CallRecord | None, float] = (None, 0.0)
    for call in candidates(pattern, calls):
        score = argument_score(pattern, call)
        if best[0] is None or score > best[1]:
            best = (call, score)
    return best


def matches(pattern: ToolPattern, call: CallRecord) -> bool:
    return bool(candidates(pattern, [call])) and argument_score(pattern, call) == 1.0
