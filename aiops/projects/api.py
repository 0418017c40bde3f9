"""``.../workspaces/{workspace}/projects``: projects (namespaces) and their role bindings."""

from __future__ import annotations

import uuid

from fastapi import APIRouter, Response, status

from aiops.http.deps import Caller, DbSession, Org, ProjectDep, State, WorkspaceDep
from platform_core.operations import projects as operations
from platform_core.tenancy import projects as service
from platform_core.tenancy.bindings import binding_reads
from platform_core.tenancy.repository import visible_projects
from platform_core.tenancy.schemas import (
    ProjectCreate,
    ProjectMemberGrant,
    ProjectRead,
    ProjectUpdate,
    RoleBindingRead,
)

router = APIRouter(
    prefix="/api/v1/organizations/{org}/workspaces/{workspace}/projects", tags=["projects"]
)


@router.get("", name="project.list", operation_id="listProjects")
async def list_projects(
    org: Org, workspace: WorkspaceDep, ctx: Caller, session: DbSession
) -> list[ProjectRead]:
    rows = await visible_projects(session, ctx.subject, org, workspace)
    return [service.to_read(row) for row in rows]


@router.post(
    "", name="project.create", operation_id="createProject", status_code=status.HTTP_201_CREATED
)
async def create_project(
    org: Org,
    workspace: WorkspaceDep,
    body: ProjectCreate,
    ctx: Caller,
    session: DbSession,
    state: State,
) -> ProjectRead:
    """Create a project (namespace), optionally under a parent, with a resource quota."""
    project = await operations.create_project(session, ctx, state.cluster, org, workspace, body)
    return service.to_read(project)


@router.get("/{project}", name="project.get", operation_id="getProject")
async def get_project(project: ProjectDep) -> ProjectRead:
    return service.to_read(project)


@router.patch("/{project}", name="project.update", operation_id="updateProject")
async def update_project(
    org: Org,
    workspace: WorkspaceDep,
    project: ProjectDep,
    body: ProjectUpdate,
    ctx: Caller,
    session: DbSession,
    state: State,
) -> ProjectRead:
    updated = await operations.update_project(
        session, ctx, state.cluster, org, workspace, project, body
    )
    return service.to_read(updated)


@router.delete(
    "/{project}",
    name="project.delete",
    operation_id="deleteProject",
    status_code=status.HTTP_204_NO_CONTENT,
)
async def delete_project(
    org: Org,
    workspace: WorkspaceDep,
    project: ProjectDep,
    ctx: Caller,
    session: DbSession,
    state: State,
) -> Response:
    await operations.delete_project(session, ctx, state.cluster, org, workspace, project)
    return Response(status_code=status.HTTP_204_NO_CONTENT)


@router.get("/{project}/members", name="project_member.list", operation_id="listProjectMembers")
async def list_members(
    org: Org, workspace: WorkspaceDep, project: ProjectDep, ctx: Caller, session: DbSession
) -> list[RoleBindingRead]:
    return await service.list_project_members(session, ctx, org, workspace, project)


@router.post("/{project}/members", name="project_member.grant", operation_id="grantProjectRole")
async def grant_role(
    org: Org,
    workspace: WorkspaceDep,
    project: ProjectDep,
    body: ProjectMemberGrant,
    ctx: Caller,
    session: DbSession,
) -> RoleBindingRead:
    binding = await service.grant_project_role(session, ctx, org, workspace, project, body)
    return (await binding_reads(session, [binding]))[0]


@router.delete(
    "/{project}/members/{binding_id}",
    name="project_member.revoke",
    operation_id="revokeProjectRole",
    status_code=status.HTTP_204_NO_CONTENT,
)
async def revoke_role(
    org: Org,
    workspace: WorkspaceDep,
    project: ProjectDep,
    binding_id: uuid.UUID,
    ctx: Caller,
    session: DbSession,
) -> Response:
    await service.revoke_project_role(session, ctx, org, workspace, project, binding_id)
    return Response(status_code=status.HTTP_204_NO_CONTENT)
