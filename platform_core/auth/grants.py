"""Load every role a user holds, directly or through groups, in one query."""

from __future__ import annotations

import uuid
from typing import Any, cast

from sqlalchemy import (
    CompoundSelect,
    Result,
    Uuid,
    bindparam,
    literal,
    null,
    or_,
    select,
    union_all,
)
from sqlalchemy.ext.asyncio import AsyncSession

from platform_core.rbac.roles import (
    ORG_ROLES,
    PROJECT_ROLES,
    WORKSPACE_ROLES,
    OrgRole,
    ProjectRole,
    WorkspaceRole,
)
from platform_core.rbac.subject import Grants, ProjectGrant
from platform_core.tenancy.models import (
    GroupMember,
    Membership,
    Project,
    ProjectMember,
    Workspace,
    WorkspaceMember,
)


def _stronger(current: str | None, candidate: str, order: tuple[str, ...]) -> str:
    if current is None or order.index(candidate) < order.index(current):
        return candidate
    return current


def _grants_statement() -> CompoundSelect[Any]:
    """All of a user's role grants as (kind, object id, workspace id, role) rows.

    Built once with a bound parameter: constructing a union of three selects costs more than
    running it on a small database, and this runs on every authenticated request.
    """
    user_id = bindparam("user_id", type_=Uuid())
    in_group = select(GroupMember.group_id).where(GroupMember.user_id == user_id)
    orgs = select(
        literal("o").label("kind"),
        Membership.organization_id.label("object_id"),
        null().label("workspace_id"),
        Membership.role,
    ).where(Membership.user_id == user_id)
    workspaces = (
        select(
            literal("w"),
            WorkspaceMember.workspace_id,
            WorkspaceMember.workspace_id,
            WorkspaceMember.role,
        )
        .join(Workspace, Workspace.id == WorkspaceMember.workspace_id)
        .where(
            Workspace.status != "terminated",
            or_(WorkspaceMember.user_id == user_id, WorkspaceMember.group_id.in_(in_group)),
        )
    )
    projects = (
        select(literal("p"), ProjectMember.project_id, Project.workspace_id, ProjectMember.role)
        .join(Project, Project.id == ProjectMember.project_id)
        .where(or_(ProjectMember.user_id == user_id, ProjectMember.group_id.in_(in_group)))
    )
    return union_all(orgs, workspaces, projects)


GRANTS = _grants_statement()


async def load_user_grants(session: AsyncSession, user_id: uuid.UUID) -> Grants:
    """The user's organization, workspace and project roles (strongest wins per object)."""
    result: Result[Any] = await session.execute(GRANTS, {"user_id": user_id})
    return build_grants([tuple(row) for row in result.all()])


def build_grants(rows: list[tuple[Any, ...]]) -> Grants:
    org_roles: dict[uuid.UUID, str] = {}
    ws_roles: dict[uuid.UUID, str] = {}
    project_roles: dict[uuid.UUID, tuple[uuid.UUID, str]] = {}
    for kind, object_id, workspace_id, role in rows:
        oid = _as_uuid(object_id)
        if kind == "o":
            org_roles[oid] = _stronger(org_roles.get(oid), role, ORG_ROLES)
        elif kind == "w":
            ws_roles[oid] = _stronger(ws_roles.get(oid), role, WORKSPACE_ROLES)
        else:
            previous = project_roles.get(oid)
            best = _stronger(previous[1] if previous else None, role, PROJECT_ROLES)
            project_roles[oid] = (_as_uuid(workspace_id), best)
    return Grants(
        orgs={k: cast(OrgRole, v) for k, v in org_roles.items()},
        workspaces={k: cast(WorkspaceRole, v) for k, v in ws_roles.items()},
        projects={
            k: ProjectGrant(workspace_id=ws, role=cast(ProjectRole, role))
            for k, (ws, role) in project_roles.items()
        },
    )


def _as_uuid(value: Any) -> uuid.UUID:
    if isinstance(value, uuid.UUID):
        return value
    text = str(value)
    return uuid.UUID(text)
