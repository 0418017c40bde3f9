"""Workspace (vCluster) and namespace (project) operations of the twin.

Provisioning takes 25-40 virtual seconds (the vCluster's API server starting); deletion 20. A
suspended workspace keeps its objects but runs no pods and answers ``Conflict`` until resumed.
Namespaces are created ``Active`` with an optional ResourceQuota whose limits a nested project's
quota may not exceed; deleting one with children needs ``cascade``.
"""

from __future__ import annotations

import base64
from collections.abc import Mapping

from platform_core.cluster import manifests
from platform_core.cluster.naming import random_suffix, validate_dns_label
from platform_core.cluster.schemas import NamespaceInfo, ResourceQuotaSpec, WorkspaceStatus
from platform_core.cluster.twin import cronjobs, deployments, pods, scheduling, views
from platform_core.cluster.twin.core import TwinCore, handler
from platform_core.cluster.twin.state import Namespace, Node, Workspace
from platform_core.errors import Conflict, Forbidden, InvalidInput, NotFound, Unavailable

DEFAULT_VERSION = "1.30"
SYSTEM_NAMESPACES = ("default",)
NAMESPACE_TERMINATION = 5.0


def _name(value: str, what: str) -> str:
    try:
        return validate_dns_label(value)
    except ValueError as exc:
        raise InvalidInput(f"invalid {what}: {exc}") from exc


class WorkspaceAPI(TwinCore):
    """The workspace and namespace half of ``ClusterGateway``."""

    async def provision_workspace(
        self, workspace: str, *, kubernetes_version: str | None = None
    ) -> WorkspaceStatus:
        _name(workspace, "workspace id")
        existing = self.state.workspaces.get(workspace)
        if existing is not None and existing.phase != "terminated":
            raise Conflict(f"workspace {workspace!r} already exists ({existing.phase})")
        cfg = self.state.config
        ws = Workspace(
            id=workspace,
            phase="provisioning",
            version=kubernetes_version or DEFAULT_VERSION,
            created=self.t,
            phase_since=self.t,
            token=f"{self.rng.getrandbits(256):064x}",
            ca=base64.b64encode(
                f"vcluster-{workspace}-ca-{self.rng.getrandbits(64):x}".encode()
            ).decode(),
            message="creating vCluster control plane",
            nodes=[
                Node(
                    name=f"hxb-pool-a-{random_suffix(self.rng)}", cpu=cfg.node_cpu, mem=cfg.node_mem
                )
                for _ in range(cfg.nodes_per_workspace)
            ],
        )
        self.state.workspaces[workspace] = ws
        self.schedule(self.t + self.rng.uniform(25.0, 40.0), "ws.ready", workspace)
        return views.workspace_status(self, ws)

    async def get_workspace(self, workspace: str) -> WorkspaceStatus:
        found = self.state.workspaces.get(workspace)
        if found is None:
            raise NotFound(f"workspace {workspace!r} not found")
        return views.workspace_status(self, found)

    async def suspend_workspace(self, workspace: str) -> WorkspaceStatus:
        ws = self.workspace(workspace)
        if ws.phase == "active":
            self._set_phase(ws, "suspended", "vCluster scaled to zero")
            self._stop_workloads(ws, "workspace suspended")
        elif ws.phase != "suspended":
            raise Conflict(f"workspace {workspace!r} cannot be suspended while {ws.phase}")
        return views.workspace_status(self, ws)

    async def resume_workspace(self, workspace: str) -> WorkspaceStatus:
        ws = self.workspace(workspace)
        if ws.phase == "suspended":
            self._set_phase(ws, "active", "vCluster running")
            for ns in ws.namespaces.values():
                for app in ns.apps.values():
                    app.blocked = ""  # its retry timer was dropped while suspended
                    deployments.reconcile(self, ws, ns, app)
                for cron in ns.cronjobs.values():
                    cronjobs.schedule_next(self, ws, ns, cron)
                for fn in ns.functions.values():
                    if fn.builds and fn.builds[-1].status == "Running":
                        self.schedule(
                            self.t + 30.0, "fn.build", ws.id, ns.name, fn.name, fn.builds[-1].number
                        )
        elif ws.phase != "active":
            raise Conflict(f"workspace {workspace!r} cannot be resumed while {ws.phase}")
        return views.workspace_status(self, ws)

    async def delete_workspace(self, workspace: str) -> WorkspaceStatus:
        ws = self.workspace(workspace)
        if ws.phase != "terminating":
            self._set_phase(ws, "terminating", "deleting vCluster")
            self._stop_workloads(ws, "workspace deleted")
            self.schedule(self.t + 20.0, "ws.gone", workspace)
        return views.workspace_status(self, ws)

    async def get_kubeconfig(self, workspace: str) -> str:
        ws = self.workspace(workspace)
        if ws.phase == "provisioning":
            raise Unavailable(f"workspace {workspace!r} is still provisioning")
        return manifests.kubeconfig(
            workspace,
            server=views.workspace_status(self, ws).api_server,
            token=ws.token,
            ca_data=ws.ca,
        )

    def _set_phase(self, ws: Workspace, phase: str, message: str) -> None:
        ws.phase, ws.phase_since, ws.message = phase, self.t, message

    def _stop_workloads(self, ws: Workspace, why: str) -> None:
        for ns in ws.namespaces.values():
            for job in ns.jobs.values():
                if job.status == "Running":
                    job.status, job.reason, job.completion = "Failed", why, self.t
                    job.token += 1
            deployments.stop_all(self, ws, ns)
            for app in ns.apps.values():
                deployments.record_timeline(self, ns, app)

    # ------------------------------------------------------------------ namespaces

    async def create_namespace(
        self,
        workspace: str,
        name: str,
        *,
        quota: ResourceQuotaSpec | None = None,
        parent: str | None = None,
        labels: Mapping[str, str] | None = None,
    ) -> NamespaceInfo:
        ws = self.active_workspace(workspace)
        _name(name, "namespace name")
        if name in ws.namespaces:
            raise Conflict(f'namespaces "{name}" already exists')
        if parent is not None and parent not in ws.namespaces:
            raise NotFound(f'parent namespace "{parent}" not found')
        hard = manifests.quota_hard(quota) if quota is not None else None
        if hard is not None and parent is not None:
            self._check_within_parent(ws.namespaces[parent], hard)
        manifest = manifests.namespace_manifest(name, parent=parent, labels=dict(labels or {}))
        ns = Namespace(
            name=name,
            created=self.t,
            parent=parent,
            labels=manifest["metadata"]["labels"],
            quota=hard,
        )
        ws.namespaces[name] = ns
        return views.namespace_info(self, ws, ns)

    def _check_within_parent(self, parent: Namespace, hard: dict[str, str]) -> None:
        if parent.quota is None:
            return
        probe = Namespace(name="probe", created=self.t, quota=hard)
        mine, theirs = scheduling.quota_hard(probe), scheduling.quota_hard(parent)
        over = sorted(k for k, v in mine.items() if k in theirs and v > theirs[k])
        if over:
            raise InvalidInput(f"quota exceeds the parent project's quota for {', '.join(over)}")

    async def get_namespace(self, workspace: str, name: str) -> NamespaceInfo:
        ws, ns = self.namespace(workspace, name)
        return views.namespace_info(self, ws, ns)

    async def list_namespaces(self, workspace: str) -> list[NamespaceInfo]:
        ws = self.active_workspace(workspace)
        return [views.namespace_info(self, ws, ns) for ns in ws.namespaces.values()]

    async def set_namespace_quota(
        self, workspace: str, name: str, quota: ResourceQuotaSpec
    ) -> NamespaceInfo:
        ws, ns = self.namespace(workspace, name)
        hard = manifests.quota_hard(quota)
        if ns.parent is not None:
            self._check_within_parent(ws.namespaces[ns.parent], hard)
        ns.quota = hard
        text = ", ".join(f"{k}={v}" for k, v in hard.items())
        for app in ns.apps.values():
            self.note(ws.id, ns.name, app.name, f"namespace quota set to {text}")
            if app.blocked:
                app.blocked = ""
                deployments.reconcile(self, ws, ns, app)
        return views.namespace_info(self, ws, ns)

    async def delete_namespace(self, workspace: str, name: str, *, cascade: bool = False) -> None:
        ws, ns = self.namespace(workspace, name)
        if name in SYSTEM_NAMESPACES:
            raise Forbidden(f'namespaces "{name}" is forbidden: this namespace may not be deleted')
        children = [n for n in ws.namespaces.values() if n.parent == name]
        if children and not cascade:
            raise Conflict(
                f'namespace "{name}" has child projects '
                f"({', '.join(c.name for c in children)}); delete them or cascade"
            )
        for child in children:
            await self.delete_namespace(workspace, child.name, cascade=True)
        if ns.phase == "Terminating":
            return
        ns.phase = "Terminating"
        for app in list(ns.apps.values()):
            deployments.delete_app(self, ws, ns, app)
        for pod in list(ns.pods.values()):
            pods.delete_pod(self, ws, ns, pod)
        self.schedule(self.t + NAMESPACE_TERMINATION, "ns.gone", ws.id, name)

    def writable(self, workspace: str, namespace: str) -> tuple[Workspace, Namespace]:
        """The namespace, if new objects may be created in it."""
        ws, ns = self.namespace(workspace, namespace)
        if ns.phase != "Active":
            raise Forbidden(
                f"unable to create new content in namespace {namespace} because it "
                "is being terminated"
            )
        return ws, ns


@handler("ws.ready")
def _on_ready(core: TwinCore, ws_id: str, ns_id: str, name: str, token: int) -> None:
    ws = core.state.workspaces.get(ws_id)
    if ws is None or ws.phase != "provisioning":
        return
    ws.phase, ws.phase_since, ws.message = "active", core.t, "vCluster running"
    for system in SYSTEM_NAMESPACES:
        ws.namespaces.setdefault(
            system,
            Namespace(
                name=system,
                created=core.t,
                labels=manifests.namespace_manifest(system)["metadata"]["labels"],
            ),
        )


@handler("ws.gone")
def _on_gone(core: TwinCore, ws_id: str, ns_id: str, name: str, token: int) -> None:
    ws = core.state.workspaces.get(ws_id)
    if ws is not None and ws.phase == "terminating":
        ws.phase, ws.phase_since, ws.message = "terminated", core.t, "vCluster deleted"
        ws.namespaces.clear()
        ws.unschedulable.clear()


@handler("ns.gone")
def _on_ns_gone(core: TwinCore, ws_id: str, ns_id: str, name: str, token: int) -> None:
    ws = core.state.workspaces.get(ws_id)
    ns = ws.namespaces.get(ns_id) if ws is not None else None
    if ws is not None and ns is not None and ns.phase == "Terminating":
        del ws.namespaces[ns_id]
