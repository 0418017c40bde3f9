"""The one choke point for access decisions."""

from __future__ import annotations

import uuid
from dataclasses import dataclass

from platform_core.errors import Forbidden, NotFound
from platform_core.rbac.permissions import PERMISSIONS, Rule
from platform_core.rbac.subject import Subject

ResourceKind = str


@dataclass(frozen=True)
class Resource:
    """What an action is performed on, located in the tenancy tree.

    ``project_path`` is the project and its ancestors, nearest first (empty for objects above
    project level). ``organization_active`` is False for a suspended organization, where every
    mutating action is refused.
    """

    kind: ResourceKind
    organization_id: uuid.UUID
    workspace_id: uuid.UUID | None = None
    project_path: tuple[uuid.UUID, ...] = ()
    id: str | None = None
    organization_active: bool = True


def _rule(action: str) -> Rule:
    try:
        return PERMISSIONS[action]
    except KeyError:
        raise ValueError(f"unknown action {action!r}: add it to the permission table") from None


def authorize(subject: Subject, action: str, resource: Resource) -> bool:
    """True if any role the subject holds on the resource's scopes grants the action."""
    rule = _rule(action)
    if rule.mutates and not resource.organization_active:
        return False
    grants = subject.grants
    pinned = grants.pinned_workspace_id
    if pinned is not None and (
        (resource.workspace_id is not None and resource.workspace_id != pinned)
        or (resource.workspace_id is None and rule.mutates)
    ):
        return False
    org_role = grants.orgs.get(resource.organization_id)
    if org_role is None:
        return False
    if org_role in rule.org:
        return True
    if resource.workspace_id is None:
        return False
    ws_role = grants.workspaces.get(resource.workspace_id)
    if ws_role is not None and ws_role in rule.workspace:
        return True
    for project_id in resource.project_path:
        grant = grants.projects.get(project_id)
        if grant is not None and grant.role in rule.project:
            return True
    if not resource.project_path and rule.any_project:
        return any(
            grant.workspace_id == resource.workspace_id and grant.role in rule.any_project
            for grant in grants.projects.values()
        )
    return False


def require(subject: Subject, action: str, resource: Resource, *, read_action: str) -> None:
    """Raise unless the subject may perform ``action``.

    A subject that may not even ``read_action`` the resource gets NotFound, so the existence of
    another tenant's object is never confirmed; one that can see it but not act gets Forbidden.
    """
    if authorize(subject, action, resource):
        return
    if read_action != action and authorize(subject, read_action, resource):
        if _rule(action).mutates and not resource.organization_active:
            raise Forbidden("the organization is suspended; only reads are allowed")
        raise Forbidden(f"you may not {action.replace('.', ' ').replace('_', ' ')} here")
    raise NotFound(f"{resource.kind} not found")
