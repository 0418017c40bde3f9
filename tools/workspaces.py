"""Workspaces and projects: list, inspect, create and delete."""

from __future__ import annotations

from typing import Literal

from pydantic import Field

from platform_core.operations import projects as project_ops
from platform_core.operations import workspaces as workspace_ops
from platform_core.tenancy.names import Name, NamespaceName
from platform_core.tenancy.repository import visible_projects, visible_workspaces
from platform_core.tenancy.schemas import ProjectCreate, Quota, WorkspaceCreate
from tools.base import ToolArgs, ToolContext, WorkspaceArgs, tool
from tools.results import ToolResult
from tools.targets import Target


class NoArgs(ToolArgs):
    pass


@tool(risk="read", permission="organization.read", scope="organization")
async def list_workspaces(ctx: ToolContext, args: NoArgs, target: Target | None) -> ToolResult:
    """List the workspaces (vClusters) of the organization that you can see, with their status."""
    async with ctx.db.session() as session:
        rows = await visible_workspaces(session, ctx.subject, ctx.organization)
        for row in rows:
            await workspace_ops.sync_status(ctx.gateway, row)
        await session.commit()
    if not rows:
        return ToolResult.no_data("no workspaces you can see in this organization")
    lines = [f"- {w.name}: {w.status}, plan {w.plan}" for w in rows]
    data = [{"name": w.name, "status": w.status, "plan": w.plan, "id": str(w.id)} for w in rows]
    return ToolResult.ok(f"{len(rows)} workspace(s):\n" + "\n".join(lines), data)


@tool(risk="read", permission="workspace.read", scope="workspace")
async def get_workspace(ctx: ToolContext, args: WorkspaceArgs, target: Target | None) -> ToolResult:
    """Show one workspace: status, plan, its projects, and the cluster's view of it."""
    assert target is not None and target.workspace is not None
    workspace = target.workspace
    status = await ctx.gateway.get_workspace(target.cluster_workspace)
    async with ctx.db.session() as session:
        projects = await visible_projects(session, ctx.subject, ctx.organization, workspace)
    names = ", ".join(p.name for p in projects) or "none"
    summary = (
        f"workspace {workspace.name}: {workspace.status} (cluster: {status.phase}, "
        f"Kubernetes {status.kubernetes_version}), plan {workspace.plan}; projects: {names}"
    )
    data = {
        "name": workspace.name,
        "status": workspace.status,
        "cluster_phase": status.phase,
        "plan": workspace.plan,
        "kubernetes_version": status.kubernetes_version,
        "projects": [p.name for p in projects],
    }
    return ToolResult.ok(summary, data)


class ProvisionWorkspaceArgs(ToolArgs):
    name: Name = Field(description="New workspace name (lowercase letters, digits, '-')")
    plan: Literal["shared", "dedicated"] = Field(default="shared")


@tool(
    risk="write",
    permission="workspace.create",
    scope="organization",
    describe=lambda a, t: f"create workspace {a.name!r} ({a.plan} plan)",
)
async def provision_workspace(
    ctx: ToolContext, args: ProvisionWorkspaceArgs, target: Target | None
) -> ToolResult:
    """Create a new workspace (a vCluster) in the organization. Needs approval."""
    async with ctx.db.session() as session:
        workspace = await workspace_ops.create_workspace(
            session,
            ctx.call,
            ctx.gateway,
            ctx.organization,
            WorkspaceCreate(name=args.name, plan=args.plan),
        )
        await session.commit()
    return ToolResult.ok(
        f"workspace {workspace.name} created; status {workspace.status}",
        {"name": workspace.name, "status": workspace.status, "id": str(workspace.id)},
    )


class DeleteWorkspaceArgs(ToolArgs):
    workspace: str = Field(description="Name of the workspace to delete")


@tool(
    risk="destructive",
    permission="workspace.delete",
    scope="workspace",
    describe=lambda a, t: f"DELETE workspace {a.workspace!r} and everything running in it",
)
async def delete_workspace(
    ctx: ToolContext, args: DeleteWorkspaceArgs, target: Target | None
) -> ToolResult:
    """Delete a workspace and everything in it. Destructive: needs an admin's approval."""
    assert target is not None and target.workspace is not None
    async with ctx.db.session() as session:
        workspace = await session.merge(target.workspace)
        deleted = await workspace_ops.delete_workspace(
            session, ctx.call, ctx.gateway, ctx.organization, workspace
        )
        await session.commit()
    return ToolResult.ok(
        f"workspace {deleted.name} is {deleted.status}", {"status": deleted.status}
    )


@tool(risk="read", permission="workspace.read", scope="workspace")
async def list_projects(ctx: ToolContext, args: WorkspaceArgs, target: Target | None) -> ToolResult:
    """List the projects (namespaces) of a workspace with their quotas."""
    assert target is not None and target.workspace is not None
    async with ctx.db.session() as session:
        projects = await visible_projects(session, ctx.subject, ctx.organization, target.workspace)
    if not projects:
        return ToolResult.no_data(f"no projects you can see in workspace {target.workspace.name}")
    lines = []
    for p in projects:
        quota = ", ".join(
            f"{k} {v}"
            for k, v in (("cpu", p.quota_cpu), ("memory", p.quota_memory), ("pods", p.quota_pods))
            if v is not None
        )
        lines.append(f"- {p.name}" + (f" (quota: {quota})" if quota else ""))
    data = [
        {"name": p.name, "parent_id": str(p.parent_id) if p.parent_id else None} for p in projects
    ]
    return ToolResult.ok(
        f"{len(projects)} project(s) in {target.workspace.name}:\n" + "\n".join(lines), data
    )


class CreateProjectArgs(WorkspaceArgs):
    name: NamespaceName = Field(description="New project (namespace) name")
    parent: str | None = Field(default=None, description="Parent project, for a sub-project")
    cpu: str | None = Field(default=None, description="CPU quota, e.g. '4' or '500m'")
    memory: str | None = Field(default=None, description="Memory quota, e.g. '8Gi'")
    pods: int | None = Field(default=None, ge=1, le=10_000, description="Pod count quota")


@tool(
    risk="write",
    permission="project.create",
    scope="workspace",
    describe=lambda a, t: f"create project {a.name!r} in workspace {t.where if t else a.workspace}",
)
async def create_project(
    ctx: ToolContext, args: CreateProjectArgs, target: Target | None
) -> ToolResult:
    """Create a project (a namespace with an optional quota) in a workspace. Needs approval."""
    assert target is not None and target.workspace is not None
    data = ProjectCreate(
        name=args.name,
        parent=args.parent,
        quota=Quota(cpu=args.cpu, memory=args.memory, pods=args.pods),
    )
    async with ctx.db.session() as session:
        workspace = await session.merge(target.workspace)
        project = await project_ops.create_project(
            session, ctx.call, ctx.gateway, ctx.organization, workspace, data
        )
        await session.commit()
    return ToolResult.ok(
        f"project {project.name} created in workspace {target.workspace.name}",
        {"name": project.name, "id": str(project.id)},
    )
