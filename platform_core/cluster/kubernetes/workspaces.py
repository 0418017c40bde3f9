"""Workspace (vCluster) operations on the host cluster; see ``vcluster`` for the CRD."""

from __future__ import annotations

from platform_core.cluster.kubernetes import vcluster
from platform_core.cluster.kubernetes.base import GatewayBase, Obj
from platform_core.cluster.kubernetes.objects import annotations_of, format_time, status
from platform_core.cluster.naming import validate_dns_label
from platform_core.cluster.schemas import WorkspaceStatus
from platform_core.errors import Conflict, InvalidInput, NotFound, Unavailable


class WorkspaceOps(GatewayBase):
    """The workspace half of ``ClusterGateway``."""

    async def provision_workspace(
        self, workspace: str, *, kubernetes_version: str | None = None
    ) -> WorkspaceStatus:
        try:
            validate_dns_label(workspace, max_length=vcluster.MAX_WORKSPACE_ID)
        except ValueError as exc:
            raise InvalidInput(f"invalid workspace id: {exc}") from None
        existing = await self._read_vcluster(workspace)
        if existing is not None:
            phase = vcluster.phase_of(existing)
            raise Conflict(f"workspace {workspace!r} already exists ({phase})")
        await self._ensure_host_namespace(workspace)
        body = vcluster.vcluster_manifest(
            workspace,
            kubernetes_version=kubernetes_version or vcluster.DEFAULT_KUBERNETES_VERSION,
            now=await self.now(),
        )
        try:
            cr = await self._host.call(
                self._host.custom.create_namespaced_custom_object,
                vcluster.GROUP,
                vcluster.VERSION,
                vcluster.host_namespace(workspace),
                vcluster.PLURAL,
                body,
            )
        except Conflict:
            raise Conflict(f"workspace {workspace!r} already exists") from None
        return vcluster.workspace_status(workspace, cr)

    async def _ensure_host_namespace(self, workspace: str) -> None:
        """Create the host namespace, or clear the tombstone of a workspace deleted earlier."""
        host = self._host
        name = vcluster.host_namespace(workspace)
        found = await host.maybe(host.core.read_namespace, name)
        if found is None:
            await host.call(host.core.create_namespace, vcluster.host_namespace_manifest(workspace))
            return
        if status(found).get("phase") == "Terminating":
            raise Conflict(f"workspace {workspace!r} is still being cleaned up; try again shortly")
        stale = [
            key
            for key in (
                vcluster.ANNOTATION_DELETED_AT,
                vcluster.ANNOTATION_CREATED_AT,
                vcluster.ANNOTATION_VERSION,
            )
            if key in annotations_of(found)
        ]
        if stale:
            patch = {"metadata": {"annotations": dict.fromkeys(stale)}}
            await host.call(host.core.patch_namespace, name, patch)

    async def get_workspace(self, workspace: str) -> WorkspaceStatus:
        cr = await self._read_vcluster(workspace)
        if cr is not None:
            return vcluster.workspace_status(workspace, cr)
        return await self._terminated(workspace)

    async def _terminated(self, workspace: str) -> WorkspaceStatus:
        found = None
        if workspace and len(workspace) <= vcluster.MAX_WORKSPACE_ID:
            found = await self._host.maybe(
                self._host.core.read_namespace, vcluster.host_namespace(workspace)
            )
        gone = vcluster.terminated_status(workspace, found) if found is not None else None
        if gone is None:
            raise NotFound(f"workspace {workspace!r} not found")
        return gone

    async def _existing(self, workspace: str) -> Obj:
        cr = await self._read_vcluster(workspace)
        if cr is None:
            raise NotFound(f"workspace {workspace!r} not found")
        return cr

    async def _set_suspended(self, workspace: str, suspended: bool) -> Obj:
        patch = {
            "metadata": {
                "annotations": {vcluster.ANNOTATION_PHASE_SINCE: format_time(await self.now())}
            },
            "spec": {"suspended": suspended},
        }
        return await self._host.call(
            self._host.custom.patch_namespaced_custom_object,
            vcluster.GROUP,
            vcluster.VERSION,
            vcluster.host_namespace(workspace),
            vcluster.PLURAL,
            workspace,
            patch,
        )

    async def suspend_workspace(self, workspace: str) -> WorkspaceStatus:
        cr = await self._existing(workspace)
        phase = vcluster.phase_of(cr)
        if phase == "active":
            cr = await self._set_suspended(workspace, True)
        elif phase != "suspended":
            raise Conflict(f"workspace {workspace!r} cannot be suspended while {phase}")
        return vcluster.workspace_status(workspace, cr)

    async def resume_workspace(self, workspace: str) -> WorkspaceStatus:
        cr = await self._existing(workspace)
        phase = vcluster.phase_of(cr)
        if phase == "suspended":
            cr = await self._set_suspended(workspace, False)
        elif phase != "active":
            raise Conflict(f"workspace {workspace!r} cannot be resumed while {phase}")
        return vcluster.workspace_status(workspace, cr)

    async def delete_workspace(self, workspace: str) -> WorkspaceStatus:
        cr = await self._existing(workspace)
        if vcluster.phase_of(cr) != "terminating":
            host = self._host
            await host.maybe(
                host.custom.delete_namespaced_custom_object,
                vcluster.GROUP,
                vcluster.VERSION,
                vcluster.host_namespace(workspace),
                vcluster.PLURAL,
                workspace,
                propagation_policy="Foreground",
            )
            tombstone = {
                "metadata": {"annotations": vcluster.tombstone_annotations(cr, await self.now())}
            }
            await host.call(
                host.core.patch_namespace, vcluster.host_namespace(workspace), tombstone
            )
            cached = self._clusters.pop(workspace, None)
            if cached is not None:
                cached[1].close()
        return await self.get_workspace(workspace)

    async def get_kubeconfig(self, workspace: str) -> str:
        cr = await self._existing(workspace)
        if vcluster.phase_of(cr) == "provisioning":
            raise Unavailable(f"workspace {workspace!r} is still provisioning")
        return await self._exported_kubeconfig(workspace)
