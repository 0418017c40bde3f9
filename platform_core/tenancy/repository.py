"""Scoped queries: every lookup of tenant data goes through here.

A lookup takes the subject and answers NotFound for anything the subject cannot see, whether it
does not exist or belongs to someone else. References accept an id or a name.
"""

from __future__ import annotations

import uuid

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from platform_core.errors import NotFound
from platform_core.rbac.authorize import Resource, authorize
from platform_core.rbac.permissions import ORG_ADMINS
from platform_core.rbac.subject import Subject
from platform_core.tenancy.models import Group, Organization, Project, User, Workspace
from platform_core.tenancy.names import is_uuid

MAX_PROJECT_DEPTH = 5


def parse_id(value: str, what: str) -> uuid.UUID:
    """An id from a path; anything that is not one is simply not found."""
    try:
        return uuid.UUID(value)
    except ValueError:
        raise NotFound(f"{what} not found") from None


def org_resource(org: Organization, kind: str = "organization", id: str | None = None) -> Resource:
    return Resource(
        kind=kind,
        organization_id=org.id,
        id=id or str(org.id),
        organization_active=org.status == "active",
    )


def workspace_resource(
    org: Organization, workspace: Workspace, kind: str = "workspace"
) -> Resource:
    return Resource(
        kind=kind,
        organization_id=org.id,
        workspace_id=workspace.id,
        id=str(workspace.id),
        organization_active=org.status == "active",
    )


def project_resource(
    org: Organization, workspace: Workspace, path: tuple[uuid.UUID, ...], kind: str = "project"
) -> Resource:
    return Resource(
        kind=kind,
        organization_id=org.id,
        workspace_id=workspace.id,
        project_path=path,
        id=str(path[0]) if path else None,
        organization_active=org.status == "active",
    )


async def resolve_org(session: AsyncSession, subject: Subject, ref: str) -> Organization:
    """The organization by id or name, if the subject is a member of it."""
    if is_uuid(ref):
        org = await session.get(Organization, uuid.UUID(ref))
    else:
        org = await session.scalar(select(Organization).where(Organization.name == ref))
    if org is None or org.id not in subject.grants.orgs:
        raise NotFound("organization not found")
    return org


async def find_workspace(session: AsyncSession, org: Organization, ref: str) -> Workspace | None:
    query = select(Workspace).where(
        Workspace.organization_id == org.id, Workspace.status != "terminated"
    )
    if is_uuid(ref):
        query = query.where(Workspace.id == uuid.UUID(ref))
    else:
        query = query.where(Workspace.name == ref)
    return await session.scalar(query)


async def resolve_workspace(
    session: AsyncSession, subject: Subject, org: Organization, ref: str
) -> Workspace:
    """The workspace by id or name inside ``org``, if the subject may see it."""
    workspace = await find_workspace(session, org, ref)
    if workspace is None or not authorize(
        subject, "workspace.read", workspace_resource(org, workspace)
    ):
        raise NotFound("workspace not found")
    return workspace


async def visible_workspaces(
    session: AsyncSession, subject: Subject, org: Organization
) -> list[Workspace]:
    query = (
        select(Workspace)
        .where(Workspace.organization_id == org.id, Workspace.status != "terminated")
        .order_by(Workspace.name)
    )
    if subject.grants.orgs.get(org.id) not in ORG_ADMINS:
        granted = set(subject.grants.workspaces)
        granted.update(g.workspace_id for g in subject.grants.projects.values())
        query = query.where(Workspace.id.in_(granted))
    pinned = subject.grants.pinned_workspace_id
    if pinned is not None:
        query = query.where(Workspace.id == pinned)
    return list(await session.scalars(query))


async def project_parents(
    session: AsyncSession, workspace: Workspace
) -> dict[uuid.UUID, uuid.UUID | None]:
    """Every project of the workspace mapped to its parent (one query)."""
    rows = await session.execute(
        select(Project.id, Project.parent_id).where(Project.workspace_id == workspace.id)
    )
    return {row.id: row.parent_id for row in rows}


def path_of(
    project_id: uuid.UUID, parents: dict[uuid.UUID, uuid.UUID | None]
) -> tuple[uuid.UUID, ...]:
    """The project and its ancestors, nearest first."""
    path: list[uuid.UUID] = []
    current: uuid.UUID | None = project_id
    while current is not None and current not in path:
        path.append(current)
        current = parents.get(current)
    return tuple(path)


async def find_project(session: AsyncSession, workspace: Workspace, ref: str) -> Project | None:
    query = select(Project).where(Project.workspace_id == workspace.id)
    if is_uuid(ref):
        query = query.where(Project.id == uuid.UUID(ref))
    else:
        query = query.where(Project.name == ref)
    return await session.scalar(query)


async def resolve_project(
    session: AsyncSession, subject: Subject, org: Organization, workspace: Workspace, ref: str
) -> tuple[Project, tuple[uuid.UUID, ...]]:
    """The project by id or name inside ``workspace`` and its path, if the subject may see it."""
    project = await find_project(session, workspace, ref)
    if project is None:
        raise NotFound("project not found")
    path = path_of(project.id, await project_parents(session, workspace))
    if not authorize(subject, "project.read", project_resource(org, workspace, path)):
        raise NotFound("project not found")
    return project, path


async def visible_projects(
    session: AsyncSession, subject: Subject, org: Organization, workspace: Workspace
) -> list[Project]:
    projects = list(
        await session.scalars(
            select(Project).where(Project.workspace_id == workspace.id).order_by(Project.name)
        )
    )
    parents = {p.id: p.parent_id for p in projects}
    return [
        p
        for p in projects
        if authorize(
            subject, "project.read", project_resource(org, workspace, path_of(p.id, parents))
        )
    ]


async def resolve_group(session: AsyncSession, org: Organization, ref: str) -> Group:
    query = select(Group).where(Group.organization_id == org.id)
    if is_uuid(ref):
        query = query.where(Group.id == uuid.UUID(ref))
    else:
        query = query.where(Group.name == ref)
    group = await session.scalar(query)
    if group is None:
        raise NotFound("group not found")
    return group


async def user_by_email(session: AsyncSession, email: str) -> User | None:
    return await session.scalar(select(User).where(User.email == email.strip().lower()))
