"""The objects of one fake API server (the host cluster or one vCluster).

What the real API server does on writes is done here: names are validated (422), a namespaced
object needs a live namespace (404, or 403 while it terminates), duplicates are refused (409),
``uid``/``resourceVersion``/``creationTimestamp``/``generation`` are maintained (the generation
only moves when the spec changes), status cannot be changed through the main resource, objects
with finalizers get a ``deletionTimestamp`` instead of disappearing, and a pod that would exceed
the namespace's ResourceQuota is refused with the API server's 403 ``exceeded quota`` message.
"""

from __future__ import annotations

import copy
import re
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from platform_core.cluster.quantity import cpu_millis, format_cpu, format_memory, memory_bytes

Obj = dict[str, Any]
_DNS_LABEL = re.compile(r"^[a-z0-9]([-a-z0-9]*[a-z0-9])?$")
_DNS_SUBDOMAIN = re.compile(r"^[a-z0-9]([-a-z0-9.]*[a-z0-9])?$")


@dataclass(frozen=True)
class Resource:
    group: str
    version: str
    plural: str
    kind: str
    namespaced: bool = True

    @property
    def key(self) -> str:
        return f"{self.group}/{self.plural}"

    @property
    def api_version(self) -> str:
        return f"{self.group}/{self.version}" if self.group else self.version


RESOURCES = [
    Resource("", "v1", "namespaces", "Namespace", namespaced=False),
    Resource("", "v1", "pods", "Pod"),
    Resource("", "v1", "events", "Event"),
    Resource("", "v1", "configmaps", "ConfigMap"),
    Resource("", "v1", "secrets", "Secret"),
    Resource("", "v1", "services", "Service"),
    Resource("", "v1", "serviceaccounts", "ServiceAccount"),
    Resource("", "v1", "resourcequotas", "ResourceQuota"),
    Resource("apps", "v1", "deployments", "Deployment"),
    Resource("apps", "v1", "replicasets", "ReplicaSet"),
    Resource("autoscaling", "v2", "horizontalpodautoscalers", "HorizontalPodAutoscaler"),
    Resource("batch", "v1", "jobs", "Job"),
    Resource("batch", "v1", "cronjobs", "CronJob"),
    Resource("workspaces.hexabase.io", "v1", "virtualclusters", "VirtualCluster"),
    Resource("serving.knative.dev", "v1", "services", "Service"),
    Resource("serving.knative.dev", "v1", "revisions", "Revision"),
]
BY_PATH = {(r.group, r.version, r.plural): r for r in RESOURCES}
BY_KEY = {r.key: r for r in RESOURCES}
NAMESPACE = BY_KEY["/namespaces"]
POD = BY_KEY["/pods"]
EVENT = BY_KEY["/events"]


class ApiError(Exception):
    """An error answer, rendered as a Kubernetes ``Status``."""

    def __init__(
        self, code: int, reason: str, message: str, *, causes: list[Obj] | None = None
    ) -> None:
        super().__init__(message)
        self.code, self.reason, self.message, self.causes = code, reason, message, causes

    def status(self) -> Obj:
        body: Obj = {
            "kind": "Status",
            "apiVersion": "v1",
            "metadata": {},
            "status": "Failure",
            "message": self.message,
            "reason": self.reason,
            "code": self.code,
        }
        if self.causes:
            body["details"] = {"causes": self.causes}
        return body


def not_found(resource: Resource, name: str) -> ApiError:
    plural = resource.plural + (f".{resource.group}" if resource.group else "")
    return ApiError(404, "NotFound", f'{plural} "{name}" not found')


def stamp(t: float) -> str:
    return datetime.fromtimestamp(t, UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


class Store:
    """Objects by resource, namespace and name, plus the write rules of an API server."""

    def __init__(self, name: str, token: str, clock: Callable[[], float]) -> None:
        self.name = name
        self.token = token
        self.clock = clock
        self.paused = False
        self.version = 0
        self.order: dict[str, int] = {}  # uid -> creation sequence, for stable list order
        self.objects: dict[str, dict[tuple[str, str], Obj]] = {r.key: {} for r in RESOURCES}

    # ------------------------------------------------------------------ reads

    def get(self, resource: Resource, namespace: str, name: str) -> Obj | None:
        return self.objects[resource.key].get((namespace if resource.namespaced else "", name))

    def require(self, resource: Resource, namespace: str, name: str) -> Obj:
        found = self.get(resource, namespace, name)
        if found is None:
            raise not_found(resource, name)
        return found

    def list(self, resource: Resource, namespace: str | None = None) -> list[Obj]:
        items = [
            o
            for (ns, _), o in self.objects[resource.key].items()
            if namespace is None or not resource.namespaced or ns == namespace
        ]
        return sorted(items, key=lambda o: self.order.get(o["metadata"]["uid"], 0))

    def all(self) -> Iterator[tuple[Resource, Obj]]:
        for resource in RESOURCES:
            for obj in list(self.objects[resource.key].values()):
                yield resource, obj

    # ------------------------------------------------------------------ writes

    def _next_version(self) -> str:
        self.version += 1
        return str(self.version)

    def create(self, resource: Resource, namespace: str, body: Obj) -> Obj:
        obj = copy.deepcopy(body)
        meta = obj.setdefault("metadata", {})
        if not meta.get("name") and meta.get("generateName"):
            meta["name"] = f"{meta['generateName']}{uuid.uuid4().hex[:5]}"
        name = str(meta.get("name") or "")
        self._validate_name(resource, name)
        if resource.namespaced:
            self._require_live_namespace(namespace)
            meta["namespace"] = namespace
        if self.get(resource, namespace, name) is not None:
            plural = resource.plural + (f".{resource.group}" if resource.group else "")
            raise ApiError(409, "AlreadyExists", f'{plural} "{name}" already exists')
        if resource is POD:
            self._admit_pod(namespace, obj)
        obj.setdefault("apiVersion", resource.api_version)
        obj.setdefault("kind", resource.kind)
        meta["uid"] = str(uuid.uuid4())
        meta["creationTimestamp"] = stamp(self.clock())
        meta["resourceVersion"] = self._next_version()
        self.order[meta["uid"]] = self.version
        if "spec" in obj:
            meta["generation"] = 1
        if resource is NAMESPACE:
            obj["status"] = {"phase": "Active"}
            meta.setdefault("labels", {})["kubernetes.io/metadata.name"] = name
        self.objects[resource.key][(namespace if resource.namespaced else "", name)] = obj
        return obj

    def update(self, resource: Resource, namespace: str, name: str, new: Obj) -> Obj:
        """Replace an object's content, keeping what clients may not change."""
        old = self.require(resource, namespace, name)
        wanted = (new.get("metadata") or {}).get("resourceVersion")
        if wanted and wanted != old["metadata"]["resourceVersion"]:
            plural = resource.plural + (f".{resource.group}" if resource.group else "")
            raise ApiError(
                409,
                "Conflict",
                f'Operation cannot be fulfilled on {plural} "{name}": the object has been '
                "modified; please apply your changes to the latest version and try again",
            )
        obj = copy.deepcopy(new)
        meta = obj.setdefault("metadata", {})
        for key in ("uid", "creationTimestamp", "deletionTimestamp", "generation"):
            if key in old["metadata"]:
                meta[key] = old["metadata"][key]
        meta["name"], meta["resourceVersion"] = name, self._next_version()
        if resource.namespaced:
            meta["namespace"] = namespace
        obj.setdefault("apiVersion", old.get("apiVersion"))
        obj.setdefault("kind", old.get("kind"))
        if "status" in old:
            obj["status"] = old["status"]
        else:
            obj.pop("status", None)
        if obj.get("spec") != old.get("spec"):
            meta["generation"] = int(old["metadata"].get("generation", 0)) + 1
        self.objects[resource.key][(namespace if resource.namespaced else "", name)] = obj
        return obj

    def put(self, resource: Resource, obj: Obj) -> Obj:
        """A controller's write (status included), bumping the resourceVersion."""
        obj["metadata"]["resourceVersion"] = self._next_version()
        ns = obj["metadata"].get("namespace", "") if resource.namespaced else ""
        self.objects[resource.key][(ns, obj["metadata"]["name"])] = obj
        return obj

    def delete(self, resource: Resource, namespace: str, name: str) -> Obj:
        obj = self.require(resource, namespace, name)
        meta = obj["metadata"]
        if resource is NAMESPACE:
            if obj["status"].get("phase") == "Terminating":
                raise ApiError(
                    409,
                    "Conflict",
                    f'Operation cannot be fulfilled on namespaces "{name}": The system is '
                    "ensuring all content is removed from this namespace.  Upon completion, "
                    "this namespace will automatically be purged by the system.",
                )
            meta["deletionTimestamp"] = stamp(self.clock())
            obj["status"]["phase"] = "Terminating"
            return self.put(resource, obj)
        if meta.get("finalizers"):
            meta.setdefault("deletionTimestamp", stamp(self.clock()))
            return self.put(resource, obj)
        return self.remove(resource, obj)

    def remove(self, resource: Resource, obj: Obj) -> Obj:
        ns = obj["metadata"].get("namespace", "") if resource.namespaced else ""
        self.objects[resource.key].pop((ns, obj["metadata"]["name"]), None)
        return obj

    # ------------------------------------------------------------------ rules

    def _validate_name(self, resource: Resource, name: str) -> None:
        rule = _DNS_LABEL if resource.plural in {"namespaces", "services"} else _DNS_SUBDOMAIN
        limit = 63 if rule is _DNS_LABEL else 253
        if not name or len(name) > limit or rule.match(name) is None:
            message = (
                f'{resource.kind} "{name}" is invalid: metadata.name: Invalid value: "{name}": '
                "a lowercase RFC 1123 label must consist of lower case alphanumeric characters "
                "or '-', and must start and end with an alphanumeric character"
            )
            raise ApiError(
                422,
                "Invalid",
                message,
                causes=[{"field": "metadata.name", "message": "Invalid value"}],
            )

    def _require_live_namespace(self, namespace: str) -> None:
        ns = self.get(NAMESPACE, "", namespace)
        if ns is None:
            raise ApiError(404, "NotFound", f'namespaces "{namespace}" not found')
        if ns["status"].get("phase") == "Terminating":
            raise ApiError(
                403,
                "Forbidden",
                f"unable to create new content in namespace {namespace} because it is being "
                "terminated",
            )

    def quota_used(self, namespace: str) -> dict[str, int]:
        used = {"pods": 0, "requests.cpu": 0, "limits.cpu": 0}
        used |= {"requests.memory": 0, "limits.memory": 0}
        for pod in self.list(POD, namespace):
            if pod.get("status", {}).get("phase") in {"Succeeded", "Failed"}:
                continue
            for key, value in pod_requests(pod).items():
                used[key] += value
        return used

    def _admit_pod(self, namespace: str, pod: Obj) -> None:
        quota = self.get(BY_KEY["/resourcequotas"], namespace, "compute-resources")
        if quota is None:
            return
        hard = {k: _amount(k, str(v)) for k, v in quota["spec"].get("hard", {}).items()}
        used, requested = self.quota_used(namespace), pod_requests(pod)
        over = sorted(k for k, v in requested.items() if k in hard and used[k] + v > hard[k])
        if not over:
            return

        def listing(values: dict[str, int]) -> str:
            return ",".join(f"{k}={_format(k, values[k])}" for k in over)

        name = pod["metadata"]["name"]
        raise ApiError(
            403,
            "Forbidden",
            f'pods "{name}" is forbidden: exceeded quota: compute-resources, requested: '
            f"{listing(requested)}, used: {listing(used)}, limited: {listing(hard)}",
        )

    # ------------------------------------------------------------------ events

    def event(
        self,
        involved: Obj,
        reason: str,
        message: str,
        *,
        warning: bool = False,
        source: str = "kubelet",
    ) -> None:
        """Record an Event; a repeat bumps ``count`` and ``lastTimestamp`` like the recorder."""
        meta = involved["metadata"]
        namespace = meta.get("namespace", "default")
        if self.get(NAMESPACE, "", namespace) is None:
            return
        now = stamp(self.clock())
        for event in self.objects[EVENT.key].values():
            ref = event["involvedObject"]
            if (
                ref["uid"] == meta["uid"]
                and event["reason"] == reason
                and event["message"] == message
            ):
                event["count"] += 1
                event["lastTimestamp"] = now
                self.put(EVENT, event)
                return
        body = {
            "metadata": {"name": f"{meta['name']}.{uuid.uuid4().hex[:16]}"},
            "involvedObject": {
                "apiVersion": involved.get("apiVersion", "v1"),
                "kind": involved["kind"],
                "name": meta["name"],
                "namespace": namespace,
                "uid": meta["uid"],
            },
            "reason": reason,
            "message": message,
            "type": "Warning" if warning else "Normal",
            "source": {"component": source},
            "reportingComponent": source,
            "count": 1,
            "firstTimestamp": now,
            "lastTimestamp": now,
        }
        self.create(EVENT, namespace, body)


def _amount(key: str, value: str) -> int:
    if key.endswith("cpu"):
        return cpu_millis(value)
    if key == "pods":
        return int(value)
    return memory_bytes(value)


def _format(key: str, value: int) -> str:
    if key.endswith("cpu"):
        return format_cpu(value)
    if key == "pods":
        return str(value)
    return format_memory(value) if value else "0"


def pod_requests(pod: Obj) -> dict[str, int]:
    """What a pod counts against a quota: one pod plus its containers' requests and limits."""
    totals = {"pods": 1, "requests.cpu": 0, "limits.cpu": 0, "requests.memory": 0}
    totals["limits.memory"] = 0
    for container in pod.get("spec", {}).get("containers", []):
        resources = container.get("resources") or {}
        for kind in ("requests", "limits"):
            values = resources.get(kind) or {}
            if "cpu" in values:
                totals[f"{kind}.cpu"] += cpu_millis(str(values["cpu"]))
            if "memory" in values:
                totals[f"{kind}.memory"] += memory_bytes(str(values["memory"]))
    return totals


def format_used(key: str, value: int) -> str:
    return _format(key, value)
