"""The permission table: which role, at which scope, may perform which action.

This is data, read by ``authorize``; no access decision is made anywhere else. A role at a wider
scope reaches down: an organization owner or admin may do everything the table grants them inside
the organization's workspaces and projects; a workspace role applies to every project in the
workspace; a project role applies to the project and its sub-projects. ``any_project`` lists the
project roles that, held on any project of a workspace, grant the action on the workspace itself
(so a project developer can see the workspace their project lives in).
"""

from __future__ import annotations

from dataclasses import dataclass, field

from platform_core.rbac.roles import OrgRole, ProjectRole, WorkspaceRole

ALL_ORG: frozenset[OrgRole] = frozenset({"owner", "admin", "member"})
ORG_ADMINS: frozenset[OrgRole] = frozenset({"owner", "admin"})
OWNER: frozenset[OrgRole] = frozenset({"owner"})
ALL_WS: frozenset[WorkspaceRole] = frozenset({"admin", "editor", "viewer"})
WS_WRITERS: frozenset[WorkspaceRole] = frozenset({"admin", "editor"})
WS_ADMIN: frozenset[WorkspaceRole] = frozenset({"admin"})
ALL_PROJECT: frozenset[ProjectRole] = frozenset({"admin", "developer", "viewer"})
PROJECT_WRITERS: frozenset[ProjectRole] = frozenset({"admin", "developer"})
PROJECT_ADMIN: frozenset[ProjectRole] = frozenset({"admin"})


@dataclass(frozen=True)
class Rule:
    """Roles that grant an action, per scope; ``mutates`` marks changes of state."""

    org: frozenset[OrgRole] = frozenset()
    workspace: frozenset[WorkspaceRole] = frozenset()
    project: frozenset[ProjectRole] = frozenset()
    any_project: frozenset[ProjectRole] = frozenset()
    mutates: bool = field(default=True)


def _read(**scopes: frozenset[str]) -> Rule:
    return Rule(mutates=False, **scopes)  # type: ignore[arg-type]


PERMISSIONS: dict[str, Rule] = {
    # organization
    "organization.read": _read(org=ALL_ORG),
    "organization.update": Rule(org=ORG_ADMINS),
    "organization.delete": Rule(org=OWNER),
    "member.read": _read(org=ALL_ORG),
    "member.manage": Rule(org=ORG_ADMINS),
    "member.manage_owner": Rule(org=OWNER),
    "invitation.read": _read(org=ORG_ADMINS),
    "invitation.manage": Rule(org=ORG_ADMINS),
    "group.read": _read(org=ALL_ORG),
    "group.manage": Rule(org=ORG_ADMINS),
    "api_key.read": _read(org=ORG_ADMINS),
    "api_key.manage": Rule(org=ORG_ADMINS),
    "billing.read": _read(org=ORG_ADMINS),
    "billing.manage": Rule(org=OWNER),
    "audit.read": _read(org=ORG_ADMINS),
    # workspaces
    "workspace.create": Rule(org=ORG_ADMINS),
    "workspace.read": _read(org=ORG_ADMINS, workspace=ALL_WS, any_project=ALL_PROJECT),
    "workspace.update": Rule(org=ORG_ADMINS, workspace=WS_ADMIN),
    "workspace.delete": Rule(org=ORG_ADMINS, workspace=WS_ADMIN),
    "workspace_member.read": _read(org=ORG_ADMINS, workspace=ALL_WS),
    "workspace_member.manage": Rule(org=ORG_ADMINS, workspace=WS_ADMIN),
    # projects (a project resource carries its ancestors, so roles on a parent reach down)
    "project.read": _read(org=ORG_ADMINS, workspace=ALL_WS, project=ALL_PROJECT),
    "project.create": Rule(org=ORG_ADMINS, workspace=WS_WRITERS, project=PROJECT_ADMIN),
    "project.update": Rule(org=ORG_ADMINS, workspace=WS_WRITERS, project=PROJECT_ADMIN),
    "project.delete": Rule(org=ORG_ADMINS, workspace=WS_ADMIN, project=PROJECT_ADMIN),
    "project_member.read": _read(org=ORG_ADMINS, workspace=ALL_WS, project=ALL_PROJECT),
    "project_member.manage": Rule(org=ORG_ADMINS, workspace=WS_ADMIN, project=PROJECT_ADMIN),
    # workloads inside a project's namespace (applications, CronJobs, functions, logs, metrics)
    "workload.read": _read(org=ORG_ADMINS, workspace=ALL_WS, project=ALL_PROJECT),
    "workload.write": Rule(org=ORG_ADMINS, workspace=WS_WRITERS, project=PROJECT_WRITERS),
    "workload.delete": Rule(org=ORG_ADMINS, workspace=WS_ADMIN, project=PROJECT_ADMIN),
    # incidents of a workspace or project, and what may fix them on its own
    "incident.read": _read(org=ORG_ADMINS, workspace=ALL_WS, project=ALL_PROJECT),
    "incident.update": Rule(org=ORG_ADMINS, workspace=WS_WRITERS, project=PROJECT_WRITERS),
    "alert.ingest": Rule(org=ORG_ADMINS, workspace=WS_WRITERS),
    "remediation_policy.read": _read(org=ORG_ADMINS, workspace=ALL_WS),
    "remediation_policy.manage": Rule(org=ORG_ADMINS, workspace=WS_ADMIN),
    "notification_channel.read": _read(org=ORG_ADMINS),
    "notification_channel.manage": Rule(org=ORG_ADMINS),
    # approving an agent's pending action
    "approval.write": Rule(org=ORG_ADMINS, workspace=WS_WRITERS, project=PROJECT_WRITERS),
    "approval.destructive": Rule(org=ORG_ADMINS, workspace=WS_ADMIN),
}
