"""Deployment, ReplicaSet, HPA, quota, namespace and garbage-collection controllers.

They follow the real controllers closely enough for the gateway's reads to mean something:

* Deployment: one ReplicaSet per pod template (``<name>-<pod-template-hash>``), revisions in
  ``deployment.kubernetes.io/revision`` (an old ReplicaSet that becomes current again - a
  rollback - gets the next revision), ``kubernetes.io/change-cause`` copied to the current
  ReplicaSet, the default rolling update (25 % surge, 25 % unavailable), ``ScalingReplicaSet``
  events, status counters, ``Available``/``Progressing`` conditions and ``observedGeneration``.
* ReplicaSet: creates pods from its template (``<rs>-<5 chars>``) until the quota refuses one
  (``FailedCreate`` warning with the API server's message), deletes surplus pods.
* HPA (autoscaling/v2, CPU utilisation): desired = ceil(current * utilisation / target), clamped
  to min/max, written through the Deployment's replicas; status with the current utilisation.
* ResourceQuota: ``status.hard``/``status.used``. Namespaces being deleted lose their content and
  disappear a second later. Objects whose owners are gone are deleted (background GC).
"""

from __future__ import annotations

import math
import random
from typing import TYPE_CHECKING, Any

from platform_core.cluster.naming import pod_template_hash, random_suffix
from tests.support.fake_kube.store import (
    BY_KEY,
    NAMESPACE,
    POD,
    RESOURCES,
    ApiError,
    Store,
    format_used,
    stamp,
)

if TYPE_CHECKING:
    from tests.support.fake_kube.world import FakeKube

Obj = dict[str, Any]
DEPLOYMENT = BY_KEY["apps/deployments"]
REPLICASET = BY_KEY["apps/replicasets"]
HPA = BY_KEY["autoscaling/horizontalpodautoscalers"]
QUOTA = BY_KEY["/resourcequotas"]
REVISION = "deployment.kubernetes.io/revision"
CHANGE_CAUSE = "kubernetes.io/change-cause"
HASH = "pod-template-hash"


def owner_ref(owner: Obj) -> Obj:
    return {
        "apiVersion": owner["apiVersion"],
        "kind": owner["kind"],
        "name": owner["metadata"]["name"],
        "uid": owner["metadata"]["uid"],
        "controller": True,
        "blockOwnerDeletion": True,
    }


def owns(owner: Obj, obj: Obj) -> bool:
    uid = owner["metadata"]["uid"]
    return any(r.get("uid") == uid for r in obj["metadata"].get("ownerReferences") or [])


def revision(obj: Obj) -> int:
    return int((obj["metadata"].get("annotations") or {}).get(REVISION, "0"))


def is_ready(pod: Obj) -> bool:
    return any(
        c.get("type") == "Ready" and c.get("status") == "True"
        for c in pod.get("status", {}).get("conditions") or []
    )


def set_condition(obj: Obj, kind: str, status: str, reason: str, message: str, now: str) -> None:
    conditions = obj.setdefault("status", {}).setdefault("conditions", [])
    found = next((c for c in conditions if c["type"] == kind), None)
    if found is None:
        conditions.append(
            {
                "type": kind,
                "status": status,
                "reason": reason,
                "message": message,
                "lastTransitionTime": now,
                "lastUpdateTime": now,
            }
        )
        return
    if found["status"] != status:
        found["lastTransitionTime"] = now
    if (found["reason"], found["message"]) != (reason, message):
        found["lastUpdateTime"] = now
    found |= {"status": status, "reason": reason, "message": message}


class Workloads:
    def __init__(self, world: FakeKube) -> None:
        self.world = world
        self.rng = random.Random(11)

    # ------------------------------------------------------------------ namespaces, GC

    def sync_namespaces(self, store: Store) -> None:
        for ns in store.list(NAMESPACE):
            if ns["status"].get("phase") != "Terminating":
                continue
            name = ns["metadata"]["name"]
            for resource, obj in store.all():
                if resource.namespaced and obj["metadata"].get("namespace") == name:
                    self._remove(store, resource, obj)
            if self.world.elapsed_since(ns["metadata"]["deletionTimestamp"]) >= 1.0:
                store.remove(NAMESPACE, ns)

    def _remove(self, store: Store, resource: Any, obj: Obj) -> None:
        if resource is POD:
            self.world.kubelet.forget(obj)
        store.remove(resource, obj)

    def collect_garbage(self, store: Store) -> None:
        uids = {obj["metadata"]["uid"] for _, obj in store.all()}
        for _ in range(4):  # owners of owners go in the following rounds
            removed = False
            for resource, obj in store.all():
                refs = obj["metadata"].get("ownerReferences") or []
                if refs and all(r.get("uid") not in uids for r in refs):
                    self._remove(store, resource, obj)
                    uids.discard(obj["metadata"]["uid"])
                    removed = True
            if not removed:
                return

    def sync_quotas(self, store: Store) -> None:
        for quota in store.list(QUOTA):
            hard = dict(quota["spec"].get("hard") or {})
            used = store.quota_used(quota["metadata"]["namespace"])
            quota["status"] = {
                "hard": hard,
                "used": {k: format_used(k, used.get(k, 0)) for k in hard},
            }
            store.put(QUOTA, quota)

    # ------------------------------------------------------------------ deployments

    def _scale(self, store: Store, deployment: Obj, rs: Obj, replicas: int) -> None:
        current = int(rs["spec"].get("replicas", 0))
        if replicas == current:
            return
        verb = "up" if replicas > current else "down"
        tail = "" if verb == "up" else f" from {current}"
        store.event(
            deployment,
            "ScalingReplicaSet",
            f"Scaled {verb} replica set {rs['metadata']['name']} to {replicas}{tail}",
            source="deployment-controller",
        )
        rs["spec"]["replicas"] = replicas
        rs["metadata"]["generation"] = int(rs["metadata"].get("generation", 1)) + 1
        store.put(REPLICASET, rs)

    def _new_replica_set(self, store: Store, deployment: Obj, owned: list[Obj]) -> Obj:
        meta, spec = deployment["metadata"], deployment["spec"]
        template = spec["template"]
        digest = pod_template_hash(template)
        latest = max((revision(rs) for rs in owned), default=0)
        cause = (meta.get("annotations") or {}).get(CHANGE_CAUSE)
        new = next((rs for rs in owned if rs["metadata"]["labels"].get(HASH) == digest), None)
        if new is None:
            labels = {**(template.get("metadata", {}).get("labels") or {}), HASH: digest}
            annotations = {REVISION: str(latest + 1)}
            if cause:
                annotations[CHANGE_CAUSE] = cause
            body = {
                "metadata": {
                    "name": f"{meta['name']}-{digest}",
                    "labels": labels,
                    "annotations": annotations,
                    "ownerReferences": [owner_ref(deployment)],
                },
                "spec": {
                    "replicas": 0,
                    "selector": {"matchLabels": {**spec["selector"]["matchLabels"], HASH: digest}},
                    "template": {
                        **template,
                        "metadata": {**template.get("metadata", {}), "labels": labels},
                    },
                },
            }
            new = store.create(REPLICASET, meta["namespace"], body)
            owned.append(new)
        elif revision(new) != latest:
            notes = new["metadata"].setdefault("annotations", {})
            notes[REVISION] = str(latest + 1)
            if cause:
                notes[CHANGE_CAUSE] = cause
            store.put(REPLICASET, new)
        return new

    def sync_deployments(self, store: Store) -> None:
        for deployment in store.list(DEPLOYMENT):
            if deployment["metadata"].get("deletionTimestamp"):
                continue
            ns = deployment["metadata"]["namespace"]
            owned = [rs for rs in store.list(REPLICASET, ns) if owns(deployment, rs)]
            new = self._new_replica_set(store, deployment, owned)
            annotations = deployment["metadata"].setdefault("annotations", {})
            annotations[REVISION] = new["metadata"]["annotations"][REVISION]
            self._roll(store, deployment, new, owned)
            self._deployment_status(store, deployment, new, owned)

    def _pods(self, store: Store, rs: Obj) -> list[Obj]:
        return [
            p
            for p in store.list(POD, rs["metadata"]["namespace"])
            if owns(rs, p) and not p["metadata"].get("deletionTimestamp")
        ]

    def _roll(self, store: Store, deployment: Obj, new: Obj, owned: list[Obj]) -> None:
        desired = int(deployment["spec"].get("replicas", 1))
        olds = [rs for rs in owned if rs is not new and rs["spec"].get("replicas", 0) > 0]
        if not olds:
            self._scale(store, deployment, new, desired)
            return
        surge = math.ceil(desired * 0.25)
        unavailable = math.floor(desired * 0.25) or (0 if surge else 1)
        total = sum(int(rs["spec"].get("replicas", 0)) for rs in owned)
        new_replicas = int(new["spec"].get("replicas", 0))
        if total < desired + surge and new_replicas < desired:
            grow = min(desired, new_replicas + desired + surge - total)
            self._scale(store, deployment, new, grow)
        ready = sum(1 for rs in owned for p in self._pods(store, rs) if is_ready(p))
        spare = ready - (desired - unavailable)
        for rs in sorted(olds, key=revision):
            replicas = int(rs["spec"]["replicas"])
            ready_here = sum(1 for p in self._pods(store, rs) if is_ready(p))
            unready = max(0, replicas - ready_here)
            cut = min(replicas, unready + max(0, spare))
            spare -= max(0, cut - unready)
            self._scale(store, deployment, rs, replicas - cut)

    def _deployment_status(self, store: Store, deployment: Obj, new: Obj, owned: list[Obj]) -> None:
        desired = int(deployment["spec"].get("replicas", 1))
        pods = [p for rs in owned for p in self._pods(store, rs)]
        new_pods = self._pods(store, new)
        ready = sum(1 for p in pods if is_ready(p))
        unavailable_max = math.floor(desired * 0.25)
        status = deployment.setdefault("status", {})
        status |= {
            "observedGeneration": deployment["metadata"].get("generation", 1),
            "replicas": len(pods),
            "updatedReplicas": len(new_pods),
            "readyReplicas": ready,
            "availableReplicas": ready,
            "unavailableReplicas": max(0, desired - ready),
        }
        now = stamp(self.world.t)
        if ready >= desired - unavailable_max:
            set_condition(
                deployment,
                "Available",
                "True",
                "MinimumReplicasAvailable",
                "Deployment has minimum availability.",
                now,
            )
        else:
            set_condition(
                deployment,
                "Available",
                "False",
                "MinimumReplicasUnavailable",
                "Deployment does not have minimum availability.",
                now,
            )
        rs_name = new["metadata"]["name"]
        done = len(new_pods) == desired == len(pods) and all(is_ready(p) for p in new_pods)
        reason, message = (
            ("NewReplicaSetAvailable", f'ReplicaSet "{rs_name}" has successfully progressed.')
            if done
            else ("ReplicaSetUpdated", f'ReplicaSet "{rs_name}" is progressing.')
        )
        set_condition(deployment, "Progressing", "True", reason, message, now)
        store.put(DEPLOYMENT, deployment)

    # ------------------------------------------------------------------ replica sets

    def sync_replica_sets(self, store: Store) -> None:
        for rs in store.list(REPLICASET):
            live = self._pods(store, rs)
            wanted = int(rs["spec"].get("replicas", 0))
            for _ in range(max(0, wanted - len(live))):
                if not self._create_pod(store, rs):
                    break
            if len(live) > wanted:
                victims = sorted(live, key=lambda p: (is_ready(p), p["metadata"]["name"]))
                for pod in victims[: len(live) - wanted]:
                    store.event(
                        rs,
                        "SuccessfulDelete",
                        f"Deleted pod: {pod['metadata']['name']}",
                        source="replicaset-controller",
                    )
                    self._remove(store, POD, pod)
            live = self._pods(store, rs)
            ready = sum(1 for p in live if is_ready(p))
            rs["status"] = {
                "replicas": len(live),
                "fullyLabeledReplicas": len(live),
                "readyReplicas": ready,
                "availableReplicas": ready,
                "observedGeneration": rs["metadata"].get("generation", 1),
            }
            store.put(REPLICASET, rs)

    def _create_pod(self, store: Store, rs: Obj) -> bool:
        template = rs["spec"]["template"]
        name = f"{rs['metadata']['name']}-{random_suffix(self.rng)}"
        body = {
            "metadata": {
                "name": name,
                "labels": dict(template.get("metadata", {}).get("labels") or {}),
                "annotations": dict(template.get("metadata", {}).get("annotations") or {}),
                "ownerReferences": [owner_ref(rs)],
            },
            "spec": {**template["spec"]},
        }
        try:
            store.create(POD, rs["metadata"]["namespace"], body)
        except ApiError as exc:
            store.event(
                rs,
                "FailedCreate",
                f"Error creating: {exc.message}",
                warning=True,
                source="replicaset-controller",
            )
            return False
        store.event(rs, "SuccessfulCreate", f"Created pod: {name}", source="replicaset-controller")
        return True

    # ------------------------------------------------------------------ autoscaling

    def sync_autoscalers(self, store: Store) -> None:
        for hpa in store.list(HPA):
            ns, spec = hpa["metadata"]["namespace"], hpa["spec"]
            target = store.get(DEPLOYMENT, ns, spec["scaleTargetRef"]["name"])
            if target is None:
                continue
            pods = [
                p
                for p in store.list(POD, ns)
                if is_ready(p)
                and all(
                    p["metadata"]["labels"].get(k) == v
                    for k, v in target["spec"]["selector"]["matchLabels"].items()
                )
            ]
            utils = [self.world.usage.cpu_utilisation(p, self.world.t) for p in pods]
            util = round(sum(utils) / len(utils)) if utils else None
            goal = next(
                m["resource"]["target"]["averageUtilization"]
                for m in spec["metrics"]
                if m["type"] == "Resource"
            )
            current = int(target["spec"].get("replicas", 1))
            desired = current if util is None else math.ceil(current * util / goal)
            desired = max(int(spec.get("minReplicas", 1)), min(int(spec["maxReplicas"]), desired))
            status = hpa.setdefault("status", {})
            if desired != current:
                changed = dict(target, spec=dict(target["spec"], replicas=desired))
                store.update(DEPLOYMENT, ns, target["metadata"]["name"], changed)
                status["lastScaleTime"] = stamp(self.world.t)
                store.event(
                    hpa,
                    "SuccessfulRescale",
                    f"New size: {desired}; reason: cpu resource utilization (percentage of "
                    "request) outside the allowed range",
                    source="horizontal-pod-autoscaler",
                )
            status |= {"currentReplicas": current, "desiredReplicas": desired}
            if util is not None:
                status["currentMetrics"] = [
                    {
                        "type": "Resource",
                        "resource": {"name": "cpu", "current": {"averageUtilization": util}},
                    }
                ]
            store.put(HPA, hpa)


__all__ = ["RESOURCES", "Workloads"]
