"""Projects: namespaces of a workspace's vCluster, with a ResourceQuota and a parent.

Nesting is recorded in the ``hexabase.io/parent-project`` label that
``manifests.namespace_manifest`` writes, and children are found with a label selector. This is
the hierarchy HNC expresses with ``hnc.x-k8s.io`` annotations and anchors, without requiring the
HNC controller inside every vCluster: the platform only needs "who is my parent" (for the quota
rule and the cascade) and "who are my children" (one list call). A child's quota may not exceed
its parent's on any key both define; deleting a namespace with children needs ``cascade``.

The system namespaces (``kube-system``, ``kube-public``, ``kube-node-lease``) are not projects and
are not listed; they and ``default`` may not be deleted.
"""

from __future__ import annotations

import contextlib
from collections.abc import Mapping

from platform_core.cluster.kubernetes.base import Obj
from platform_core.cluster.kubernetes.client import Kube
from platform_core.cluster.kubernetes.objects import (
    PROTECTED_NAMESPACES,
    SYSTEM_NAMESPACES,
    created,
    labels,
    name,
    spec,
    status,
)
from platform_core.cluster.kubernetes.workspaces import WorkspaceOps
from platform_core.cluster.manifests import (
    LABEL_PARENT,
    QUOTA_NAME,
    namespace_manifest,
    quota_hard,
    resource_quota_manifest,
)
from platform_core.cluster.naming import validate_dns_label
from platform_core.cluster.quantity import cpu_millis, memory_bytes
from platform_core.cluster.schemas import NamespaceInfo, ResourceQuotaSpec, ResourceQuotaStatus
from platform_core.errors import Conflict, DomainError, Forbidden, InvalidInput, NotFound


def _amount(key: str, value: str) -> int:
    if key.endswith("cpu"):
        return cpu_millis(value)
    if key == "pods":
        return int(value)
    return memory_bytes(value)


def quota_status(quota: Obj | None) -> ResourceQuotaStatus | None:
    """``hard`` from the spec, ``used`` from the quota controller (``"0"`` until it counted)."""
    if quota is None:
        return None
    hard = {k: str(v) for k, v in (spec(quota).get("hard") or {}).items()}
    used = status(quota).get("used") or {}
    return ResourceQuotaStatus(
        name=name(quota), hard=hard, used={k: str(used.get(k, "0")) for k in hard}
    )


def namespace_info(ns: Obj, quota: Obj | None, children: list[str]) -> NamespaceInfo:
    tags = labels(ns)
    return NamespaceInfo(
        name=name(ns),
        phase="Terminating" if status(ns).get("phase") == "Terminating" else "Active",
        parent=tags.get(LABEL_PARENT),
        children=sorted(children),
        labels=tags,
        quota=quota_status(quota),
        created_at=created(ns),
    )


class NamespaceOps(WorkspaceOps):
    """The namespace half of ``ClusterGateway``."""

    async def create_namespace(
        self,
        workspace: str,
        name: str,
        *,
        quota: ResourceQuotaSpec | None = None,
        parent: str | None = None,
        labels: Mapping[str, str] | None = None,
    ) -> NamespaceInfo:
        kube = await self._cluster(workspace)
        try:
            validate_dns_label(name)
        except ValueError as exc:
            raise InvalidInput(f"invalid namespace name: {exc}") from None
        if await kube.maybe(kube.core.read_namespace, name) is not None:
            raise Conflict(f'namespaces "{name}" already exists')
        if parent is not None:
            if await kube.maybe(kube.core.read_namespace, parent) is None:
                raise NotFound(f'parent namespace "{parent}" not found')
            if quota is not None:
                await self._check_within_parent(kube, parent, quota_hard(quota))
        manifest = namespace_manifest(name, parent=parent, labels=dict(labels or {}))
        ns = await kube.call(kube.core.create_namespace, manifest)
        rq = None
        if quota is not None:
            try:
                rq = await kube.call(
                    kube.core.create_namespaced_resource_quota,
                    name,
                    resource_quota_manifest(name, quota),
                )
            except DomainError:
                await kube.maybe(kube.core.delete_namespace, name)  # no half-made project
                raise
        return namespace_info(ns, rq, [])

    async def _check_within_parent(self, kube: Kube, parent: str, hard: dict[str, str]) -> None:
        theirs = await kube.maybe(kube.core.read_namespaced_resource_quota, QUOTA_NAME, parent)
        limits = (spec(theirs).get("hard") or {}) if theirs is not None else {}
        over = sorted(
            key
            for key, value in hard.items()
            if key in limits and _amount(key, value) > _amount(key, str(limits[key]))
        )
        if over:
            raise InvalidInput(f"quota exceeds the parent project's quota for {', '.join(over)}")

    async def _children(self, kube: Kube, namespace: str) -> list[str]:
        items = await kube.items(
            kube.core.list_namespace, label_selector=f"{LABEL_PARENT}={namespace}"
        )
        return [name(ns) for ns in items]

    async def get_namespace(self, workspace: str, name: str) -> NamespaceInfo:
        kube = await self._cluster(workspace)
        ns = await self._namespace(kube, name)
        rq = await kube.maybe(kube.core.read_namespaced_resource_quota, QUOTA_NAME, name)
        return namespace_info(ns, rq, await self._children(kube, name))

    async def list_namespaces(self, workspace: str) -> list[NamespaceInfo]:
        kube = await self._cluster(workspace)
        namespaces = [
            ns
            for ns in await kube.items(kube.core.list_namespace)
            if name(ns) not in SYSTEM_NAMESPACES
        ]
        quotas = {
            str(q["metadata"]["namespace"]): q
            for q in await kube.items(
                kube.core.list_resource_quota_for_all_namespaces,
                field_selector=f"metadata.name={QUOTA_NAME}",
            )
        }
        children: dict[str, list[str]] = {}
        for ns in namespaces:
            parent = labels(ns).get(LABEL_PARENT)
            if parent is not None:
                children.setdefault(parent, []).append(name(ns))
        ordered = sorted(namespaces, key=lambda ns: (created(ns), name(ns)))
        return [
            namespace_info(ns, quotas.get(name(ns)), children.get(name(ns), [])) for ns in ordered
        ]

    async def set_namespace_quota(
        self, workspace: str, name: str, quota: ResourceQuotaSpec
    ) -> NamespaceInfo:
        kube = await self._cluster(workspace)
        ns = await self._namespace(kube, name)
        parent = labels(ns).get(LABEL_PARENT)
        if parent is not None:
            await self._check_within_parent(kube, parent, quota_hard(quota))
        body = resource_quota_manifest(name, quota)
        existing = await kube.maybe(kube.core.read_namespaced_resource_quota, QUOTA_NAME, name)
        if existing is None:
            rq = await kube.call(kube.core.create_namespaced_resource_quota, name, body)
        else:  # replace, not merge: keys left out of the new quota must go
            body["metadata"]["resourceVersion"] = existing["metadata"].get("resourceVersion")
            rq = await kube.call(
                kube.core.replace_namespaced_resource_quota, QUOTA_NAME, name, body
            )
        return namespace_info(ns, rq, await self._children(kube, name))

    async def delete_namespace(self, workspace: str, name: str, *, cascade: bool = False) -> None:
        kube = await self._cluster(workspace)
        await self._namespace(kube, name)
        if name in PROTECTED_NAMESPACES:
            raise Forbidden(f'namespaces "{name}" is forbidden: this namespace may not be deleted')
        await self._delete_tree(kube, name, cascade=cascade)

    async def _delete_tree(self, kube: Kube, namespace: str, *, cascade: bool) -> None:
        children = await self._children(kube, namespace)
        if children and not cascade:
            raise Conflict(
                f'namespace "{namespace}" has child projects ({", ".join(sorted(children))}); '
                "delete them or cascade"
            )
        for child in children:
            await self._delete_tree(kube, child, cascade=True)
        with contextlib.suppress(Conflict, NotFound):  # already terminating, or gone
            await kube.call(kube.core.delete_namespace, namespace)
