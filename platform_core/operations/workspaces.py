"""Creating, deleting and observing workspaces (vClusters)."""

from __future__ import annotations

import logging

from sqlalchemy.ext.asyncio import AsyncSession

from platform_core.cluster.protocol import ClusterGateway
from platform_core.context import CallContext
from platform_core.errors import Conflict, NotFound, Unavailable
from platform_core.tenancy import workspaces as records
from platform_core.tenancy.models import Organization, Workspace
from platform_core.tenancy.schemas import WorkspaceCreate, WorkspaceUpdate

logger = logging.getLogger(__name__)
SYNCED_PHASES = frozenset({"provisioning", "active", "suspended", "terminating", "terminated"})


def cluster_name(workspace: Workspace) -> str:
    """The identifier a workspace has on the cluster side."""
    return str(workspace.id)


async def sync_status(gateway: ClusterGateway, workspace: Workspace) -> Workspace:
    """Bring a workspace in transition up to date with its cluster (flushes nothing itself)."""
    if workspace.status not in ("provisioning", "terminating"):
        return workspace
    try:
        status = await gateway.get_workspace(cluster_name(workspace))
    except NotFound:
        if workspace.status == "terminating":
            records.transition(workspace, "terminated")
        return workspace
    except Unavailable:
        return workspace
    if status.phase != workspace.status and status.phase in records.TRANSITIONS[workspace.status]:
        records.transition(workspace, status.phase)
    return workspace


async def create_workspace(
    session: AsyncSession,
    ctx: CallContext,
    gateway: ClusterGateway,
    org: Organization,
    data: WorkspaceCreate,
) -> Workspace:
    workspace = await records.create_workspace(session, ctx, org, data)
    try:
        status = await gateway.provision_workspace(cluster_name(workspace))
    except (Unavailable, Conflict) as error:
        logger.warning("provisioning %s deferred: %s", workspace.id, error)
        return workspace
    if status.phase == "active":
        records.transition(workspace, "active")
    await session.flush()
    return workspace


async def update_workspace(
    session: AsyncSession,
    ctx: CallContext,
    gateway: ClusterGateway,
    org: Organization,
    workspace: Workspace,
    data: WorkspaceUpdate,
) -> Workspace:
    previous = workspace.status
    updated = await records.update_workspace(session, ctx, org, workspace, data)
    if updated.status != previous:
        if updated.status == "suspended":
            await gateway.suspend_workspace(cluster_name(updated))
        elif updated.status == "active":
            await gateway.resume_workspace(cluster_name(updated))
    return updated


async def delete_workspace(
    session: AsyncSession,
    ctx: CallContext,
    gateway: ClusterGateway,
    org: Organization,
    workspace: Workspace,
) -> Workspace:
    deleted = await records.delete_workspace(session, ctx, org, workspace)
    try:
        status = await gateway.delete_workspace(cluster_name(deleted))
    except NotFound:
        records.transition(deleted, "terminated")
    else:
        if status.phase == "terminated":
            records.transition(deleted, "terminated")
    await session.flush()
    return deleted
