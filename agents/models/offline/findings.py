"""From evidence to a finding: what is wrong, why we think so, and the fix.

The planner has described the application, read its events and logs, and looked at its
metrics. The signatures below are the ones Kubernetes and the workloads print for each class of
failure; each finding quotes the evidence it rests on and proposes the remedy that actually
clears that failure (a rollback for a bad release, more memory for an OOM kill, more replicas
for CPU saturation, fewer replicas when the quota is exhausted).
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass
from typing import Any

from agents.models.offline.conversation import Conversation, Step

_MEMORY_UNITS = {"Ki": 2**10, "Mi": 2**20, "Gi": 2**30, "Ti": 2**40}
# A release this fresh is the prime suspect for trouble that began after it.
RECENT_ROLLOUT_MINUTES = 45


@dataclass(frozen=True)
class Remedy:
    tool: str
    args: dict[str, Any]


@dataclass(frozen=True)
class Finding:
    text: str
    remedy: Remedy | None = None
    suggestion: str | None = None


@dataclass
class Evidence:
    app: str
    describe: str
    events: str
    logs: str
    metrics: str

    @classmethod
    def gather(cls, app: str, convo: Conversation) -> Evidence:
        def body(step: Step | None) -> str:
            return step.body() if step is not None and step.ok else ""

        return cls(
            app=app,
            describe=body(convo.last("describe_application")),
            events=body(convo.last("list_events")),
            logs=body(convo.last("get_pod_logs")),
            metrics=body(convo.last("get_metrics")),
        )

    @property
    def all(self) -> str:
        return "\n".join((self.describe, self.events, self.logs))

    def has(self, pattern: str) -> bool:
        return re.search(pattern, self.all, re.I) is not None

    def quote(self, pattern: str, source: str | None = None) -> str | None:
        for line in (source or self.all).splitlines():
            if re.search(pattern, line, re.I):
                return line.strip("- ").strip()[:220]
        return None

    def replicas(self) -> tuple[int, int]:
        match = re.search(r": (\d+)/(\d+) ready", self.describe)
        return (int(match.group(1)), int(match.group(2))) if match else (0, 0)

    def has_previous_revision(self) -> bool:
        return "previous revision" in self.describe

    def new_image(self) -> bool:
        """Did the current revision change the image (new code), not only settings?"""
        match = re.search(
            r"current revision \d+ \((\S+)\).*previous revision \d+ \((\S+)\)", self.describe
        )
        return match is not None and match.group(1) != match.group(2)

    def rolled_out_recently(self, minutes: int = RECENT_ROLLOUT_MINUTES) -> bool:
        """Did the current revision roll out within the last ``minutes``?"""
        match = re.search(r"rolled out (\d+)([smhd]) ago", self.describe)
        if not match:
            return False
        amount, unit = int(match.group(1)), match.group(2)
        return unit == "s" or (unit == "m" and amount <= minutes)

    def trend(self, metric: str) -> str | None:
        match = re.search(rf"^{metric} \([^)]*\): .*, (rising|falling|flat)$", self.metrics, re.M)
        return match.group(1) if match else None

    def metric(self, name: str, field: str) -> float | None:
        match = re.search(rf"^{name} \([^)]*\): .*?\b{field} ([-\d.e+]+)", self.metrics, re.M)
        return float(match.group(1)) if match else None

    def limit(self, resource: str) -> str | None:
        match = re.search(r"limits cpu (\S+), memory (\S+);", self.describe)
        if not match:
            return None
        return match.group(1) if resource == "cpu" else match.group(2)


def _cpu_cores(quantity: str) -> float:
    return float(quantity[:-1]) / 1000 if quantity.endswith("m") else float(quantity)


def _double_memory(quantity: str) -> str:
    for unit, factor in _MEMORY_UNITS.items():
        if quantity.endswith(unit):
            value = float(quantity[: -len(unit)]) * factor * 2
            mib = math.ceil(value / 2**20)
            return f"{mib // 1024}Gi" if mib % 1024 == 0 else f"{mib}Mi"
    return "1Gi"


def _rollback(e: Evidence, what: str, evidence: str | None) -> Finding:
    text = f"{e.app}: {what}." + (f" Evidence: {evidence}" if evidence else "")
    if e.has_previous_revision():
        return Finding(
            text
            + " The current revision is the cause; rolling back to the previous revision fixes it.",
            Remedy("rollback_application", {"application": e.app}),
        )
    return Finding(
        text, suggestion="There is no previous revision to roll back to: ship a fixed release."
    )


def diagnose_application(app: str, convo: Conversation) -> Finding:
    e = Evidence.gather(app, convo)
    ready, desired = e.replicas()
    if e.has(r"ImagePullBackOff|ErrImagePull|Failed to pull image"):
        return _rollback(e, "the new release's image cannot be pulled", e.quote(r"pull"))
    if e.has(r"OOMKilled"):
        return _oom(e)
    if _leaking(e):
        return _rollback(
            e,
            "memory keeps growing after the latest release (a leak); it will be "
            "OOMKilled when it reaches its limit",
            e.quote(r"memory usage high", e.logs),
        )
    if e.has(r"exceeded quota|FailedCreate"):
        return _pending(
            e,
            ready,
            "the project's quota is exhausted, so replacement pods are rejected",
            e.quote(r"exceeded quota|FailedCreate"),
        )
    if e.has(r"FailedScheduling|Insufficient (memory|cpu)"):
        return _pending(
            e,
            ready,
            "pods cannot be scheduled: the nodes are full",
            e.quote(r"FailedScheduling|Insufficient"),
        )
    if e.has(r"CrashLoopBackOff|Back-off restarting failed container"):
        return _rollback(
            e,
            "its containers crash at start-up (CrashLoopBackOff)",
            e.quote(r"fatal|error|exception|failed", e.logs) or e.quote(r"Back-off"),
        )
    cpu_saturated = _cpu_saturated(e)
    if cpu_saturated:
        target = min(50, max(desired + 1, math.ceil(desired * 3)))
        return Finding(
            f"{app}: CPU is saturated ({cpu_saturated}); requests time out. "
            f"Scaling out to {target} replicas gives it the capacity it needs.",
            Remedy("scale_application", {"application": app, "replicas": target}),
        )
    latency = e.metric("latency_p95", "last")
    if latency is not None and latency > 1000:
        return _rollback(
            e,
            f"p95 latency is {latency:.0f} ms while CPU is not saturated",
            e.quote(r"slow|timed? ?out|latency", e.logs),
        )
    error_rate = e.metric("error_rate", "last")
    if error_rate is not None and error_rate > 0.05:
        return _rollback(
            e,
            f"{error_rate:.0%} of requests fail",
            e.quote(r"exception|error|panic|traceback", e.logs),
        )
    if _climbing_since_release(e):
        return _rollback(
            e,
            "memory has been climbing since the latest release (a leak, before any OOM kill)",
            e.quote(r"^memory", e.metrics),
        )
    if desired and ready < desired:
        return Finding(
            f"{app}: only {ready} of {desired} replicas are ready, but I found no known "
            f"failure signature. Recent warnings: {e.quote('Warning') or 'none'}"
        )
    return Finding(
        f"{app} looks healthy: {ready}/{desired} replicas ready, no warning events that point to a "
        f"failure"
        + (f", p95 latency {latency:.0f} ms" if latency is not None else "")
        + (f", error rate {error_rate:.1%}" if error_rate is not None else "")
        + "."
    )


def _oom(e: Evidence) -> Finding:
    limit = e.limit("memory") or "its limit"
    evidence = e.quote(r"OOMKilled")
    leak = _leaking(e)
    if leak:
        return _rollback(
            e, "memory grows until the container is OOMKilled (a leak in the new release)", evidence
        )
    if limit == "its limit":
        return Finding(
            f"{e.app}: containers are OOMKilled. Evidence: {evidence}",
            suggestion="Raise its memory limit.",
        )
    new_limit = _double_memory(limit)
    return Finding(
        f"{e.app}: containers are OOMKilled: the workload needs more than its {limit} "
        "memory limit. "
        f"Evidence: {evidence}. Raising the limit to {new_limit} fixes it.",
        Remedy("set_resources", {"application": e.app, "memory_limit": new_limit}),
    )


def _leaking(e: Evidence) -> bool:
    """Memory climbing since a fresh release: a leak (more memory or a restart only delay it).

    The signature is the workload's own: OOM kills, or its "memory usage high" warnings while
    memory rises. A rising memory trend alone is ordinary noise.
    """
    if not (e.rolled_out_recently() and e.new_image()):
        return False
    warned = e.quote(r"memory usage high", e.logs) is not None
    return e.has(r"OOMKilled") or (warned and e.trend("memory") == "rising")


def _climbing_since_release(e: Evidence) -> bool:
    """Early signs of a leak, before any warning: since a fresh image, memory only went up,
    by a fifth or more over the window (a rollout's extra pod alone does not do that)."""
    low, last = e.metric("memory", "min"), e.metric("memory", "last")
    return (
        e.rolled_out_recently()
        and e.new_image()
        and e.trend("memory") == "rising"
        and low is not None
        and last is not None
        and last >= 1.2 * low
    )


def _pending(e: Evidence, ready: int, what: str, evidence: str | None) -> Finding:
    fit = max(1, ready)
    return Finding(
        f"{e.app}: {what}. Evidence: {evidence}. Scaling down to the {fit} replica(s) that fit "
        "clears the stuck pods (raising the project's quota is the alternative).",
        Remedy("scale_application", {"application": e.app, "replicas": fit}),
    )


def _cpu_saturated(e: Evidence) -> str | None:
    limit = e.limit("cpu")
    cpu = e.metric("cpu", "last")
    if limit is None or cpu is None:
        return None
    _, desired = e.replicas()
    per_pod_limit = _cpu_cores(limit)
    capacity = per_pod_limit * max(desired, 1)
    if cpu >= 0.9 * capacity and (
        e.has(r"timed out|throttl") or (e.metric("latency_p95", "last") or 0) > 500
    ):
        return f"{cpu:.2f} cores used of {capacity:.2f} available"
    return None
