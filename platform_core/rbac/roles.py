"""The closed sets of roles at each scope, strongest first."""

from __future__ import annotations

from typing import Literal, TypeVar, get_args

OrgRole = Literal["owner", "admin", "member"]
WorkspaceRole = Literal["admin", "editor", "viewer"]
ProjectRole = Literal["admin", "developer", "viewer"]

ORG_ROLES: tuple[OrgRole, ...] = get_args(OrgRole)
WORKSPACE_ROLES: tuple[WorkspaceRole, ...] = get_args(WorkspaceRole)
PROJECT_ROLES: tuple[ProjectRole, ...] = get_args(ProjectRole)

R = TypeVar("R", bound=str)


def strongest(roles: list[R] | tuple[R, ...], order: tuple[R, ...]) -> R | None:
    """The strongest of ``roles`` in ``order`` (strongest first), or None if empty."""
    present = set(roles)
    for role in order:
        if role in present:
            return role
    return None


def at_most(role: R, cap: R, order: tuple[R, ...]) -> R:
    """``role`` weakened to ``cap`` if it is stronger than the cap."""
    return role if order.index(role) >= order.index(cap) else cap
