"""Groups of organization members; a group can hold workspace and project roles."""

from __future__ import annotations

import uuid

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from platform_core.audit.service import record
from platform_core.context import CallContext
from platform_core.errors import Conflict, NotFound
from platform_core.rbac.authorize import require
from platform_core.tenancy.bindings import member_user
from platform_core.tenancy.models import Group, GroupMember, Organization, User
from platform_core.tenancy.repository import org_resource
from platform_core.tenancy.schemas import (
    GroupCreate,
    GroupMemberAdd,
    GroupRead,
    GroupUpdate,
    UserRead,
)


def _require(ctx: CallContext, org: Organization, action: str) -> None:
    require(ctx.subject, action, org_resource(org, "group"), read_action="organization.read")


async def _member_counts(session: AsyncSession, group_ids: list[uuid.UUID]) -> dict[uuid.UUID, int]:
    if not group_ids:
        return {}
    rows = await session.execute(
        select(GroupMember.group_id, func.count())
        .where(GroupMember.group_id.in_(group_ids))
        .group_by(GroupMember.group_id)
    )
    return {group_id: count for group_id, count in rows}


async def to_reads(session: AsyncSession, groups: list[Group]) -> list[GroupRead]:
    counts = await _member_counts(session, [g.id for g in groups])
    return [
        GroupRead(
            id=g.id,
            name=g.name,
            description=g.description,
            member_count=counts.get(g.id, 0),
            created_at=g.created_at,
        )
        for g in groups
    ]


async def list_groups(
    session: AsyncSession, ctx: CallContext, org: Organization
) -> list[GroupRead]:
    _require(ctx, org, "group.read")
    groups = await session.scalars(
        select(Group).where(Group.organization_id == org.id).order_by(Group.name)
    )
    return await to_reads(session, list(groups))


async def create_group(
    session: AsyncSession, ctx: CallContext, org: Organization, data: GroupCreate
) -> Group:
    _require(ctx, org, "group.manage")
    taken = await session.scalar(
        select(Group.id).where(Group.organization_id == org.id, Group.name == data.name)
    )
    if taken:
        raise Conflict("a group with this name already exists", details={"name": data.name})
    group = Group(organization_id=org.id, name=data.name, description=data.description)
    session.add(group)
    await session.flush()
    record(
        session,
        ctx,
        action="group.create",
        organization_id=org.id,
        target_type="group",
        target_id=group.id,
        details={"name": group.name},
    )
    return group


async def update_group(
    session: AsyncSession, ctx: CallContext, org: Organization, group: Group, data: GroupUpdate
) -> Group:
    _require(ctx, org, "group.manage")
    group.description = data.description
    await session.flush()
    record(
        session,
        ctx,
        action="group.update",
        organization_id=org.id,
        target_type="group",
        target_id=group.id,
        details=data.model_dump(),
    )
    return group


async def delete_group(
    session: AsyncSession, ctx: CallContext, org: Organization, group: Group
) -> None:
    _require(ctx, org, "group.manage")
    record(
        session,
        ctx,
        action="group.delete",
        organization_id=org.id,
        target_type="group",
        target_id=group.id,
        details={"name": group.name},
    )
    await session.delete(group)
    await session.flush()


async def list_group_members(
    session: AsyncSession, ctx: CallContext, org: Organization, group: Group
) -> list[UserRead]:
    _require(ctx, org, "group.read")
    users = await session.scalars(
        select(User)
        .join(GroupMember, GroupMember.user_id == User.id)
        .where(GroupMember.group_id == group.id)
        .order_by(User.email)
    )
    return [UserRead.model_validate(user) for user in users]


async def add_group_member(
    session: AsyncSession, ctx: CallContext, org: Organization, group: Group, data: GroupMemberAdd
) -> User:
    _require(ctx, org, "group.manage")
    user = await member_user(session, org, user_id=data.user_id, email=data.email)
    if await session.get(GroupMember, (group.id, user.id)) is not None:
        raise Conflict("the user is already in this group")
    session.add(GroupMember(group_id=group.id, user_id=user.id))
    await session.flush()
    record(
        session,
        ctx,
        action="group_member.add",
        organization_id=org.id,
        target_type="group",
        target_id=group.id,
        details={"user_id": str(user.id)},
    )
    return user


async def remove_group_member(
    session: AsyncSession, ctx: CallContext, org: Organization, group: Group, user_id: uuid.UUID
) -> None:
    _require(ctx, org, "group.manage")
    membership = await session.get(GroupMember, (group.id, user_id))
    if membership is None:
        raise NotFound("the user is not in this group")
    await session.delete(membership)
    await session.flush()
    record(
        session,
        ctx,
        action="group_member.remove",
        organization_id=org.id,
        target_type="group",
        target_id=group.id,
        details={"user_id": str(user_id)},
    )
