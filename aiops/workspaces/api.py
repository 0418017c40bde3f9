"""``/api/v1/organizations/{org}/workspaces``: workspaces and their role bindings."""

from __future__ import annotations

import uuid

from fastapi import APIRouter, Response, status

from aiops.http.deps import Caller, DbSession, Org, State, WorkspaceDep
from platform_core.operations import workspaces as operations
from platform_core.tenancy import workspaces as service
from platform_core.tenancy.bindings import binding_reads
from platform_core.tenancy.repository import visible_workspaces
from platform_core.tenancy.schemas import (
    RoleBindingRead,
    WorkspaceCreate,
    WorkspaceMemberGrant,
    WorkspaceRead,
    WorkspaceUpdate,
)

router = APIRouter(prefix="/api/v1/organizations/{org}/workspaces", tags=["workspaces"])


@router.get("", name="workspace.list", operation_id="listWorkspaces")
async def list_workspaces(
    org: Org, ctx: Caller, session: DbSession, state: State
) -> list[WorkspaceRead]:
    """Workspaces of the organization the caller can see (terminated ones are not listed)."""
    rows = await visible_workspaces(session, ctx.subject, org)
    for row in rows:
        await operations.sync_status(state.cluster, row)
    return [WorkspaceRead.model_validate(row) for row in rows if row.status != "terminated"]


@router.post(
    "",
    name="workspace.create",
    operation_id="createWorkspace",
    status_code=status.HTTP_201_CREATED,
)
async def create_workspace(
    org: Org, body: WorkspaceCreate, ctx: Caller, session: DbSession, state: State
) -> WorkspaceRead:
    """Create a workspace (a vCluster); it is ``provisioning`` until its cluster is up.
    Refused with 402 beyond the plan's limit."""
    workspace = await operations.create_workspace(session, ctx, state.cluster, org, body)
    return WorkspaceRead.model_validate(workspace)


@router.get("/{workspace}", name="workspace.get", operation_id="getWorkspace")
async def get_workspace(workspace: WorkspaceDep) -> WorkspaceRead:
    return WorkspaceRead.model_validate(workspace)


@router.patch("/{workspace}", name="workspace.update", operation_id="updateWorkspace")
async def update_workspace(
    org: Org,
    workspace: WorkspaceDep,
    body: WorkspaceUpdate,
    ctx: Caller,
    session: DbSession,
    state: State,
) -> WorkspaceRead:
    """Rename, suspend or resume a workspace."""
    updated = await operations.update_workspace(session, ctx, state.cluster, org, workspace, body)
    return WorkspaceRead.model_validate(updated)


@router.delete("/{workspace}", name="workspace.delete", operation_id="deleteWorkspace")
async def delete_workspace(
    org: Org, workspace: WorkspaceDep, ctx: Caller, session: DbSession, state: State
) -> WorkspaceRead:
    """Delete a workspace: ``terminating`` until its cluster is gone, then ``terminated``."""
    deleted = await operations.delete_workspace(session, ctx, state.cluster, org, workspace)
    return WorkspaceRead.model_validate(deleted)


@router.get(
    "/{workspace}/members", name="workspace_member.list", operation_id="listWorkspaceMembers"
)
async def list_members(
    org: Org, workspace: WorkspaceDep, ctx: Caller, session: DbSession
) -> list[RoleBindingRead]:
    return await service.list_workspace_members(session, ctx, org, workspace)


@router.post(
    "/{workspace}/members",
    name="workspace_member.grant",
    operation_id="grantWorkspaceRole",
)
async def grant_role(
    org: Org,
    workspace: WorkspaceDep,
    body: WorkspaceMemberGrant,
    ctx: Caller,
    session: DbSession,
) -> RoleBindingRead:
    """Give a member or a group a role in the workspace (replaces their previous role)."""
    binding = await service.grant_workspace_role(session, ctx, org, workspace, body)
    return (await binding_reads(session, [binding]))[0]


@router.delete(
    "/{workspace}/members/{binding_id}",
    name="workspace_member.revoke",
    operation_id="revokeWorkspaceRole",
    status_code=status.HTTP_204_NO_CONTENT,
)
async def revoke_role(
    org: Org, workspace: WorkspaceDep, binding_id: uuid.UUID, ctx: Caller, session: DbSession
) -> Response:
    await service.revoke_workspace_role(session, ctx, org, workspace, binding_id)
    return Response(status_code=status.HTTP_204_NO_CONTENT)
