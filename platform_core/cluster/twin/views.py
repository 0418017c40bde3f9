"""Conversions from the twin's state to the gateway's schemas (what ``kubectl get`` shows)."""

from __future__ import annotations

from platform_core.cluster.manifests import QUOTA_NAME
from platform_core.cluster.schemas import (
    Application,
    AutoscalingStatus,
    ClusterEvent,
    Condition,
    ContainerStatus,
    CronJobInfo,
    JobRun,
    NamespaceInfo,
    ObjectReference,
    PodInfo,
    ResourceQuotaStatus,
    ResourceRequirements,
    Revision,
    TerminationInfo,
    WorkspaceStatus,
)
from platform_core.cluster.twin import cronjobs, logs, pods, scheduling
from platform_core.cluster.twin.core import TwinCore
from platform_core.cluster.twin.state import (
    App,
    ContainerRun,
    CronJob,
    Event,
    Job,
    Namespace,
    Pod,
    ReplicaSet,
    Workspace,
)


def workspace_status(core: TwinCore, ws: Workspace) -> WorkspaceStatus:
    return WorkspaceStatus(
        workspace=ws.id,
        phase=ws.phase,
        kubernetes_version=ws.version,
        api_server=f"https://{ws.id}.vcluster.hexabase.local",
        created_at=core.dt(ws.created),
        phase_since=core.dt(ws.phase_since),
        message=ws.message,
    )


def namespace_info(core: TwinCore, ws: Workspace, ns: Namespace) -> NamespaceInfo:
    quota = None
    if ns.quota is not None:
        used = scheduling.quota_used(ns)
        quota = ResourceQuotaStatus(
            name=QUOTA_NAME,
            hard=dict(ns.quota),
            used={k: scheduling.format_quantity(k, used.get(k, 0)) for k in ns.quota},
        )
    children = [n.name for n in ws.namespaces.values() if n.parent == ns.name]
    return NamespaceInfo(
        name=ns.name,
        phase=ns.phase,
        parent=ns.parent,
        children=children,
        labels=dict(ns.labels),
        quota=quota,
        created_at=core.dt(ns.created),
    )


def _live(ns: Namespace, rs: ReplicaSet) -> list[Pod]:
    return [p for n in rs.pods if (p := ns.pods.get(n)) is not None and not p.terminating]


def application(core: TwinCore, ns: Namespace, app: App) -> Application:
    tpl = app.template
    current = app.rsets[tpl.hash]
    hpa = app.hpa
    autoscaling = None
    if hpa is not None:
        autoscaling = AutoscalingStatus(
            min_replicas=hpa.min_replicas,
            max_replicas=hpa.max_replicas,
            target_cpu_utilization=hpa.target,
            current_cpu_utilization=hpa.current_util,
            desired_replicas=hpa.desired,
            last_scale_time=core.dt(hpa.last_scale) if hpa.last_scale is not None else None,
        )
    conditions = [
        Condition(
            type=kind,
            status=status,
            reason=reason,
            message=message,
            last_transition=core.dt(since),
        )
        for kind, (status, reason, message, since) in app.conditions.items()
    ]
    return Application(
        name=app.name,
        namespace=ns.name,
        image=tpl.image,
        replicas=app.replicas,
        ready_replicas=app.ready,
        updated_replicas=len(_live(ns, current)),
        available_replicas=app.ready,
        unavailable_replicas=max(0, app.replicas - app.ready),
        revision=current.revision,
        current_replica_set=current.name,
        env=dict(tpl.env),
        resources=ResourceRequirements.model_validate(tpl.resources),
        port=tpl.port,
        command=tpl.command,
        args=tpl.args,
        labels=dict(app.labels),
        conditions=conditions,
        autoscaling=autoscaling,
        created_at=core.dt(app.created),
    )


def revisions(core: TwinCore, ns: Namespace, app: App) -> list[Revision]:
    out = []
    for rs in sorted(app.rsets.values(), key=lambda r: r.revision):
        tpl = rs.template
        out.append(
            Revision(
                revision=rs.revision,
                replica_set=rs.name,
                pod_template_hash=rs.hash,
                image=tpl.image,
                command=tpl.command,
                args=tpl.args,
                resources=ResourceRequirements.model_validate(tpl.resources),
                env=dict(tpl.env),
                change_cause=rs.change_cause,
                created_at=core.dt(rs.created),
                replicas=len(_live(ns, rs)),
                current=rs.hash == app.template.hash,
            )
        )
    return out


def _termination(core: TwinCore, run: ContainerRun) -> TerminationInfo:
    assert run.end is not None
    return TerminationInfo(
        reason=run.reason,
        exit_code=run.exit_code or 0,
        started_at=core.dt(run.start),
        finished_at=core.dt(run.end),
    )


def pod_info(core: TwinCore, ns: Namespace, pod: Pod) -> PodInfo:
    current = pod.runs[-1] if pod.runs else None
    if current is not None and current.end is not None and current.end <= core.t:
        last: ContainerRun | None = current
    else:
        last = pod.runs[-2] if len(pod.runs) >= 2 else None
    containers = [_container(core, pod, current, last)] if pod.node is not None else []
    return PodInfo(
        name=pod.name,
        namespace=ns.name,
        phase=pod.phase,
        status=pods.status_text(pod),
        ready=pod.ready,
        restarts=pod.restarts,
        node=pod.node,
        ip=pod.ip if pod.node is not None else None,
        owner_kind=pod.owner_kind,
        owner_name=pod.owner,
        labels=dict(pod.labels),
        created_at=core.dt(pod.created),
        containers=containers,
        last_termination_reason=last.reason if last is not None else None,
    )


def _container(
    core: TwinCore, pod: Pod, current: ContainerRun | None, last: ContainerRun | None
) -> ContainerStatus:
    name = pods.container_name(pod)
    base = {"name": name, "image": pod.image, "ready": pod.ready, "restart_count": pod.restarts}
    previous = _termination(core, last) if last is not None else None
    if pod.phase in {"Succeeded", "Failed"} and current is not None and current.end is not None:
        return ContainerStatus(
            **base,
            state="terminated",
            reason=current.reason,
            exit_code=current.exit_code,
            started_at=core.dt(current.start),
        )
    if current is not None and last is not current and not pod.reason:
        return ContainerStatus(
            **base, state="running", started_at=core.dt(current.start), last_termination=previous
        )
    return ContainerStatus(
        **base,
        state="waiting",
        reason=pod.reason or "ContainerCreating",
        message=pod.message or None,
        last_termination=previous,
    )


def event(ns: Namespace, ev: Event, core: TwinCore) -> ClusterEvent:
    return ClusterEvent(
        type=ev.type,
        reason=ev.reason,
        message=ev.message,
        involved_object=ObjectReference(kind=ev.kind, name=ev.name, namespace=ns.name),
        source=ev.source,
        count=ev.count,
        first_timestamp=core.dt(ev.first),
        last_timestamp=core.dt(ev.last),
    )


def cronjob_info(core: TwinCore, ns: Namespace, cron: CronJob) -> CronJobInfo:
    container = cronjobs.container_of(cron.manifest)
    spec = cron.spec

    def when(t: float | None) -> object:
        return core.dt(t) if t is not None else None

    return CronJobInfo(
        name=cron.name,
        namespace=ns.name,
        schedule=spec["schedule"],
        image=container["image"],
        command=container.get("command"),
        args=container.get("args"),
        from_application=spec["from_application"],
        concurrency_policy=spec["concurrency_policy"],
        suspended=spec["suspend"],
        active_jobs=[j.name for j in cronjobs.active_jobs(ns, cron)],
        last_schedule_time=when(cron.last_schedule),
        last_successful_time=when(cron.last_success),
        next_schedule_time=when(cron.next_fire),
        created_at=core.dt(cron.created),
    )


def job_run(core: TwinCore, ns: Namespace, job: Job, *, log_lines: int = 50) -> JobRun:
    lines: list[str] = []
    last_pod = next(
        (p for n in reversed(job.pods) if (p := ns.pods.get(n)) is not None and p.runs), None
    )
    if last_pod is not None:
        run = last_pod.runs[-1]
        lines = [
            text for _, text in logs.run_lines(core, ns, last_pod, run, since=None, tail=log_lines)
        ]
    return JobRun(
        name=job.name,
        cronjob=job.cronjob,
        manual=job.manual,
        status=job.status,
        start_time=core.dt(job.created),
        completion_time=core.dt(job.completion) if job.completion is not None else None,
        exit_code=job.exit_code,
        attempts=job.attempts,
        reason=job.reason,
        pods=list(job.pods),
        logs=lines,
    )
