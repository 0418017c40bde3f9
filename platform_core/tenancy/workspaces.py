"""Workspaces (a vCluster each): the records, their lifecycle and members.

Status moves only along ``TRANSITIONS``. A workspace starts ``provisioning`` and becomes ``active``
once its cluster is ready; deletion goes through ``terminating`` to ``terminated``, after which
the row stays (history, billing) but the name is free again. The transitions that follow the
cluster (provisioned, terminated) are made by ``platform_core.operations.workspaces``.
"""

from __future__ import annotations

import uuid

from sqlalchemy.ext.asyncio import AsyncSession

from platform_core.audit.service import record
from platform_core.billing.service import ensure_can_create_workspace
from platform_core.context import CallContext
from platform_core.db.base import utcnow
from platform_core.errors import Conflict
from platform_core.rbac.authorize import require
from platform_core.tenancy.bindings import (
    find_binding,
    grant_role,
    list_bindings,
    resolve_principal,
)
from platform_core.tenancy.models import Organization, Workspace, WorkspaceMember
from platform_core.tenancy.repository import find_workspace, org_resource, workspace_resource
from platform_core.tenancy.schemas import (
    RoleBindingRead,
    WorkspaceCreate,
    WorkspaceMemberGrant,
    WorkspaceUpdate,
)

TRANSITIONS: dict[str, frozenset[str]] = {
    "provisioning": frozenset({"active", "terminating"}),
    "active": frozenset({"suspended", "terminating"}),
    "suspended": frozenset({"active", "terminating"}),
    "terminating": frozenset({"terminated"}),
    "terminated": frozenset(),
}


def transition(workspace: Workspace, status: str) -> None:
    if status not in TRANSITIONS[workspace.status]:
        raise Conflict(
            f"a {workspace.status} workspace cannot become {status}",
            details={"status": workspace.status, "requested": status},
        )
    workspace.status = status
    workspace.status_changed_at = utcnow()


async def create_workspace(
    session: AsyncSession, ctx: CallContext, org: Organization, data: WorkspaceCreate
) -> Workspace:
    require(
        ctx.subject,
        "workspace.create",
        org_resource(org, "workspace"),
        read_action="organization.read",
    )
    await ensure_can_create_workspace(session, org.id, dedicated=data.plan == "dedicated")
    if await find_workspace(session, org, data.name) is not None:
        raise Conflict("a workspace with this name already exists", details={"name": data.name})
    workspace = Workspace(
        organization_id=org.id,
        name=data.name,
        display_name=data.display_name or data.name,
        plan=data.plan,
    )
    session.add(workspace)
    await session.flush()
    record(
        session,
        ctx,
        action="workspace.create",
        organization_id=org.id,
        target_type="workspace",
        target_id=workspace.id,
        details={"name": workspace.name, "plan": workspace.plan},
    )
    return workspace


async def update_workspace(
    session: AsyncSession,
    ctx: CallContext,
    org: Organization,
    workspace: Workspace,
    data: WorkspaceUpdate,
) -> Workspace:
    resource = workspace_resource(org, workspace)
    require(ctx.subject, "workspace.update", resource, read_action="workspace.read")
    changes = data.model_dump(exclude_none=True)
    if data.status is not None and data.status != workspace.status:
        transition(workspace, data.status)
    if data.display_name is not None:
        workspace.display_name = data.display_name
    await session.flush()
    record(
        session,
        ctx,
        action="workspace.update",
        organization_id=org.id,
        target_type="workspace",
        target_id=workspace.id,
        details=changes,
    )
    return workspace


async def delete_workspace(
    session: AsyncSession, ctx: CallContext, org: Organization, workspace: Workspace
) -> Workspace:
    require(
        ctx.subject,
        "workspace.delete",
        workspace_resource(org, workspace),
        read_action="workspace.read",
    )
    transition(workspace, "terminating")
    await session.flush()
    record(
        session,
        ctx,
        action="workspace.delete",
        organization_id=org.id,
        target_type="workspace",
        target_id=workspace.id,
        details={"name": workspace.name},
    )
    return workspace


async def list_workspace_members(
    session: AsyncSession, ctx: CallContext, org: Organization, workspace: Workspace
) -> list[RoleBindingRead]:
    require(
        ctx.subject,
        "workspace_member.read",
        workspace_resource(org, workspace, "workspace_member"),
        read_action="workspace.read",
    )
    return await list_bindings(session, WorkspaceMember, scope={"workspace_id": workspace.id})


async def grant_workspace_role(
    session: AsyncSession,
    ctx: CallContext,
    org: Organization,
    workspace: Workspace,
    data: WorkspaceMemberGrant,
) -> WorkspaceMember:
    require(
        ctx.subject,
        "workspace_member.manage",
        workspace_resource(org, workspace, "workspace_member"),
        read_action="workspace.read",
    )
    principal = await resolve_principal(session, org, data)
    binding, previous = await grant_role(
        session,
        WorkspaceMember,
        scope={"workspace_id": workspace.id},
        principal=principal,
        role=data.role,
    )
    record(
        session,
        ctx,
        action="workspace_member.grant",
        organization_id=org.id,
        target_type="workspace",
        target_id=workspace.id,
        details={
            "binding_id": str(binding.id),
            "user_id": str(binding.user_id) if binding.user_id else None,
            "group_id": str(binding.group_id) if binding.group_id else None,
            "role": data.role,
            "previous_role": previous,
        },
    )
    return binding


async def revoke_workspace_role(
    session: AsyncSession,
    ctx: CallContext,
    org: Organization,
    workspace: Workspace,
    binding_id: uuid.UUID,
) -> None:
    require(
        ctx.subject,
        "workspace_member.manage",
        workspace_resource(org, workspace, "workspace_member"),
        read_action="workspace.read",
    )
    binding = await find_binding(
        session, WorkspaceMember, scope={"workspace_id": workspace.id}, binding_id=binding_id
    )
    await session.delete(binding)
    await session.flush()
    record(
        session,
        ctx,
        action="workspace_member.revoke",
        organization_id=org.id,
        target_type="workspace",
        target_id=workspace.id,
        details={"binding_id": str(binding_id), "role": binding.role},
    )
