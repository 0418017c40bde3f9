"""Symptoms of an unhealthy application, read from the cluster's own state.

Metric anomalies say "this is unusual"; these say "this is broken" in Kubernetes' own words: pods
that cannot pull their image or keep crashing, OOM kills, pods the quota or the scheduler
refuses, failing readiness probes, a rollout past its deadline, replicas missing after a
finished rollout. Each symptom names its evidence (the event or pod status it came from), so an
incident can say exactly why it was opened. Only warning events newer than ``window`` count, so a
symptom disappears on its own once the cause is gone.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta

from platform_core.cluster.protocol import ClusterGateway
from platform_core.cluster.schemas import Application, ClusterEvent, PodInfo

EVENT_SYMPTOMS: dict[str, str] = {
    "OOMKilled": "oom_killed",
    "FailedCreate": "pods_rejected",
    "FailedScheduling": "pods_unschedulable",
    "Unhealthy": "readiness_failing",
    "ProgressDeadlineExceeded": "rollout_stuck",
}
POD_SYMPTOMS: dict[str, str] = {
    "CrashLoopBackOff": "crash_looping",
    "ErrImagePull": "image_pull_failing",
    "ImagePullBackOff": "image_pull_failing",
    "CreateContainerConfigError": "crash_looping",
    "Unschedulable": "pods_unschedulable",
}
SEVERITY: dict[str, str] = {
    "crash_looping": "critical",
    "image_pull_failing": "warning",
    "oom_killed": "critical",
    "pods_rejected": "warning",
    "pods_unschedulable": "warning",
    "readiness_failing": "warning",
    "rollout_stuck": "warning",
    "replicas_unavailable": "critical",
    "job_failed": "warning",
    "build_failed": "warning",
}
JOB_LOOKBACK = timedelta(days=1)


@dataclass(frozen=True)
class Symptom:
    name: str
    evidence: str

    @property
    def severity(self) -> str:
        return SEVERITY.get(self.name, "warning")


@dataclass(frozen=True)
class AppHealth:
    application: str
    desired: int
    available: int
    symptoms: tuple[Symptom, ...] = field(default_factory=tuple)

    @property
    def healthy(self) -> bool:
        return not self.symptoms

    @property
    def names(self) -> tuple[str, ...]:
        return tuple(dict.fromkeys(s.name for s in self.symptoms))


def _event_symptom(event: ClusterEvent) -> str | None:
    if event.reason == "BackOff":
        pulling = "pulling image" in event.message
        return "image_pull_failing" if pulling else "crash_looping"
    if event.reason == "Failed" and "pull" in event.message.lower():
        return "image_pull_failing"
    return EVENT_SYMPTOMS.get(event.reason)


def _pod_symptom(pod: PodInfo) -> tuple[str, str] | None:
    for container in pod.containers:
        if container.state == "waiting" and container.reason in POD_SYMPTOMS:
            return POD_SYMPTOMS[container.reason], f"pod {pod.name} is {container.reason}"
    if pod.status in POD_SYMPTOMS:
        return POD_SYMPTOMS[pod.status], f"pod {pod.name} is {pod.status}"
    return None


def symptoms_of(
    app: Application, pods: list[PodInfo], events: list[ClusterEvent], since: datetime
) -> AppHealth:
    """The symptoms shown by ``app`` now, given its pods and its events newer than ``since``."""
    found: dict[str, str] = {}
    for event in events:
        if event.type != "Warning" or event.last_timestamp < since:
            continue
        name = _event_symptom(event)
        if name is not None:
            found.setdefault(name, f"{event.reason}: {event.message}"[:300])
    for pod in pods:
        symptom = _pod_symptom(pod)
        if symptom is not None:
            found.setdefault(*symptom)
    rolled_out = app.updated_replicas >= app.replicas
    if rolled_out and app.available_replicas < app.replicas:
        found.setdefault(
            "replicas_unavailable",
            f"{app.available_replicas} of {app.replicas} replicas available",
        )
    return AppHealth(
        application=app.name,
        desired=app.replicas,
        available=app.available_replicas,
        symptoms=tuple(Symptom(n, e) for n, e in found.items()),
    )


async def check_application(
    gateway: ClusterGateway,
    workspace: str,
    namespace: str,
    application: str,
    *,
    window: timedelta = timedelta(minutes=2),
) -> AppHealth:
    """Ask the cluster how ``application`` is doing (symptoms from the last ``window``)."""
    now = await gateway.now()
    app = await gateway.get_application(workspace, namespace, application)
    pods = await gateway.list_pods(workspace, namespace, application=application)
    events = await gateway.list_events(workspace, namespace, name=application, type="Warning")
    return symptoms_of(app, pods, events, now - window)


async def check_cronjob(
    gateway: ClusterGateway, workspace: str, namespace: str, name: str
) -> AppHealth:
    """A CronJob is unhealthy while its latest finished run (of the last day) failed."""
    now = await gateway.now()
    runs = await gateway.list_job_runs(workspace, namespace, name)
    finished = [r for r in runs if r.status != "Running" and r.start_time >= now - JOB_LOOKBACK]
    symptoms: tuple[Symptom, ...] = ()
    if finished and finished[-1].status == "Failed":
        last = finished[-1]
        why = f"exit code {last.exit_code}" if last.exit_code is not None else "failed"
        symptoms = (Symptom("job_failed", f"Job {last.name} {why} ({last.reason or 'Failed'})"),)
    return AppHealth(application=name, desired=1, available=0 if symptoms else 1, symptoms=symptoms)


async def check_function(
    gateway: ClusterGateway, workspace: str, namespace: str, name: str
) -> AppHealth:
    """A function is unhealthy while its latest build failed (the previous revision serves)."""
    info = await gateway.get_function(workspace, namespace, name)
    symptoms: tuple[Symptom, ...] = ()
    if info.latest_build.status == "Failed":
        symptoms = (Symptom("build_failed", f"build {info.latest_build.job_name} failed"),)
    return AppHealth(application=name, desired=1, available=int(info.ready), symptoms=symptoms)
