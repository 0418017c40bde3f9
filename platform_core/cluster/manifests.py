"""Manifests a Kubernetes gateway sends, as pure functions returning plain dicts.

The twin builds the same manifests and derives its behaviour from them (the ReplicaSet hash is
the hash of ``deployment_manifest(...)["spec"]["template"]``, a Job's name and labels come from
``job_from_cronjob``, a function's image and revision names from ``kaniko_build_job`` and
``knative_service_manifest``), so the simulated cluster and a real one agree on what is created.
"""

from __future__ import annotations

import hashlib
from datetime import datetime
from pathlib import Path
from typing import Any

import yaml

from platform_core.cluster.schemas import (
    ApplicationSpec,
    CronJobSpec,
    FunctionSpec,
    ResourceQuotaSpec,
    ResourceRequirements,
)

Manifest = dict[str, Any]

MANAGED_BY = {"app.kubernetes.io/managed-by": "hexabase"}
LABEL_APP = "app"
LABEL_PARENT = "hexabase.io/parent-project"
LABEL_TRIGGER = "hexabase.io/trigger"
LABEL_CRONJOB = "hexabase.io/cronjob"
LABEL_FUNCTION = "hexabase.io/function"
ANNOTATION_INSTANTIATE = "cronjob.kubernetes.io/instantiate"
ANNOTATION_RESTARTED_AT = "kubectl.kubernetes.io/restartedAt"
ANNOTATION_CHANGE_CAUSE = "kubernetes.io/change-cause"
QUOTA_NAME = "compute-resources"
FUNCTION_REGISTRY = "registry.hexabase.local/functions"
FUNCTION_BASE_IMAGE = "python:3.11-slim"
KANIKO_IMAGE = "gcr.io/kaniko-project/executor:v1.23.2"
FUNCTION_USER = 65532
RUNTIME_SOURCE = (Path(__file__).parent / "function_runtime.py").read_text()
_MAX_NAME = 63


# --------------------------------------------------------------------------- projects


def namespace_manifest(
    name: str, *, parent: str | None = None, labels: dict[str, str] | None = None
) -> Manifest:
    """A namespace; a nested project carries its parent in a label."""
    all_labels = {**MANAGED_BY, **(labels or {}), "kubernetes.io/metadata.name": name}
    if parent is not None:
        all_labels[LABEL_PARENT] = parent
    return {
        "apiVersion": "v1",
        "kind": "Namespace",
        "metadata": {"name": name, "labels": all_labels},
    }


def quota_hard(quota: ResourceQuotaSpec) -> dict[str, str]:
    """ResourceQuota ``spec.hard``: cpu and memory bound both requests and limits."""
    hard: dict[str, str] = {}
    if quota.cpu is not None:
        hard["requests.cpu"] = hard["limits.cpu"] = quota.cpu
    if quota.memory is not None:
        hard["requests.memory"] = hard["limits.memory"] = quota.memory
    if quota.storage is not None:
        hard["requests.storage"] = quota.storage
    if quota.pods is not None:
        hard["pods"] = str(quota.pods)
    return hard


def resource_quota_manifest(namespace: str, quota: ResourceQuotaSpec) -> Manifest:
    return {
        "apiVersion": "v1",
        "kind": "ResourceQuota",
        "metadata": {"name": QUOTA_NAME, "namespace": namespace, "labels": dict(MANAGED_BY)},
        "spec": {"hard": quota_hard(quota)},
    }


# --------------------------------------------------------------------------- applications


def container_resources(resources: ResourceRequirements) -> Manifest:
    return {
        "requests": {"cpu": resources.requests.cpu, "memory": resources.requests.memory},
        "limits": {"cpu": resources.limits.cpu, "memory": resources.limits.memory},
    }


def pod_template(
    spec: ApplicationSpec, *, restarted_at: str | None = None, labels: dict[str, str] | None = None
) -> Manifest:
    """The Deployment's ``spec.template``; its hash names the ReplicaSet."""
    container: Manifest = {
        "name": spec.name,
        "image": spec.image,
        "ports": [{"name": "http", "containerPort": spec.port, "protocol": "TCP"}],
        "env": [{"name": k, "value": v} for k, v in sorted(spec.env.items())],
        "resources": container_resources(spec.resources),
        "readinessProbe": {
            "httpGet": {"path": "/healthz", "port": spec.port},
            "periodSeconds": 10,
            "timeoutSeconds": 1,
        },
    }
    if spec.command is not None:
        container["command"] = list(spec.command)
    if spec.args is not None:
        container["args"] = list(spec.args)
    metadata: Manifest = {"labels": {LABEL_APP: spec.name, **spec.labels, **(labels or {})}}
    if restarted_at is not None:
        metadata["annotations"] = {ANNOTATION_RESTARTED_AT: restarted_at}
    return {"metadata": metadata, "spec": {"containers": [container]}}


def deployment_manifest(
    namespace: str, spec: ApplicationSpec, *, restarted_at: str | None = None
) -> Manifest:
    """A Deployment with the default rolling update (25 % surge / 25 % unavailable)."""
    return {
        "apiVersion": "apps/v1",
        "kind": "Deployment",
        "metadata": {
            "name": spec.name,
            "namespace": namespace,
            "labels": {**MANAGED_BY, LABEL_APP: spec.name, **spec.labels},
        },
        "spec": {
            "replicas": spec.replicas,
            "revisionHistoryLimit": 10,
            "progressDeadlineSeconds": 600,
            "selector": {"matchLabels": {LABEL_APP: spec.name}},
            "strategy": {
                "type": "RollingUpdate",
                "rollingUpdate": {"maxSurge": "25%", "maxUnavailable": "25%"},
            },
            "template": pod_template(spec, restarted_at=restarted_at),
        },
    }


def service_manifest(namespace: str, spec: ApplicationSpec) -> Manifest:
    return {
        "apiVersion": "v1",
        "kind": "Service",
        "metadata": {"name": spec.name, "namespace": namespace, "labels": dict(MANAGED_BY)},
        "spec": {
            "selector": {LABEL_APP: spec.name},
            "ports": [{"name": "http", "port": 80, "targetPort": spec.port}],
        },
    }


def hpa_manifest(
    namespace: str, name: str, *, min_replicas: int, max_replicas: int, target_cpu_utilization: int
) -> Manifest:
    return {
        "apiVersion": "autoscaling/v2",
        "kind": "HorizontalPodAutoscaler",
        "metadata": {"name": name, "namespace": namespace, "labels": dict(MANAGED_BY)},
        "spec": {
            "scaleTargetRef": {"apiVersion": "apps/v1", "kind": "Deployment", "name": name},
            "minReplicas": min_replicas,
            "maxReplicas": max_replicas,
            "metrics": [
                {
                    "type": "Resource",
                    "resource": {
                        "name": "cpu",
                        "target": {
                            "type": "Utilization",
                            "averageUtilization": target_cpu_utilization,
                        },
                    },
                }
            ],
        },
    }


# --------------------------------------------------------------------------- cronjobs


def cronjob_manifest(
    namespace: str, spec: CronJobSpec, *, app_template: Manifest | None = None
) -> Manifest:
    """A CronJob; with ``from_application`` the app's pod template is copied (image, env, ...)."""
    if app_template is not None:
        container = dict(app_template["spec"]["containers"][0])
        for key in ("ports", "readinessProbe"):
            container.pop(key, None)
        container["name"] = spec.name
    else:
        container = {"name": spec.name, "image": spec.image, "env": []}
    env = {e["name"]: e["value"] for e in container.get("env", [])} | spec.env
    container["env"] = [{"name": k, "value": v} for k, v in sorted(env.items())]
    if spec.resources is not None:
        container["resources"] = container_resources(spec.resources)
    container.setdefault("resources", container_resources(ResourceRequirements()))
    for key, value in (("command", spec.command), ("args", spec.args)):
        if value is not None:
            container[key] = list(value)
    job_spec: Manifest = {
        "backoffLimit": spec.backoff_limit,
        "template": {
            "metadata": {"labels": {LABEL_CRONJOB: spec.name}},
            "spec": {"restartPolicy": "Never", "containers": [container]},
        },
    }
    if spec.active_deadline_seconds is not None:
        job_spec["activeDeadlineSeconds"] = spec.active_deadline_seconds
    return {
        "apiVersion": "batch/v1",
        "kind": "CronJob",
        "metadata": {"name": spec.name, "namespace": namespace, "labels": dict(MANAGED_BY)},
        "spec": {
            "schedule": spec.schedule,
            "timeZone": "Etc/UTC",
            "concurrencyPolicy": spec.concurrency_policy,
            "suspend": spec.suspend,
            "successfulJobsHistoryLimit": spec.successful_jobs_history_limit,
            "failedJobsHistoryLimit": spec.failed_jobs_history_limit,
            "jobTemplate": {"spec": job_spec},
        },
    }


def scheduled_job_name(cronjob: str, scheduled: datetime) -> str:
    """The controller's name for a scheduled run: ``<cronjob>-<minutes since the epoch>``."""
    return f"{cronjob}-{int(scheduled.timestamp()) // 60}"


def manual_job_name(cronjob: str, now: datetime) -> str:
    """``<cronjob>-manual-<unix seconds>``, shortening the CronJob part to stay within 63."""
    suffix = f"-manual-{int(now.timestamp())}"
    return cronjob[: _MAX_NAME - len(suffix)].rstrip("-") + suffix


def job_from_cronjob(cronjob: Manifest, *, job_name: str, manual: bool) -> Manifest:
    """A Job made from a CronJob: scheduled, or manual like ``kubectl create job --from``."""
    meta = cronjob["metadata"]
    template = cronjob["spec"]["jobTemplate"]["spec"]
    labels = {
        **MANAGED_BY,
        LABEL_CRONJOB: meta["name"],
        LABEL_TRIGGER: "manual" if manual else "schedule",
    }
    annotations = {ANNOTATION_INSTANTIATE: "manual"} if manual else {}
    return {
        "apiVersion": "batch/v1",
        "kind": "Job",
        "metadata": {
            "name": job_name,
            "namespace": meta["namespace"],
            "labels": labels,
            "annotations": annotations,
            "ownerReferences": [
                {
                    "apiVersion": "batch/v1",
                    "kind": "CronJob",
                    "name": meta["name"],
                    "controller": True,
                }
            ],
        },
        "spec": template,
    }


# --------------------------------------------------------------------------- functions


def source_sha256(spec: FunctionSpec) -> str:
    """Identity of what gets built: the source plus the handler name."""
    return hashlib.sha256(f"{spec.handler}\0{spec.source}".encode()).hexdigest()


def function_image(workspace: str, namespace: str, spec: FunctionSpec) -> str:
    """Content-addressed image tag, so an unchanged source is not rebuilt under a new name."""
    return f"{FUNCTION_REGISTRY}/{workspace}/{namespace}/{spec.name}:{source_sha256(spec)[:12]}"


def function_dockerfile() -> str:
    """Dockerfile of a function image: compile at build time, run as a non-root user."""
    return "\n".join(
        [
            f"FROM {FUNCTION_BASE_IMAGE}",
            "WORKDIR /app",
            "COPY handler.py runtime.py /app/",
            "RUN python -m py_compile /app/handler.py /app/runtime.py",
            "ENV PYTHONDONTWRITEBYTECODE=1 PYTHONUNBUFFERED=1",
            f"USER {FUNCTION_USER}:{FUNCTION_USER}",
            "EXPOSE 8080",
            'CMD ["python", "/app/runtime.py"]',
            "",
        ]
    )


def function_source_configmap(namespace: str, spec: FunctionSpec, *, build_number: int) -> Manifest:
    """The build context: handler source, runtime and Dockerfile."""
    return {
        "apiVersion": "v1",
        "kind": "ConfigMap",
        "metadata": {
            "name": f"{spec.name}-build-{build_number}-context",
            "namespace": namespace,
            "labels": {**MANAGED_BY, LABEL_FUNCTION: spec.name},
        },
        "data": {
            "handler.py": spec.source,
            "runtime.py": RUNTIME_SOURCE,
            "Dockerfile": function_dockerfile(),
        },
    }


def kaniko_build_job(
    namespace: str, spec: FunctionSpec, *, build_number: int, image: str
) -> Manifest:
    """A one-shot Kaniko Job building the context ConfigMap and pushing ``image``."""
    context = function_source_configmap(namespace, spec, build_number=build_number)
    return {
        "apiVersion": "batch/v1",
        "kind": "Job",
        "metadata": {
            "name": f"{spec.name}-build-{build_number}",
            "namespace": namespace,
            "labels": {
                **MANAGED_BY,
                LABEL_FUNCTION: spec.name,
                "hexabase.io/build": str(build_number),
            },
        },
        "spec": {
            "backoffLimit": 0,
            "activeDeadlineSeconds": 900,
            "ttlSecondsAfterFinished": 3600,
            "template": {
                "spec": {
                    "restartPolicy": "Never",
                    "automountServiceAccountToken": False,
                    "containers": [
                        {
                            "name": "kaniko",
                            "image": KANIKO_IMAGE,
                            "args": [
                                "--dockerfile=/workspace/Dockerfile",
                                "--context=dir:///workspace",
                                f"--destination={image}",
                                "--cache=true",
                                "--snapshot-mode=redo",
                            ],
                            "resources": {
                                "requests": {"cpu": "500m", "memory": "512Mi"},
                                "limits": {"cpu": "1", "memory": "1Gi"},
                            },
                            "volumeMounts": [
                                {"name": "context", "mountPath": "/workspace"},
                                {"name": "registry-auth", "mountPath": "/kaniko/.docker"},
                            ],
                        }
                    ],
                    "volumes": [
                        {"name": "context", "configMap": {"name": context["metadata"]["name"]}},
                        {"name": "registry-auth", "secret": {"secretName": "registry-push"}},
                    ],
                }
            },
        },
    }


def function_service_account(namespace: str, name: str) -> Manifest:
    """A dedicated service account with no token mounted and no role bound to it."""
    return {
        "apiVersion": "v1",
        "kind": "ServiceAccount",
        "metadata": {
            "name": f"{name}-runtime",
            "namespace": namespace,
            "labels": {**MANAGED_BY, LABEL_FUNCTION: name},
        },
        "automountServiceAccountToken": False,
    }


def restricted_security_context() -> Manifest:
    """The Pod Security "restricted" profile for the function container."""
    return {
        "runAsNonRoot": True,
        "runAsUser": FUNCTION_USER,
        "runAsGroup": FUNCTION_USER,
        "readOnlyRootFilesystem": True,
        "allowPrivilegeEscalation": False,
        "capabilities": {"drop": ["ALL"]},
        "seccompProfile": {"type": "RuntimeDefault"},
    }


def knative_revision_name(name: str, generation: int) -> str:
    return f"{name}-{generation:05d}"


def knative_service_manifest(
    namespace: str, spec: FunctionSpec, *, image: str, generation: int
) -> Manifest:
    """A Knative Service running ``image`` with the restricted SA, security context and limits."""
    env = [{"name": k, "value": v} for k, v in sorted(spec.env.items())]
    env += [
        {"name": "FUNCTION_SOURCE", "value": "/app/handler.py"},
        {"name": "FUNCTION_HANDLER", "value": spec.handler},
    ]
    return {
        "apiVersion": "serving.knative.dev/v1",
        "kind": "Service",
        "metadata": {
            "name": spec.name,
            "namespace": namespace,
            "labels": {**MANAGED_BY, LABEL_FUNCTION: spec.name},
        },
        "spec": {
            "template": {
                "metadata": {
                    "name": knative_revision_name(spec.name, generation),
                    "annotations": {
                        "autoscaling.knative.dev/min-scale": str(spec.min_scale),
                        "autoscaling.knative.dev/max-scale": str(spec.max_scale),
                    },
                },
                "spec": {
                    "serviceAccountName": f"{spec.name}-runtime",
                    "automountServiceAccountToken": False,
                    "timeoutSeconds": max(1, round(spec.timeout_seconds)),
                    "containers": [
                        {
                            "image": image,
                            "ports": [{"containerPort": 8080}],
                            "env": env,
                            "securityContext": restricted_security_context(),
                            "resources": {
                                "requests": {"cpu": spec.cpu, "memory": spec.memory},
                                "limits": {"cpu": spec.cpu, "memory": spec.memory},
                            },
                        }
                    ],
                },
            },
            "traffic": [{"latestRevision": True, "percent": 100}],
        },
    }


# --------------------------------------------------------------------------- workspaces


def kubeconfig(workspace: str, *, server: str, token: str, ca_data: str) -> str:
    """A kubeconfig (YAML) for the workspace's vCluster."""
    name = f"vcluster-{workspace}"
    document = {
        "apiVersion": "v1",
        "kind": "Config",
        "clusters": [
            {"name": name, "cluster": {"server": server, "certificate-authority-data": ca_data}}
        ],
        "users": [{"name": f"{name}-admin", "user": {"token": token}}],
        "contexts": [
            {
                "name": name,
                "context": {"cluster": name, "user": f"{name}-admin", "namespace": "default"},
            }
        ],
        "current-context": name,
    }
    return yaml.safe_dump(document, sort_keys=False)
