"""Deciding whether a proposed fix is inside a workspace's remediation policy.

The remediation agent proposes tool calls like any agent; none runs without a decision. This
module is that decision for the unattended case, made in code from the policy row, the
application's current state and the place's recent actions. ``judge`` returns the verdict and
a reason a person can read on the incident timeline; anything it does not recognise is outside
the policy (a new tool is never allowed by default).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, Literal, get_args

from platform_core.cluster.quantity import cpu_millis, memory_bytes
from platform_core.cluster.schemas import Application

PolicyAction = Literal["restart", "scale", "rollback", "raise_limits"]
POLICY_ACTIONS: tuple[str, ...] = get_args(PolicyAction)
TOOL_ACTIONS: dict[str, PolicyAction] = {
    "restart_application": "restart",
    "scale_application": "scale",
    "set_autoscaling": "scale",
    "rollback_application": "rollback",
    "set_resources": "raise_limits",
}


@dataclass(frozen=True)
class PolicyRules:
    """The limits of one workspace's policy, as plain values."""

    enabled: bool
    allowed_actions: frozenset[str]
    applications: frozenset[str]
    min_replicas: int
    max_replicas: int
    max_cpu_limit: str
    max_memory_limit: str
    max_actions_per_hour: int
    cooldown_minutes: int


@dataclass(frozen=True)
class Verdict:
    allowed: bool
    reason: str
    action: str | None = None


def _outside(reason: str, action: str | None = None) -> Verdict:
    return Verdict(False, reason, action)


def judge(
    rules: PolicyRules,
    *,
    tool: str,
    risk: str,
    arguments: Mapping[str, Any],
    application: Application | None,
    recent_actions: Sequence[datetime],
    now: datetime,
) -> Verdict:
    """Whether the call may run without a person; ``recent_actions`` are this place's last hour."""
    action = TOOL_ACTIONS.get(tool)
    if not rules.enabled:
        return _outside("remediation is disabled in this workspace's policy", action)
    if risk == "destructive":
        return _outside("destructive actions always need a person", action)
    if action is None:
        return _outside(f"{tool} is not an action a remediation policy can allow")
    if action not in rules.allowed_actions:
        return _outside(f"the policy does not allow '{action}' here", action)
    name = str(arguments.get("application", ""))
    if rules.applications and name not in rules.applications:
        return _outside(f"application {name!r} is not covered by the policy", action)
    limit = _rate_limited(rules, recent_actions, now)
    if limit is not None:
        return _outside(limit, action)
    bounds = _bounds(rules, tool, arguments, application)
    if bounds is not None:
        return _outside(bounds, action)
    return Verdict(True, f"'{action}' is allowed by the workspace's policy", action)


def _rate_limited(
    rules: PolicyRules, recent_actions: Sequence[datetime], now: datetime
) -> str | None:
    hour = [t for t in recent_actions if t > now - timedelta(hours=1)]
    if len(hour) >= rules.max_actions_per_hour:
        return (
            f"{len(hour)} action(s) in the last hour reach the policy's limit of "
            f"{rules.max_actions_per_hour} per hour for this application"
        )
    if hour:
        quiet_until = max(hour) + timedelta(minutes=rules.cooldown_minutes)
        if now < quiet_until:
            return (
                f"cooling down after the last action until {quiet_until:%H:%M} "
                f"({rules.cooldown_minutes} min)"
            )
    return None


def _bounds(
    rules: PolicyRules, tool: str, arguments: Mapping[str, Any], app: Application | None
) -> str | None:
    if tool == "scale_application":
        replicas = int(arguments.get("replicas", -1))
        if not rules.min_replicas <= replicas <= rules.max_replicas:
            return (
                f"{replicas} replicas is outside the policy's bounds "
                f"{rules.min_replicas}..{rules.max_replicas}"
            )
    if tool == "set_autoscaling":
        low, high = int(arguments.get("min_replicas", 0)), int(arguments.get("max_replicas", 0))
        if low < rules.min_replicas or high > rules.max_replicas:
            return (
                f"autoscaling {low}..{high} is outside the policy's bounds "
                f"{rules.min_replicas}..{rules.max_replicas}"
            )
    if tool == "set_resources":
        return _limits(rules, arguments, app)
    return None


def _limits(
    rules: PolicyRules, arguments: Mapping[str, Any], app: Application | None
) -> str | None:
    """Limits may only go up, and not past the policy's maximum; requests are left alone."""
    if arguments.get("cpu_request") or arguments.get("memory_request"):
        return "changing requests changes what is reserved and billed: a person decides"
    if app is None:
        return "the application's current limits are unknown"
    checks = (
        ("memory", arguments.get("memory_limit"), app.resources.limits.memory,
         rules.max_memory_limit, memory_bytes),
        ("CPU", arguments.get("cpu_limit"), app.resources.limits.cpu,
         rules.max_cpu_limit, cpu_millis),
    )  # fmt: skip
    for label, wanted, current, ceiling, measure in checks:
        if not wanted:
            continue
        try:
            value = measure(str(wanted))
        except ValueError:
            return f"{label} limit {wanted!r} is not a quantity"
        if value <= measure(current):
            return f"lowering the {label} limit ({current} -> {wanted}) is not a remediation"
        if value > measure(ceiling):
            return f"{label} limit {wanted} is above the policy's maximum {ceiling}"
    return None
