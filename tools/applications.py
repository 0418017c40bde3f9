"""Applications (Deployments): list, describe, scale, restart, roll back, autoscale."""

from __future__ import annotations

from pydantic import Field, model_validator

from platform_core.cluster.quantity import cpu_millis, memory_bytes
from platform_core.cluster.schemas import (
    Application,
    PodInfo,
    ResourceList,
    ResourceRequirements,
)
from tools.base import ProjectArgs, ToolContext, tool
from tools.render import application_line, event_line, pod_line, rollout_line
from tools.results import ToolResult
from tools.targets import Target


def _app_data(app: Application) -> dict[str, object]:
    return {
        "name": app.name,
        "image": app.image,
        "replicas": app.replicas,
        "ready_replicas": app.ready_replicas,
        "revision": app.revision,
        "autoscaling": app.autoscaling.model_dump(mode="json") if app.autoscaling else None,
    }


@tool(risk="read", permission="workload.read", scope="project")
async def list_applications(
    ctx: ToolContext, args: ProjectArgs, target: Target | None
) -> ToolResult:
    """List the applications (Deployments) of a project with their replica counts."""
    assert target is not None
    apps = await ctx.gateway.list_applications(target.cluster_workspace, target.namespace)
    if not apps:
        return ToolResult.no_data(f"no applications in {target.where}")
    lines = [f"- {application_line(app)}" for app in apps]
    return ToolResult.ok(
        f"{len(apps)} application(s) in {target.where}:\n" + "\n".join(lines),
        [_app_data(app) for app in apps],
    )


class ApplicationArgs(ProjectArgs):
    application: str = Field(description="Application (Deployment) name")


def _pod_data(pod: PodInfo) -> dict[str, object]:
    return {
        "name": pod.name,
        "status": pod.status,
        "ready": pod.ready,
        "restarts": pod.restarts,
        "last_termination_reason": pod.last_termination_reason,
    }


@tool(risk="read", permission="workload.read", scope="project")
async def describe_application(
    ctx: ToolContext, args: ApplicationArgs, target: Target | None
) -> ToolResult:
    """Describe an application: its status and replicas, its pods (phase, readiness, restarts,
    last termination reason) and its recent events, warnings first."""
    assert target is not None
    ws, ns = target.cluster_workspace, target.namespace
    app = await ctx.gateway.get_application(ws, ns, args.application)
    pods = await ctx.gateway.list_pods(ws, ns, application=args.application)
    events = await ctx.gateway.list_events(ws, ns, name=args.application)
    revisions = await ctx.gateway.list_revisions(ws, ns, args.application)
    now = await ctx.gateway.now()
    recent = sorted(events, key=lambda e: (e.type != "Warning", -e.last_timestamp.timestamp()))[:10]
    conditions = [f"{c.type}={c.status} ({c.reason})" for c in app.conditions if c.status != "True"]
    limits, requests = app.resources.limits, app.resources.requests
    lines = [
        f"application {application_line(app)} in {target.where}",
        f"resources: limits cpu {limits.cpu}, memory {limits.memory}; "
        f"requests cpu {requests.cpu}, memory {requests.memory}",
        rollout_line(revisions, now),
    ]
    if conditions:
        lines.append("conditions not met: " + "; ".join(conditions))
    lines.append(f"pods ({len(pods)}):")
    lines += [f"- {pod_line(pod)}" for pod in pods] or ["- none"]
    lines.append("recent events:")
    lines += [f"- {event_line(event, now)}" for event in recent] or ["- none"]
    data = {
        **_app_data(app),
        "pods": [_pod_data(pod) for pod in pods],
        "events": [e.model_dump(mode="json") for e in recent],
    }
    return ToolResult.ok("\n".join(lines), data)


class ScaleArgs(ApplicationArgs):
    replicas: int = Field(ge=0, le=200, description="Desired number of replicas")


@tool(
    risk="write",
    permission="workload.write",
    scope="project",
    describe=lambda a, t: (
        f"scale {a.application} in {t.where if t else '?'} to {a.replicas} replicas"
    ),
)
async def scale_application(ctx: ToolContext, args: ScaleArgs, target: Target | None) -> ToolResult:
    """Set an application's replica count. Needs approval."""
    assert target is not None
    before = await ctx.gateway.get_application(
        target.cluster_workspace, target.namespace, args.application
    )
    app = await ctx.gateway.scale_application(
        target.cluster_workspace, target.namespace, args.application, replicas=args.replicas
    )
    return ToolResult.ok(
        f"scaled {app.name} in {target.where} from {before.replicas} to {app.replicas} replicas",
        _app_data(app),
    )


@tool(
    risk="write",
    permission="workload.write",
    scope="project",
    describe=lambda a, t: f"restart {a.application} in {t.where if t else '?'} (new pods)",
)
async def restart_application(
    ctx: ToolContext, args: ApplicationArgs, target: Target | None
) -> ToolResult:
    """Restart an application (a rolling restart: new pods replace the old). Needs approval."""
    assert target is not None
    app = await ctx.gateway.restart_application(
        target.cluster_workspace, target.namespace, args.application
    )
    return ToolResult.ok(
        f"restarted {app.name} in {target.where}; now revision {app.revision}", _app_data(app)
    )


class RollbackArgs(ApplicationArgs):
    to_revision: int | None = Field(
        default=None, ge=1, description="Revision to return to; the previous one if omitted"
    )


@tool(
    risk="write",
    permission="workload.write",
    scope="project",
    describe=lambda a, t: (
        f"roll back {a.application} in {t.where if t else '?'} to "
        + (f"revision {a.to_revision}" if a.to_revision else "the previous revision")
    ),
)
async def rollback_application(
    ctx: ToolContext, args: RollbackArgs, target: Target | None
) -> ToolResult:
    """Roll an application back to its previous revision (or a given one). Needs approval."""
    assert target is not None
    ws, ns = target.cluster_workspace, target.namespace
    before = await ctx.gateway.get_application(ws, ns, args.application)
    app = await ctx.gateway.rollback_application(
        ws, ns, args.application, to_revision=args.to_revision
    )
    return ToolResult.ok(
        f"rolled {app.name} back from image {before.image} to {app.image} "
        f"(revision {app.revision})",
        _app_data(app),
    )


class AutoscalingArgs(ApplicationArgs):
    min_replicas: int = Field(ge=1, le=200)
    max_replicas: int = Field(ge=1, le=200)
    target_cpu_utilization: int = Field(default=80, ge=10, le=95, description="Percent of request")

    @model_validator(mode="after")
    def _ordered(self) -> AutoscalingArgs:
        if self.min_replicas > self.max_replicas:
            raise ValueError("min_replicas must not exceed max_replicas")
        return self


@tool(
    risk="write",
    permission="workload.write",
    scope="project",
    describe=lambda a, t: (
        f"autoscale {a.application} in {t.where if t else '?'} between {a.min_replicas} and "
        f"{a.max_replicas} replicas at {a.target_cpu_utilization}% CPU"
    ),
)
async def set_autoscaling(
    ctx: ToolContext, args: AutoscalingArgs, target: Target | None
) -> ToolResult:
    """Set an application's autoscaling bounds (HorizontalPodAutoscaler on CPU). Needs approval."""
    assert target is not None
    app = await ctx.gateway.set_autoscaling(
        target.cluster_workspace,
        target.namespace,
        args.application,
        min_replicas=args.min_replicas,
        max_replicas=args.max_replicas,
        target_cpu_utilization=args.target_cpu_utilization,
    )
    return ToolResult.ok(
        f"{app.name} now autoscales between {args.min_replicas} and {args.max_replicas} replicas "
        f"at {args.target_cpu_utilization}% CPU",
        _app_data(app),
    )


class ResourcesArgs(ApplicationArgs):
    memory_limit: str | None = Field(default=None, description="Memory limit, e.g. '512Mi', '1Gi'")
    cpu_limit: str | None = Field(default=None, description="CPU limit, e.g. '500m', '2'")
    memory_request: str | None = None
    cpu_request: str | None = None

    @model_validator(mode="after")
    def _something(self) -> ResourcesArgs:
        if not any((self.memory_limit, self.cpu_limit, self.memory_request, self.cpu_request)):
            raise ValueError(
                "give at least one of memory_limit, cpu_limit, memory_request, cpu_request"
            )
        return self


def _describe_resources(args: ResourcesArgs, target: Target | None) -> str:
    changes = ", ".join(
        f"{label} {value}"
        for label, value in (
            ("memory limit", args.memory_limit),
            ("CPU limit", args.cpu_limit),
            ("memory request", args.memory_request),
            ("CPU request", args.cpu_request),
        )
        if value
    )
    return f"set {changes} of {args.application} in {target.where if target else '?'}"


@tool(risk="write", permission="workload.write", scope="project", describe=_describe_resources)
async def set_resources(ctx: ToolContext, args: ResourcesArgs, target: Target | None) -> ToolResult:
    """Change an application's CPU/memory limits or requests (rolls out new pods). Needs approval.
    Requests are lowered to the limit when a new limit is below them."""
    assert target is not None
    ws, ns = target.cluster_workspace, target.namespace
    app = await ctx.gateway.get_application(ws, ns, args.application)
    current = app.resources
    limits = current.limits.model_copy(
        update={k: v for k, v in (("cpu", args.cpu_limit), ("memory", args.memory_limit)) if v}
    )
    requests = current.requests.model_copy(
        update={k: v for k, v in (("cpu", args.cpu_request), ("memory", args.memory_request)) if v}
    )
    requests = _capped_requests(requests, limits)
    resources = ResourceRequirements(requests=requests, limits=limits)
    updated = await ctx.gateway.update_application(ws, ns, args.application, resources=resources)
    return ToolResult.ok(
        f"{updated.name} now has limits cpu {limits.cpu}, memory {limits.memory} "
        f"(requests cpu {requests.cpu}, memory {requests.memory}); revision {updated.revision}",
        _app_data(updated),
    )


def _capped_requests(requests: ResourceList, limits: ResourceList) -> ResourceList:
    cpu = requests.cpu if cpu_millis(requests.cpu) <= cpu_millis(limits.cpu) else limits.cpu
    memory = (
        requests.memory
        if memory_bytes(requests.memory) <= memory_bytes(limits.memory)
        else limits.memory
    )
    return ResourceList(cpu=cpu, memory=memory)
