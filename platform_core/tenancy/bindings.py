"""Role bindings on workspaces and projects, to a user or a group of the organization."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from typing import TypeVar

from sqlalchemy import ColumnElement, select
from sqlalchemy.ext.asyncio import AsyncSession

from platform_core.errors import NotFound
from platform_core.tenancy.models import (
    Group,
    Membership,
    Organization,
    ProjectMember,
    User,
    WorkspaceMember,
)
from platform_core.tenancy.repository import resolve_group, user_by_email
from platform_core.tenancy.schemas import PrincipalRef, RoleBindingRead


@dataclass(frozen=True)
class Principal:
    user: User | None = None
    group: Group | None = None


async def member_user(
    session: AsyncSession, org: Organization, *, user_id: uuid.UUID | None, email: str | None
) -> User:
    """A user who is a member of ``org``; anyone else is 'not found' here."""
    user = (
        await session.get(User, user_id) if user_id else await user_by_email(session, email or "")
    )
    if user is None or await session.get(Membership, (org.id, user.id)) is None:
        raise NotFound("no member of this organization matches that user")
    return user


async def resolve_principal(
    session: AsyncSession, org: Organization, ref: PrincipalRef
) -> Principal:
    if ref.group is not None:
        return Principal(group=await resolve_group(session, org, ref.group))
    return Principal(user=await member_user(session, org, user_id=ref.user_id, email=ref.email))


Binding = WorkspaceMember | ProjectMember


async def binding_reads(
    session: AsyncSession, bindings: list[WorkspaceMember] | list[ProjectMember]
) -> list[RoleBindingRead]:
    user_ids = {b.user_id for b in bindings if b.user_id}
    group_ids = {b.group_id for b in bindings if b.group_id}
    users = (
        {u.id: u for u in await session.scalars(select(User).where(User.id.in_(user_ids)))}
        if user_ids
        else {}
    )
    groups = (
        {g.id: g for g in await session.scalars(select(Group).where(Group.id.in_(group_ids)))}
        if group_ids
        else {}
    )
    return [
        RoleBindingRead(
            id=b.id,
            user_id=b.user_id,
            email=users[b.user_id].email if b.user_id in users else None,
            group_id=b.group_id,
            group_name=groups[b.group_id].name if b.group_id in groups else None,
            role=b.role,
            created_at=b.created_at,
        )
        for b in bindings
    ]


B = TypeVar("B", WorkspaceMember, ProjectMember)


def _scope_filter(model: type[B], scope: dict[str, uuid.UUID]) -> ColumnElement[bool]:
    ((column, value),) = scope.items()
    condition: ColumnElement[bool] = getattr(model, column) == value
    return condition


async def grant_role(
    session: AsyncSession,
    model: type[B],
    *,
    scope: dict[str, uuid.UUID],
    principal: Principal,
    role: str,
) -> tuple[B, str | None]:
    """Bind ``role`` to the principal on the scope, replacing its previous role there.

    Returns the binding and the role it replaced (None for a new binding).
    """
    if principal.user is not None:
        who = model.user_id == principal.user.id
    elif principal.group is not None:
        who = model.group_id == principal.group.id
    else:  # pragma: no cover - resolve_principal always sets one
        raise NotFound("no such member or group")
    existing = await session.scalar(select(model).where(_scope_filter(model, scope), who))
    if existing is not None:
        previous = existing.role
        existing.role = role
        await session.flush()
        return existing, previous
    binding = model(
        **scope,
        user_id=principal.user.id if principal.user else None,
        group_id=principal.group.id if principal.group else None,
        role=role,
    )
    session.add(binding)
    await session.flush()
    return binding, None


async def find_binding(
    session: AsyncSession, model: type[B], *, scope: dict[str, uuid.UUID], binding_id: uuid.UUID
) -> B:
    binding = await session.scalar(
        select(model).where(model.id == binding_id, _scope_filter(model, scope))
    )
    if binding is None:
        raise NotFound("member binding not found")
    return binding


async def list_bindings(
    session: AsyncSession, model: type[B], *, scope: dict[str, uuid.UUID]
) -> list[RoleBindingRead]:
    rows = await session.scalars(
        select(model).where(_scope_filter(model, scope)).order_by(model.created_at)
    )
    return await binding_reads(session, list(rows))
