"""What the monitor sees of one application at one tick: symptoms and metric anomalies."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, replace
from datetime import datetime
from typing import Protocol

from platform_core.observability.health import AppHealth

QUIET = AppHealth(application="", desired=0, available=0)  # a place with no workload view

SYMPTOM_MEANING: dict[str, str] = {
    "crash_looping": "containers keep crashing and restarting",
    "image_pull_failing": "new pods cannot pull their image",
    "oom_killed": "containers were OOMKilled",
    "pods_rejected": "new pods are rejected (quota)",
    "pods_unschedulable": "pods cannot be scheduled on any node",
    "readiness_failing": "readiness probes fail",
    "rollout_stuck": "the rollout passed its progress deadline",
    "replicas_unavailable": "fewer replicas are available than desired",
    "job_failed": "its latest scheduled run failed",
    "build_failed": "its latest build failed (the previous revision still serves)",
}


@dataclass(frozen=True)
class AnomalySignal:
    """An explained metric anomaly that is still going on at the latest point."""

    metric: str
    summary: str
    score: float
    since: datetime | None


@dataclass(frozen=True)
class AppPlace:
    """An application as both the platform and the cluster name it."""

    organization_id: object
    workspace_id: object
    cluster_workspace: str
    project: str
    application: str


class AnomalySource(Protocol):
    """Brings applications' metrics up to date and says which metrics are anomalous now."""

    async def refresh(self, places: Sequence[AppPlace]) -> None:
        """Bring the metrics of ``places`` up to date (once per tick, for a whole workspace)."""
        ...

    async def anomalies(self, place: AppPlace) -> Sequence[AnomalySignal]:
        """The confirmed anomalies of one application at its latest point."""
        ...


@dataclass(frozen=True)
class Observation:
    health: AppHealth
    anomalies: Sequence[AnomalySignal] = ()
    alerts: tuple[str, ...] = ()  # ``alert:<name>`` still firing in Alertmanager

    @property
    def signals(self) -> tuple[str, ...]:
        """Stable names of what is wrong: symptoms, ``anomaly:<metric>``, ``alert:<name>``."""
        anomalies = tuple(f"anomaly:{a.metric}" for a in self.anomalies)
        return self.health.names + anomalies + self.alerts

    def with_alerts(self, signals: Sequence[str]) -> Observation:
        """This observation plus the alerts an incident says are still firing."""
        firing = tuple(s for s in signals if s.startswith("alert:") and s not in self.alerts)
        return replace(self, alerts=self.alerts + firing) if firing else self

    @property
    def unhealthy(self) -> bool:
        return bool(self.signals)

    @property
    def symptomatic(self) -> bool:
        """Broken in the cluster's own terms (or alerted on), not only unusual metrics."""
        return bool(self.health.symptoms or self.alerts)

    @property
    def severity(self) -> str:
        if any(s.severity == "critical" for s in self.health.symptoms):
            return "critical"
        return "warning" if self.unhealthy else "info"

    def evidence(self) -> list[str]:
        """One line per signal, as a person (and the agent) should read it."""
        lines = [f"{s.name}: {s.evidence}" for s in self.health.symptoms]
        lines += [a.summary for a in self.anomalies]
        lines += [f"{a}: firing in Alertmanager" for a in self.alerts]
        return lines

    def briefing(self) -> list[str]:
        """What the agent is told: only words and numbers the platform produced itself.

        Event messages and pod statuses come from the cluster and may carry text a workload
        controls; they never go into the agent's instructions (the agent reads them through
        its tools, whose output is kept apart from instructions).
        """
        lines = [f"{s.name}: {SYMPTOM_MEANING.get(s.name, s.name)}" for s in self.health.symptoms]
        lines += [a.summary for a in self.anomalies]
        lines += [f"{a}: firing in Alertmanager" for a in self.alerts]
        return lines

    def title(self, application: str) -> str:
        names = ", ".join(self.signals[:3]) or "unhealthy"
        return f"{application}: {names}"
