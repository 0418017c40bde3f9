"""Rightsizing: CPU and memory requests and limits from observed per-pod usage, and what it saves.

The platform's billing has plans and usage meters but no unit prices for compute, so the money
figures use :data:`PRICES` below: the one place to change them. Kubernetes reserves what a pod
*requests*, so cost is ``replicas * (cpu request * price per core-hour + memory request * price
per GiB-hour) * 730 hours``.

Per-pod usage is the application's total divided by its ready replicas at each sample. The rules
(``headroom`` is 20 % by default):

* CPU request: p95 usage plus headroom (CPU is compressible: a short burst above it is only
  throttled); CPU limit: the larger of twice the request and the maximum plus headroom.
* Memory request: p99 usage plus headroom; memory limit: the maximum plus twice the headroom
  (memory is not compressible: above the limit the container is OOM-killed).
* When usage touched the current limit (CPU pinned at it, memory near it) the observed maximum
  is only a lower bound, and the recommendation never lowers that limit.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta

import numpy as np

from platform_core.cluster.quantity import cpu_millis, format_cpu, format_memory, memory_bytes
from platform_core.cluster.schemas import ResourceRequirements

HOURS_PER_MONTH = 730.0
GIB = 1024**3
MIB = 1024**2
MIN_CPU_MILLIS = 10
MIN_MEMORY_BYTES = 32 * MIB
LIMIT_TOUCHED = 0.95


@dataclass(frozen=True)
class ResourcePrices:
    """On-demand compute prices used to put a figure on resource requests."""

    currency: str
    cpu_core_hour: float
    memory_gib_hour: float
    source: str


PRICES = ResourcePrices(
    currency="USD",
    cpu_core_hour=0.04048,
    memory_gib_hour=0.004445,
    source="AWS Fargate on-demand list price (us-east-1, Linux/x86): the platform has no "
    "compute prices of its own",
)


@dataclass(frozen=True)
class Resources:
    """Requests and limits in millicores and bytes."""

    cpu_request: int
    cpu_limit: int
    memory_request: int
    memory_limit: int

    @classmethod
    def of(cls, requirements: ResourceRequirements) -> Resources:
        return cls(
            cpu_millis(requirements.requests.cpu),
            cpu_millis(requirements.limits.cpu),
            memory_bytes(requirements.requests.memory),
            memory_bytes(requirements.limits.memory),
        )

    def as_quantities(self) -> dict[str, dict[str, str]]:
        """Kubernetes-style strings, as ``set_resources`` takes them."""
        return {
            "requests": {
                "cpu": format_cpu(self.cpu_request),
                "memory": format_memory(self.memory_request),
            },
            "limits": {
                "cpu": format_cpu(self.cpu_limit),
                "memory": format_memory(self.memory_limit),
            },
        }

    def monthly_cost(self, replicas: int, prices: ResourcePrices = PRICES) -> float:
        hourly = (
            self.cpu_request / 1000 * prices.cpu_core_hour
            + self.memory_request / GIB * prices.memory_gib_hour
        )
        return replicas * hourly * HOURS_PER_MONTH


@dataclass(frozen=True)
class PodUsage:
    """Per-pod usage over the observed span: CPU in cores, memory in bytes."""

    samples: int
    span: timedelta
    cpu_p95: float
    cpu_p99: float
    cpu_max: float
    memory_p95: float
    memory_p99: float
    memory_max: float


@dataclass(frozen=True)
class Recommendation:
    application: str
    replicas: int
    current: Resources
    recommended: Resources
    usage: PodUsage
    current_monthly_cost: float
    recommended_monthly_cost: float
    currency: str
    notes: list[str] = field(default_factory=list)

    @property
    def monthly_saving(self) -> float:
        """Positive when the recommendation costs less (negative: it needs more)."""
        return self.current_monthly_cost - self.recommended_monthly_cost


Points = Sequence[tuple[datetime, float]]


def pod_usage(cpu: Points, memory: Points, replicas: Points) -> PodUsage | None:
    """Per-pod usage from application totals and ready replicas (aligned by timestamp)."""
    ready = {t: n for t, n in replicas if n > 0}
    per_cpu = np.array([v / ready[t] for t, v in cpu if t in ready], dtype=np.float64)
    per_mem = np.array([v / ready[t] for t, v in memory if t in ready], dtype=np.float64)
    if per_cpu.size == 0 or per_mem.size == 0:
        return None
    times = sorted(ready)
    cpu_q = np.quantile(per_cpu, [0.95, 0.99])
    mem_q = np.quantile(per_mem, [0.95, 0.99])
    return PodUsage(
        samples=int(min(per_cpu.size, per_mem.size)),
        span=times[-1] - times[0],
        cpu_p95=float(cpu_q[0]),
        cpu_p99=float(cpu_q[1]),
        cpu_max=float(per_cpu.max()),
        memory_p95=float(mem_q[0]),
        memory_p99=float(mem_q[1]),
        memory_max=float(per_mem.max()),
    )


def recommend(
    application: str,
    replicas: int,
    current: Resources,
    usage: PodUsage,
    *,
    headroom: float = 0.2,
    prices: ResourcePrices = PRICES,
) -> Recommendation:
    """Requests and limits for ``usage`` (see the module docstring for the rules)."""
    notes: list[str] = []
    cpu_request = _round_up(usage.cpu_p95 * 1000 * (1 + headroom), 5, MIN_CPU_MILLIS)
    cpu_limit = max(2 * cpu_request, _round_up(usage.cpu_max * 1000 * (1 + headroom), 5, 0))
    if usage.cpu_max * 1000 >= LIMIT_TOUCHED * current.cpu_limit:
        notes.append("CPU reached its limit (throttled): the real need may be higher")
        cpu_limit = max(cpu_limit, current.cpu_limit)
    memory_request = _round_up(usage.memory_p99 * (1 + headroom), MIB, MIN_MEMORY_BYTES)
    memory_limit = max(memory_request, _round_up(usage.memory_max * (1 + 2 * headroom), MIB, 0))
    if usage.memory_max >= LIMIT_TOUCHED * current.memory_limit:
        notes.append("memory came close to its limit (OOM risk): the limit is not lowered")
        memory_limit = max(memory_limit, current.memory_limit)
    if usage.span < timedelta(days=1):
        hours = usage.span.total_seconds() / 3600
        notes.append(f"only {hours:.1f} h of usage observed: a daily peak may be missing")
    recommended = Resources(cpu_request, cpu_limit, memory_request, memory_limit)
    return Recommendation(
        application=application,
        replicas=replicas,
        current=current,
        recommended=recommended,
        usage=usage,
        current_monthly_cost=current.monthly_cost(replicas, prices),
        recommended_monthly_cost=recommended.monthly_cost(replicas, prices),
        currency=prices.currency,
        notes=notes,
    )


def _round_up(value: float, unit: int, minimum: int) -> int:
    return max(minimum, math.ceil(value / unit - 1e-9) * unit)
