"""``/api/v1/organizations``: organizations, their members and invitations."""

from __future__ import annotations

import uuid

from fastapi import APIRouter, Response, status

from aiops.http.deps import Caller, DbSession, OptionalCaller, Org, State
from platform_core.errors import Forbidden
from platform_core.rbac.roles import OrgRole
from platform_core.tenancy import organizations as service
from platform_core.tenancy.models import User
from platform_core.tenancy.schemas import (
    InvitationAccept,
    InvitationCreate,
    InvitationCreated,
    InvitationRead,
    MemberRead,
    MemberUpdate,
    OrganizationCreate,
    OrganizationRead,
    OrganizationUpdate,
)

router = APIRouter(prefix="/api/v1/organizations", tags=["organizations"])
invitations_router = APIRouter(prefix="/api/v1/invitations", tags=["organizations"])

NO_CONTENT = Response(status_code=status.HTTP_204_NO_CONTENT)


def _role(ctx: Caller, org_id: uuid.UUID) -> OrgRole | None:
    return ctx.subject.grants.orgs.get(org_id)


@router.get("", name="organization.list", operation_id="listOrganizations")
async def list_organizations(ctx: Caller, session: DbSession) -> list[OrganizationRead]:
    """Organizations the caller belongs to."""
    return await service.list_organizations(session, ctx)


@router.post(
    "",
    name="organization.create",
    operation_id="createOrganization",
    status_code=status.HTTP_201_CREATED,
)
async def create_organization(
    body: OrganizationCreate, ctx: Caller, session: DbSession
) -> OrganizationRead:
    """Create an organization on the Free plan; the caller becomes its owner."""
    if ctx.subject.user_id is None:
        raise Forbidden("only a person can create an organization")
    owner = await session.get(User, ctx.subject.user_id)
    assert owner is not None
    org = await service.create_organization(session, ctx, body, owner=owner)
    return service.to_read(org, "owner")


@router.get("/{org}", name="organization.get", operation_id="getOrganization")
async def get_organization(org: Org, ctx: Caller) -> OrganizationRead:
    return service.to_read(org, _role(ctx, org.id))


@router.patch("/{org}", name="organization.update", operation_id="updateOrganization")
async def update_organization(
    org: Org, body: OrganizationUpdate, ctx: Caller, session: DbSession
) -> OrganizationRead:
    updated = await service.update_organization(session, ctx, org, body)
    return service.to_read(updated, _role(ctx, org.id))


@router.delete(
    "/{org}",
    name="organization.delete",
    operation_id="deleteOrganization",
    status_code=status.HTTP_204_NO_CONTENT,
)
async def delete_organization(org: Org, ctx: Caller, session: DbSession) -> Response:
    """Delete an organization without workspaces (owners only)."""
    await service.delete_organization(session, ctx, org)
    return NO_CONTENT


@router.get("/{org}/members", name="member.list", operation_id="listMembers")
async def list_members(org: Org, ctx: Caller, session: DbSession) -> list[MemberRead]:
    return await service.list_members(session, ctx, org)


@router.patch("/{org}/members/{user_id}", name="member.update", operation_id="updateMember")
async def update_member(
    org: Org, user_id: uuid.UUID, body: MemberUpdate, ctx: Caller, session: DbSession
) -> MemberRead:
    """Change a member's organization role (only owners grant or take away 'owner')."""
    await service.update_member_role(session, ctx, org, user_id, body.role)
    members = await service.list_members(session, ctx, org)
    return next(m for m in members if m.user_id == user_id)


@router.delete(
    "/{org}/members/{user_id}",
    name="member.remove",
    operation_id="removeMember",
    status_code=status.HTTP_204_NO_CONTENT,
)
async def remove_member(org: Org, user_id: uuid.UUID, ctx: Caller, session: DbSession) -> Response:
    """Remove a member (a member may remove themselves to leave)."""
    await service.remove_member(session, ctx, org, user_id)
    return NO_CONTENT


@router.get("/{org}/invitations", name="invitation.list", operation_id="listInvitations")
async def list_invitations(
    org: Org, ctx: Caller, session: DbSession, state: State
) -> list[InvitationRead]:
    rows = await state.invitations.list(session, ctx, org)
    return [InvitationRead.model_validate(row) for row in rows]


@router.post(
    "/{org}/invitations",
    name="invitation.create",
    operation_id="createInvitation",
    status_code=status.HTTP_201_CREATED,
)
async def create_invitation(
    org: Org, body: InvitationCreate, ctx: Caller, session: DbSession, state: State
) -> InvitationCreated:
    """Invite someone by email; the token in the answer is shown only once."""
    invitation, token = await state.invitations.create(session, ctx, org, body)
    read = InvitationRead.model_validate(invitation)
    return InvitationCreated(**read.model_dump(), token=token)


@router.delete(
    "/{org}/invitations/{invitation_id}",
    name="invitation.revoke",
    operation_id="revokeInvitation",
    status_code=status.HTTP_204_NO_CONTENT,
)
async def revoke_invitation(
    org: Org, invitation_id: uuid.UUID, ctx: Caller, session: DbSession, state: State
) -> Response:
    await state.invitations.revoke(session, ctx, org, str(invitation_id))
    return NO_CONTENT


@invitations_router.post("/accept", name="invitation.accept", operation_id="acceptInvitation")
async def accept_invitation(
    body: InvitationAccept, ctx: OptionalCaller, session: DbSession, state: State
) -> OrganizationRead:
    """Accept an invitation: signed in (the invitation's email must be yours), or with a name
    and password to create the invited account."""
    org, role = await state.invitations.accept(session, ctx, body)
    return service.to_read(org, role)
