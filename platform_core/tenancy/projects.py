"""Projects: namespaces inside a workspace, nested up to ``MAX_PROJECT_DEPTH``, with quotas.

A sub-project's quota may not exceed its parent's, and a parent's quota may not shrink below
any child's, so the namespace hierarchy stays consistent with what the cluster enforces.
"""

from __future__ import annotations

import uuid
from decimal import Decimal

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from platform_core.audit.service import record
from platform_core.billing.service import ensure_can_create_project
from platform_core.context import CallContext
from platform_core.errors import Conflict, InvalidInput
from platform_core.rbac.authorize import require
from platform_core.tenancy.bindings import (
    find_binding,
    grant_role,
    list_bindings,
    resolve_principal,
)
from platform_core.tenancy.models import Organization, Project, ProjectMember, Workspace
from platform_core.tenancy.names import parse_quantity
from platform_core.tenancy.repository import (
    MAX_PROJECT_DEPTH,
    find_project,
    path_of,
    project_parents,
    project_resource,
    resolve_project,
    workspace_resource,
)
from platform_core.tenancy.schemas import (
    ProjectCreate,
    ProjectMemberGrant,
    ProjectRead,
    ProjectUpdate,
    Quota,
    RoleBindingRead,
)

QUANTITY_FIELDS = ("cpu", "memory", "storage")


def quota_of(project: Project) -> Quota:
    return Quota(
        cpu=project.quota_cpu,
        memory=project.quota_memory,
        storage=project.quota_storage,
        pods=project.quota_pods,
    )


def to_read(project: Project) -> ProjectRead:
    return ProjectRead(
        id=project.id,
        workspace_id=project.workspace_id,
        name=project.name,
        display_name=project.display_name,
        parent_id=project.parent_id,
        quota=quota_of(project),
        created_at=project.created_at,
        updated_at=project.updated_at,
    )


def _amount(quota: Quota, field: str) -> Decimal | None:
    if field == "pods":
        return Decimal(quota.pods) if quota.pods is not None else None
    value = getattr(quota, field)
    return parse_quantity(value) if value is not None else None


def check_quota_fits(child: Quota, parent: Quota, *, child_name: str) -> None:
    """Refuse a child quota larger than its parent's, field by field."""
    for field in (*QUANTITY_FIELDS, "pods"):
        limit, wanted = _amount(parent, field), _amount(child, field)
        if limit is not None and wanted is not None and wanted > limit:
            raise InvalidInput(
                f"project {child_name!r} asks for more {field} than its parent allows",
                details={"field": f"quota.{field}", "parent": getattr(parent, field)},
            )


def _apply_quota(project: Project, quota: Quota) -> None:
    project.quota_cpu = quota.cpu
    project.quota_memory = quota.memory
    project.quota_storage = quota.storage
    project.quota_pods = quota.pods


async def create_project(
    session: AsyncSession,
    ctx: CallContext,
    org: Organization,
    workspace: Workspace,
    data: ProjectCreate,
) -> Project:
    parent: Project | None = None
    parent_path: tuple[uuid.UUID, ...] = ()
    if data.parent is not None:
        parent, parent_path = await resolve_project(
            session, ctx.subject, org, workspace, data.parent
        )
    resource = (
        project_resource(org, workspace, parent_path)
        if parent
        else workspace_resource(org, workspace, "project")
    )
    read_action = "project.read" if parent else "workspace.read"
    require(ctx.subject, "project.create", resource, read_action=read_action)
    if len(parent_path) >= MAX_PROJECT_DEPTH:
        raise InvalidInput(
            f"projects nest at most {MAX_PROJECT_DEPTH} levels deep", details={"field": "parent"}
        )
    if parent is not None:
        check_quota_fits(data.quota, quota_of(parent), child_name=data.name)
    await ensure_can_create_project(session, org.id)
    if await find_project(session, workspace, data.name) is not None:
        raise Conflict("a project with this name already exists in the workspace")
    project = Project(
        organization_id=org.id,
        workspace_id=workspace.id,
        parent_id=parent.id if parent else None,
        name=data.name,
        display_name=data.display_name or data.name,
    )
    _apply_quota(project, data.quota)
    session.add(project)
    await session.flush()
    record(
        session,
        ctx,
        action="project.create",
        organization_id=org.id,
        target_type="project",
        target_id=project.id,
        details={"name": project.name, "workspace": workspace.name, "parent": data.parent},
    )
    return project


async def _children(session: AsyncSession, project: Project) -> list[Project]:
    return list(await session.scalars(select(Project).where(Project.parent_id == project.id)))


async def update_project(
    session: AsyncSession,
    ctx: CallContext,
    org: Organization,
    workspace: Workspace,
    project: Project,
    data: ProjectUpdate,
) -> Project:
    path = path_of(project.id, await project_parents(session, workspace))
    require(
        ctx.subject,
        "project.update",
        project_resource(org, workspace, path),
        read_action="project.read",
    )
    if data.quota is not None:
        if project.parent_id is not None:
            parent = await session.get(Project, project.parent_id)
            if parent is not None:
                check_quota_fits(data.quota, quota_of(parent), child_name=project.name)
        for child in await _children(session, project):
            check_quota_fits(quota_of(child), data.quota, child_name=child.name)
        _apply_quota(project, data.quota)
    if data.display_name is not None:
        project.display_name = data.display_name
    await session.flush()
    record(
        session,
        ctx,
        action="project.update",
        organization_id=org.id,
        target_type="project",
        target_id=project.id,
        details=data.model_dump(exclude_none=True),
    )
    return project


async def delete_project(
    session: AsyncSession,
    ctx: CallContext,
    org: Organization,
    workspace: Workspace,
    project: Project,
) -> None:
    path = path_of(project.id, await project_parents(session, workspace))
    require(
        ctx.subject,
        "project.delete",
        project_resource(org, workspace, path),
        read_action="project.read",
    )
    children = await _children(session, project)
    if children:
        raise Conflict(
            "the project has sub-projects; delete them first",
            details={"children": [child.name for child in children]},
        )
    record(
        session,
        ctx,
        action="project.delete",
        organization_id=org.id,
        target_type="project",
        target_id=project.id,
        details={"name": project.name, "workspace": workspace.name},
    )
    await session.delete(project)
    await session.flush()


async def _project_member_resource_check(
    session: AsyncSession,
    ctx: CallContext,
    org: Organization,
    workspace: Workspace,
    project: Project,
    action: str,
) -> None:
    path = path_of(project.id, await project_parents(session, workspace))
    require(
        ctx.subject,
        action,
        project_resource(org, workspace, path, "project_member"),
        read_action="project.read",
    )


async def list_project_members(
    session: AsyncSession,
    ctx: CallContext,
    org: Organization,
    workspace: Workspace,
    project: Project,
) -> list[RoleBindingRead]:
    await _project_member_resource_check(
        session, ctx, org, workspace, project, "project_member.read"
    )
    return await list_bindings(session, ProjectMember, scope={"project_id": project.id})


async def grant_project_role(
    session: AsyncSession,
    ctx: CallContext,
    org: Organization,
    workspace: Workspace,
    project: Project,
    data: ProjectMemberGrant,
) -> ProjectMember:
    await _project_member_resource_check(
        session, ctx, org, workspace, project, "project_member.manage"
    )
    principal = await resolve_principal(session, org, data)
    binding, previous = await grant_role(
        session,
        ProjectMember,
        scope={"project_id": project.id},
        principal=principal,
        role=data.role,
    )
    record(
        session,
        ctx,
        action="project_member.grant",
        organization_id=org.id,
        target_type="project",
        target_id=project.id,
        details={
            "binding_id": str(binding.id),
            "user_id": str(binding.user_id) if binding.user_id else None,
            "group_id": str(binding.group_id) if binding.group_id else None,
            "role": data.role,
            "previous_role": previous,
        },
    )
    return binding


async def revoke_project_role(
    session: AsyncSession,
    ctx: CallContext,
    org: Organization,
    workspace: Workspace,
    project: Project,
    binding_id: uuid.UUID,
) -> None:
    await _project_member_resource_check(
        session, ctx, org, workspace, project, "project_member.manage"
    )
    binding = await find_binding(
        session, ProjectMember, scope={"project_id": project.id}, binding_id=binding_id
    )
    await session.delete(binding)
    await session.flush()
    record(
        session,
        ctx,
        action="project_member.revoke",
        organization_id=org.id,
        target_type="project",
        target_id=project.id,
        details={"binding_id": str(binding_id), "role": binding.role},
    )
