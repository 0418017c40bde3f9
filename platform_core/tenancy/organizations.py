"""Organizations and their members."""

from __future__ import annotations

import uuid
from typing import cast

from sqlalchemy import delete, func, select
from sqlalchemy.ext.asyncio import AsyncSession

from platform_core.audit.service import record
from platform_core.billing.service import create_subscription
from platform_core.context import CallContext
from platform_core.errors import Conflict, Forbidden, NotFound
from platform_core.rbac.authorize import require
from platform_core.rbac.roles import OrgRole
from platform_core.tenancy.models import (
    Group,
    GroupMember,
    Membership,
    Organization,
    Project,
    ProjectMember,
    User,
    Workspace,
    WorkspaceMember,
)
from platform_core.tenancy.repository import org_resource
from platform_core.tenancy.schemas import (
    MemberRead,
    OrganizationCreate,
    OrganizationRead,
    OrganizationStatus,
    OrganizationUpdate,
)


async def create_organization(
    session: AsyncSession,
    ctx: CallContext,
    data: OrganizationCreate,
    *,
    owner: User,
    plan_id: str = "free",
) -> Organization:
    """A new organization with ``owner`` as its owner and a subscription to ``plan_id``."""
    if await session.scalar(select(Organization.id).where(Organization.name == data.name)):
        raise Conflict("an organization with this name already exists", details={"name": data.name})
    org = Organization(name=data.name, display_name=data.display_name or data.name)
    session.add(org)
    await session.flush()
    session.add(Membership(organization_id=org.id, user_id=owner.id, role="owner"))
    await create_subscription(session, org.id, plan_id)
    record(
        session,
        ctx,
        action="organization.create",
        organization_id=org.id,
        target_type="organization",
        target_id=org.id,
        details={"name": org.name, "plan": plan_id},
    )
    return org


async def list_organizations(session: AsyncSession, ctx: CallContext) -> list[OrganizationRead]:
    roles = ctx.subject.grants.orgs
    if not roles:
        return []
    orgs = await session.scalars(
        select(Organization).where(Organization.id.in_(roles)).order_by(Organization.name)
    )
    return [to_read(org, roles.get(org.id)) for org in orgs]


def to_read(org: Organization, role: OrgRole | None) -> OrganizationRead:
    return OrganizationRead(
        id=org.id,
        name=org.name,
        display_name=org.display_name,
        status=cast(OrganizationStatus, org.status),
        role=role,
        created_at=org.created_at,
    )


async def update_organization(
    session: AsyncSession, ctx: CallContext, org: Organization, data: OrganizationUpdate
) -> Organization:
    require(ctx.subject, "organization.update", org_resource(org), read_action="organization.read")
    org.display_name = data.display_name
    await session.flush()
    record(
        session,
        ctx,
        action="organization.update",
        organization_id=org.id,
        target_type="organization",
        target_id=org.id,
        details=data.model_dump(),
    )
    return org


async def delete_organization(session: AsyncSession, ctx: CallContext, org: Organization) -> None:
    """Delete an organization that has no workspace left (terminated ones don't count)."""
    require(ctx.subject, "organization.delete", org_resource(org), read_action="organization.read")
    live = await session.scalar(
        select(func.count())
        .select_from(Workspace)
        .where(Workspace.organization_id == org.id, Workspace.status != "terminated")
    )
    if live:
        raise Conflict(
            f"the organization still has {live} workspace(s); delete them first",
            details={"workspaces": live},
        )
    record(
        session,
        ctx,
        action="organization.delete",
        organization_id=org.id,
        target_type="organization",
        target_id=org.id,
        details={"name": org.name},
    )
    await session.delete(org)
    await session.flush()


async def list_members(
    session: AsyncSession, ctx: CallContext, org: Organization
) -> list[MemberRead]:
    require(
        ctx.subject, "member.read", org_resource(org, "member"), read_action="organization.read"
    )
    rows = await session.execute(
        select(Membership, User)
        .join(User, User.id == Membership.user_id)
        .where(Membership.organization_id == org.id)
        .order_by(User.email)
    )
    return [
        MemberRead(
            user_id=user.id,
            email=user.email,
            name=user.name,
            role=cast(OrgRole, membership.role),
            joined_at=membership.created_at,
        )
        for membership, user in rows
    ]


async def _membership(session: AsyncSession, org: Organization, user_id: uuid.UUID) -> Membership:
    membership = await session.get(Membership, (org.id, user_id))
    if membership is None:
        raise NotFound("member not found")
    return membership


async def _owner_count(session: AsyncSession, org: Organization) -> int:
    count = await session.scalar(
        select(func.count())
        .select_from(Membership)
        .where(Membership.organization_id == org.id, Membership.role == "owner")
    )
    return int(count or 0)


def _require_member_change(ctx: CallContext, org: Organization, *roles: str) -> None:
    resource = org_resource(org, "member")
    require(ctx.subject, "member.manage", resource, read_action="member.read")
    if "owner" in roles:
        require(ctx.subject, "member.manage_owner", resource, read_action="member.read")


async def update_member_role(
    session: AsyncSession, ctx: CallContext, org: Organization, user_id: uuid.UUID, role: OrgRole
) -> Membership:
    membership = await _membership(session, org, user_id)
    _require_member_change(ctx, org, membership.role, role)
    if membership.role == "owner" and role != "owner" and await _owner_count(session, org) == 1:
        raise Conflict("an organization needs at least one owner; promote another member first")
    previous = membership.role
    membership.role = role
    await session.flush()
    record(
        session,
        ctx,
        action="member.update",
        organization_id=org.id,
        target_type="user",
        target_id=user_id,
        details={"from": previous, "to": role},
    )
    return membership


async def remove_member(
    session: AsyncSession, ctx: CallContext, org: Organization, user_id: uuid.UUID
) -> None:
    """Remove a member (or let a member leave) and every grant they held in the organization."""
    membership = await _membership(session, org, user_id)
    if ctx.subject.user_id != user_id:
        _require_member_change(ctx, org, membership.role)
    elif not org_resource(org).organization_active:
        raise Forbidden("the organization is suspended; only reads are allowed")
    if membership.role == "owner" and await _owner_count(session, org) == 1:
        raise Conflict("the last owner cannot leave; transfer ownership first")
    await _drop_grants(session, org, user_id)
    await session.delete(membership)
    await session.flush()
    record(
        session,
        ctx,
        action="member.remove",
        organization_id=org.id,
        target_type="user",
        target_id=user_id,
        details={"role": membership.role},
    )


async def _drop_grants(session: AsyncSession, org: Organization, user_id: uuid.UUID) -> None:
    workspaces = select(Workspace.id).where(Workspace.organization_id == org.id)
    projects = select(Project.id).where(Project.organization_id == org.id)
    groups = select(Group.id).where(Group.organization_id == org.id)
    await session.execute(
        delete(WorkspaceMember).where(
            WorkspaceMember.user_id == user_id, WorkspaceMember.workspace_id.in_(workspaces)
        )
    )
    await session.execute(
        delete(ProjectMember).where(
            ProjectMember.user_id == user_id, ProjectMember.project_id.in_(projects)
        )
    )
    await session.execute(
        delete(GroupMember).where(GroupMember.user_id == user_id, GroupMember.group_id.in_(groups))
    )


async def add_member(
    session: AsyncSession, org: Organization, user: User, role: OrgRole
) -> Membership:
    """Make ``user`` a member (used by invitations and the admin CLI, which authorize first)."""
    existing = await session.get(Membership, (org.id, user.id))
    if existing is not None:
        raise Conflict("the user is already a member of this organization")
    membership = Membership(organization_id=org.id, user_id=user.id, role=role)
    session.add(membership)
    await session.flush()
    return membership
