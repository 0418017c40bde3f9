"""Admission (ResourceQuota) and placement (nodes) of new pods.

Both follow the real components closely enough that their messages are the real ones:

* Quota is checked when a pod is *created*: a pod that would exceed the namespace's
  ResourceQuota is rejected (``exceeded quota: compute-resources, requested: ..., used: ...,
  limited: ...``) and never exists, so its controller reports ``FailedCreate`` and retries.
* Placement happens after creation: a pod whose requests fit no node stays ``Pending`` with
  ``FailedScheduling`` (``0/3 nodes are available: 3 Insufficient memory. ...``).

Terminating pods keep their quota and node resources until they are gone, as on a cluster.
"""

from __future__ import annotations

from platform_core.cluster.manifests import QUOTA_NAME
from platform_core.cluster.quantity import cpu_millis, format_cpu, format_memory, memory_bytes
from platform_core.cluster.twin.state import Namespace, Node, Pod, Workspace

QUOTA_KEYS = ("limits.cpu", "limits.memory", "pods", "requests.cpu", "requests.memory")
_CPU_KEYS = {"limits.cpu", "requests.cpu"}
_MEMORY_KEYS = {"limits.memory", "requests.memory", "requests.storage"}


def counts_against_quota(pod: Pod) -> bool:
    return pod.phase not in {"Succeeded", "Failed"}


def quota_used(ns: Namespace) -> dict[str, int]:
    used = dict.fromkeys(QUOTA_KEYS, 0)
    for pod in ns.pods.values():
        if counts_against_quota(pod):
            used["requests.cpu"] += pod.cpu_req
            used["limits.cpu"] += pod.cpu_lim
            used["requests.memory"] += pod.mem_req
            used["limits.memory"] += pod.mem_lim
            used["pods"] += 1
    return used


def quota_hard(ns: Namespace) -> dict[str, int]:
    """The ResourceQuota's hard limits as numbers (millicores, bytes, counts)."""
    hard: dict[str, int] = {}
    for key, text in (ns.quota or {}).items():
        if key in _CPU_KEYS:
            hard[key] = cpu_millis(text)
        elif key in _MEMORY_KEYS:
            hard[key] = memory_bytes(text)
        else:
            hard[key] = int(text)
    return hard


def format_quantity(key: str, value: int) -> str:
    if key in _CPU_KEYS:
        return format_cpu(value)
    if key in _MEMORY_KEYS:
        return format_memory(value)
    return str(value)


def admission_error(ns: Namespace, pod_name: str, requested: dict[str, int]) -> str | None:
    """The API server's rejection message if a pod with ``requested`` exceeds the quota."""
    if ns.quota is None:
        return None
    hard = quota_hard(ns)
    used = quota_used(ns)
    over = sorted(k for k, v in requested.items() if k in hard and used[k] + v > hard[k])
    if not over:
        return None

    def listing(values: dict[str, int]) -> str:
        return ",".join(f"{k}={format_quantity(k, values[k])}" for k in over)

    return (
        f'pods "{pod_name}" is forbidden: exceeded quota: {QUOTA_NAME}, '
        f"requested: {listing(requested)}, used: {listing(used)}, limited: {listing(hard)}"
    )


def pod_requests(pod: Pod) -> dict[str, int]:
    return {
        "requests.cpu": pod.cpu_req,
        "limits.cpu": pod.cpu_lim,
        "requests.memory": pod.mem_req,
        "limits.memory": pod.mem_lim,
        "pods": 1,
    }


def place(ws: Workspace, pod: Pod) -> Node | None:
    """Bind ``pod`` to the least allocated node that fits its requests."""
    best: Node | None = None
    best_free = -1.0
    for node in ws.nodes:
        free_cpu = node.cpu - node.cpu_used - pod.cpu_req
        free_mem = node.mem - node.reserved_mem - node.mem_used - pod.mem_req
        if free_cpu < 0 or free_mem < 0:
            continue
        score = free_mem / node.mem + free_cpu / node.cpu
        if score > best_free:
            best, best_free = node, score
    if best is not None:
        best.cpu_used += pod.cpu_req
        best.mem_used += pod.mem_req
        pod.node = best.name
    return best


def unschedulable_message(ws: Workspace, pod: Pod) -> str:
    """The scheduler's ``FailedScheduling`` message for a pod that fits nowhere."""
    reasons: dict[str, int] = {}
    for node in ws.nodes:
        if node.cpu - node.cpu_used < pod.cpu_req:
            reasons["Insufficient cpu"] = reasons.get("Insufficient cpu", 0) + 1
        if node.mem - node.reserved_mem - node.mem_used < pod.mem_req:
            reasons["Insufficient memory"] = reasons.get("Insufficient memory", 0) + 1
    total = len(ws.nodes)
    detail = ", ".join(f"{count} {reason}" for reason, count in sorted(reasons.items()))
    return (
        f"0/{total} nodes are available: {detail}. preemption: 0/{total} nodes are available: "
        f"{total} No preemption victims found for incoming pod."
    )


def release(ws: Workspace, pod: Pod) -> None:
    """Give the pod's requests back to its node."""
    for node in ws.nodes:
        if node.name == pod.node:
            node.cpu_used -= pod.cpu_req
            node.mem_used -= pod.mem_req
            return
