"""Deployment, ReplicaSet and HPA objects -> ``Application``, ``Revision``, ``AutoscalingStatus``.

The pod template is read back into the fields ``ApplicationSpec`` has (image, env, resources,
port, command, args, labels), so an application created by the platform reads back the way it
was specified. Revisions are the ReplicaSets owned by the Deployment with their
``deployment.kubernetes.io/revision`` - exactly ``kubectl rollout history``.
"""

from __future__ import annotations

from typing import Any

from platform_core.cluster.kubernetes.objects import (
    LABEL_HASH,
    annotations_of,
    created,
    env_values,
    first_container,
    labels,
    meta,
    name,
    parse_time,
    revision,
    spec,
    status,
)
from platform_core.cluster.manifests import ANNOTATION_CHANGE_CAUSE, LABEL_APP
from platform_core.cluster.schemas import (
    Application,
    ApplicationSpec,
    AutoscalingStatus,
    Condition,
    ResourceList,
    ResourceRequirements,
    Revision,
)

Obj = dict[str, Any]


def resources_of(container: Obj) -> ResourceRequirements:
    """The container's cpu/memory requests and limits (defaults where one is missing)."""
    given = container.get("resources") or {}
    requests, limits = given.get("requests") or {}, given.get("limits") or {}
    default = ResourceRequirements()
    return ResourceRequirements.model_construct(
        requests=ResourceList.model_construct(
            cpu=str(requests.get("cpu", limits.get("cpu", default.requests.cpu))),
            memory=str(requests.get("memory", limits.get("memory", default.requests.memory))),
        ),
        limits=ResourceList.model_construct(
            cpu=str(limits.get("cpu", requests.get("cpu", default.limits.cpu))),
            memory=str(limits.get("memory", requests.get("memory", default.limits.memory))),
        ),
    )


def _port(container: Obj) -> int:
    ports = container.get("ports") or []
    return int(ports[0].get("containerPort", 8080)) if ports else 8080


def _list(value: object) -> list[str] | None:
    return [str(v) for v in value] if isinstance(value, list) else None


def template_labels(template: Obj) -> dict[str, str]:
    """The application's own labels: the template's, minus ``app`` and the controller's hash."""
    return {k: v for k, v in labels(template).items() if k not in {LABEL_APP, LABEL_HASH}}


def spec_of(deployment: Obj) -> dict[str, Any]:
    """The ``ApplicationSpec`` fields a Deployment was made from (not validated)."""
    template = spec(deployment).get("template") or {}
    container = first_container(template)
    return {
        "name": name(deployment),
        "image": str(container.get("image", "")),
        "replicas": int(spec(deployment).get("replicas", 1)),
        "env": env_values(container),
        "resources": resources_of(container).model_dump(),
        "port": _port(container),
        "command": _list(container.get("command")),
        "args": _list(container.get("args")),
        "labels": template_labels(template),
    }


def application_spec(deployment: Obj) -> ApplicationSpec:
    return ApplicationSpec.model_construct(**spec_of(deployment))


def _conditions(obj: Obj) -> list[Condition]:
    return [
        Condition(
            type=str(c.get("type", "")),
            status=c.get("status") if c.get("status") in {"True", "False"} else "Unknown",
            reason=str(c.get("reason") or ""),
            message=str(c.get("message") or ""),
            last_transition=parse_time(c.get("lastTransitionTime")) or created(obj),
        )
        for c in status(obj).get("conditions") or []
    ]


def autoscaling(hpa: Obj | None, deployment: Obj) -> AutoscalingStatus | None:
    if hpa is None:
        return None
    target = 80
    for metric in spec(hpa).get("metrics") or []:
        resource = metric.get("resource") or {}
        if metric.get("type") == "Resource" and resource.get("name") == "cpu":
            target = int(resource.get("target", {}).get("averageUtilization", target))
    current = None
    for metric in status(hpa).get("currentMetrics") or []:
        resource = metric.get("resource") or {}
        if metric.get("type") == "Resource" and resource.get("name") == "cpu":
            value = resource.get("current", {}).get("averageUtilization")
            current = None if value is None else int(value)
    return AutoscalingStatus(
        min_replicas=int(spec(hpa).get("minReplicas", 1)),
        max_replicas=int(spec(hpa).get("maxReplicas", 1)),
        target_cpu_utilization=target,
        current_cpu_utilization=current,
        desired_replicas=int(
            status(hpa).get("desiredReplicas") or spec(deployment).get("replicas") or 1
        ),
        last_scale_time=parse_time(status(hpa).get("lastScaleTime")),
    )


def current_replica_set(deployment: Obj, replica_sets: list[Obj]) -> Obj | None:
    """The ReplicaSet whose revision the Deployment reports (the newest one if unset yet)."""
    wanted = revision(deployment)
    found = next((rs for rs in replica_sets if revision(rs) == wanted), None)
    return found or (replica_sets[-1] if replica_sets and not wanted else None)


def application(deployment: Obj, replica_sets: list[Obj], hpa: Obj | None) -> Application:
    fields = spec_of(deployment)
    state = status(deployment)
    replicas = int(fields["replicas"])
    available = int(state.get("availableReplicas") or 0)
    current = current_replica_set(deployment, replica_sets)
    return Application(
        name=fields["name"],
        namespace=str(meta(deployment).get("namespace", "")),
        image=fields["image"],
        replicas=replicas,
        ready_replicas=int(state.get("readyReplicas") or 0),
        updated_replicas=int(state.get("updatedReplicas") or 0),
        available_replicas=available,
        unavailable_replicas=int(state.get("unavailableReplicas") or max(0, replicas - available)),
        revision=revision(current) if current is not None else revision(deployment),
        current_replica_set=name(current) if current is not None else "",
        env=fields["env"],
        resources=resources_of(first_container(spec(deployment).get("template") or {})),
        port=fields["port"],
        command=fields["command"],
        args=fields["args"],
        labels=fields["labels"],
        conditions=_conditions(deployment),
        autoscaling=autoscaling(hpa, deployment),
        created_at=created(deployment),
    )


def revisions(deployment: Obj, replica_sets: list[Obj]) -> list[Revision]:
    current = current_replica_set(deployment, replica_sets)
    out = []
    for rs in sorted(replica_sets, key=revision):
        template = spec(rs).get("template") or {}
        container = first_container(template)
        out.append(
            Revision(
                revision=revision(rs),
                replica_set=name(rs),
                pod_template_hash=labels(rs).get(LABEL_HASH, ""),
                image=str(container.get("image", "")),
                command=_list(container.get("command")),
                args=_list(container.get("args")),
                resources=resources_of(container),
                env=env_values(container),
                change_cause=annotations_of(rs).get(ANNOTATION_CHANGE_CAUSE, ""),
                created_at=created(rs),
                replicas=int(status(rs).get("replicas") or 0),
                current=current is not None and name(rs) == name(current),
            )
        )
    return out
