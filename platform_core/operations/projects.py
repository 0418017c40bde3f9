"""Creating, changing and deleting projects together with their namespaces.

The record is written (flushed) first and the namespace second; if the cluster refuses, the
exception rolls the record back with the rest of the request, so the two never disagree.
"""

from __future__ import annotations

import contextlib

from sqlalchemy.ext.asyncio import AsyncSession

from platform_core.cluster.protocol import ClusterGateway
from platform_core.cluster.schemas import ResourceQuotaSpec
from platform_core.context import CallContext
from platform_core.errors import Conflict, NotFound
from platform_core.operations.workspaces import cluster_name, sync_status
from platform_core.tenancy import projects as records
from platform_core.tenancy.models import Organization, Project, Workspace
from platform_core.tenancy.schemas import ProjectCreate, ProjectUpdate, Quota


def quota_spec(quota: Quota) -> ResourceQuotaSpec | None:
    values = quota.model_dump(exclude_none=True)
    return ResourceQuotaSpec(**values) if values else None


async def _parent_name(session: AsyncSession, project: Project) -> str | None:
    if project.parent_id is None:
        return None
    parent = await session.get(Project, project.parent_id)
    return parent.name if parent else None


async def create_project(
    session: AsyncSession,
    ctx: CallContext,
    gateway: ClusterGateway,
    org: Organization,
    workspace: Workspace,
    data: ProjectCreate,
) -> Project:
    await sync_status(gateway, workspace)
    if workspace.status != "active":
        raise Conflict(
            f"workspace {workspace.name!r} is {workspace.status}; "
            "projects can be created once it is active",
            details={"status": workspace.status},
        )
    project = await records.create_project(session, ctx, org, workspace, data)
    await gateway.create_namespace(
        cluster_name(workspace),
        project.name,
        quota=quota_spec(data.quota),
        parent=await _parent_name(session, project),
        labels={"hexabase.io/project-id": str(project.id)},
    )
    return project


async def update_project(
    session: AsyncSession,
    ctx: CallContext,
    gateway: ClusterGateway,
    org: Organization,
    workspace: Workspace,
    project: Project,
    data: ProjectUpdate,
) -> Project:
    updated = await records.update_project(session, ctx, org, workspace, project, data)
    if data.quota is not None:
        spec = quota_spec(data.quota) or ResourceQuotaSpec()
        await gateway.set_namespace_quota(cluster_name(workspace), updated.name, spec)
    return updated


async def delete_project(
    session: AsyncSession,
    ctx: CallContext,
    gateway: ClusterGateway,
    org: Organization,
    workspace: Workspace,
    project: Project,
) -> None:
    name = project.name
    await records.delete_project(session, ctx, org, workspace, project)
    # The records have no child left; a child namespace still terminating on the cluster
    # must not block its parent, so the cluster call cascades.
    with contextlib.suppress(NotFound):  # already gone on the cluster: the record agrees
        await gateway.delete_namespace(cluster_name(workspace), name, cascade=True)
