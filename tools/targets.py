"""Where a tool call lands: the workspace and project it names, inside the caller's organization.

A reference is resolved with the same scoped lookups as the REST API, so another organization's
workspace is simply not found, whatever the arguments say. When the model leaves the workspace
out and the conversation has none, the error lists the workspaces the caller can use.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass

from sqlalchemy.ext.asyncio import AsyncSession

from platform_core.errors import InvalidInput, NotFound
from platform_core.rbac.authorize import Resource
from platform_core.rbac.subject import Subject
from platform_core.tenancy.models import Organization, Project, Workspace
from platform_core.tenancy.repository import (
    org_resource,
    project_resource,
    resolve_project,
    resolve_workspace,
    visible_projects,
    visible_workspaces,
    workspace_resource,
)

DEFAULT_PROJECT = "default"


@dataclass(frozen=True)
class Target:
    organization: Organization
    workspace: Workspace | None = None
    project: Project | None = None
    project_path: tuple[uuid.UUID, ...] = ()

    @property
    def cluster_workspace(self) -> str:
        """The identifier the cluster gateway knows the workspace by."""
        if self.workspace is None:
            raise InvalidInput("this operation needs a workspace")
        return str(self.workspace.id)

    @property
    def namespace(self) -> str:
        if self.project is None:
            raise InvalidInput("this operation needs a project")
        return self.project.name

    @property
    def where(self) -> str:
        """``workspace/project`` as people say it."""
        parts = [self.workspace.name if self.workspace else self.organization.name]
        if self.project is not None:
            parts.append(self.project.name)
        return "/".join(parts)

    def resource(self, kind: str) -> Resource:
        if self.workspace is None:
            return org_resource(self.organization, kind)
        if self.project is None:
            return workspace_resource(self.organization, self.workspace, kind)
        return project_resource(self.organization, self.workspace, self.project_path, kind)


async def _pick_workspace(
    session: AsyncSession, subject: Subject, org: Organization, ref: str | None
) -> Workspace:
    if ref:
        try:
            return await resolve_workspace(session, subject, org, ref)
        except NotFound:
            names = [w.name for w in await visible_workspaces(session, subject, org)]
            raise NotFound(
                f"workspace {ref!r} not found; workspaces you can use: {', '.join(names) or 'none'}"
            ) from None
    names = [w.name for w in await visible_workspaces(session, subject, org)]
    if len(names) == 1:
        return await resolve_workspace(session, subject, org, names[0])
    raise InvalidInput(
        "say which workspace: " + (", ".join(names) if names else "you have none"),
        details={"field": "workspace"},
    )


async def _default_project(
    session: AsyncSession, subject: Subject, org: Organization, workspace: Workspace
) -> str:
    """``default`` if it exists, else the workspace's only project; otherwise ask."""
    names = [p.name for p in await visible_projects(session, subject, org, workspace)]
    if DEFAULT_PROJECT in names or not names:
        return DEFAULT_PROJECT
    if len(names) == 1:
        return names[0]
    raise InvalidInput(
        f"say which project of workspace {workspace.name!r}: {', '.join(names)}",
        details={"field": "project"},
    )


async def resolve_target(
    session: AsyncSession,
    subject: Subject,
    org: Organization,
    *,
    workspace: str | None,
    project: str | None = None,
    need_project: bool = False,
) -> Target:
    """The target of a call; NotFound for anything outside what ``subject`` can see."""
    ws = await _pick_workspace(session, subject, org, workspace)
    if not need_project:
        return Target(organization=org, workspace=ws)
    ref = project or await _default_project(session, subject, org, ws)
    try:
        found, path = await resolve_project(session, subject, org, ws, ref)
    except NotFound:
        raise NotFound(f"project {ref!r} not found in workspace {ws.name!r}") from None
    return Target(organization=org, workspace=ws, project=found, project_path=path)
