"""Invitations to an organization: a token (shown once), an expiry, and acceptance."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from platform_core.audit.service import record
from platform_core.auth.passwords import Passwords
from platform_core.auth.secrets import new_secret, secret_hash
from platform_core.context import CallContext
from platform_core.db.base import utcnow
from platform_core.errors import Conflict, Forbidden, InvalidInput, NotFound, Unauthenticated
from platform_core.rbac.authorize import require
from platform_core.rbac.roles import OrgRole
from platform_core.tenancy.models import Invitation, Membership, Organization, User
from platform_core.tenancy.organizations import add_member
from platform_core.tenancy.repository import org_resource, parse_id, user_by_email
from platform_core.tenancy.schemas import InvitationAccept, InvitationCreate
from platform_core.tenancy.users import create_user

INVITATION_PREFIX = "hxi"


class Invitations:
    def __init__(self, *, secret_key: str, ttl_hours: int, passwords: Passwords) -> None:
        self._key = secret_key
        self._ttl = timedelta(hours=ttl_hours)
        self._passwords = passwords

    async def create(
        self, session: AsyncSession, ctx: CallContext, org: Organization, data: InvitationCreate
    ) -> tuple[Invitation, str]:
        resource = org_resource(org, "invitation")
        require(ctx.subject, "invitation.manage", resource, read_action="organization.read")
        if data.role == "owner":
            require(ctx.subject, "member.manage_owner", resource, read_action="organization.read")
        email = data.email.lower()
        existing = await user_by_email(session, email)
        member = (
            await session.get(Membership, (org.id, existing.id)) if existing is not None else None
        )
        if member is not None:
            raise Conflict("this person is already a member", details={"email": email})
        token = new_secret(INVITATION_PREFIX)
        invitation = Invitation(
            organization_id=org.id,
            email=email,
            role=data.role,
            token_hash=secret_hash(self._key, token),
            invited_by_id=ctx.subject.user_id,
            expires_at=utcnow() + self._ttl,
        )
        session.add(invitation)
        await session.flush()
        record(
            session,
            ctx,
            action="invitation.create",
            organization_id=org.id,
            target_type="invitation",
            target_id=invitation.id,
            details={"email": email, "role": data.role},
        )
        return invitation, token

    async def list(
        self, session: AsyncSession, ctx: CallContext, org: Organization
    ) -> list[Invitation]:
        require(
            ctx.subject,
            "invitation.read",
            org_resource(org, "invitation"),
            read_action="organization.read",
        )
        rows = await session.scalars(
            select(Invitation)
            .where(Invitation.organization_id == org.id)
            .order_by(Invitation.created_at.desc())
        )
        return list(rows)

    async def revoke(
        self, session: AsyncSession, ctx: CallContext, org: Organization, invitation_id: str
    ) -> Invitation:
        require(
            ctx.subject,
            "invitation.manage",
            org_resource(org, "invitation"),
            read_action="organization.read",
        )
        invitation = await session.scalar(
            select(Invitation).where(
                Invitation.organization_id == org.id,
                Invitation.id == parse_id(invitation_id, "invitation"),
            )
        )
        if invitation is None:
            raise NotFound("invitation not found")
        if invitation.accepted_at is not None:
            raise Conflict("the invitation was already accepted")
        invitation.revoked_at = invitation.revoked_at or utcnow()
        record(
            session,
            ctx,
            action="invitation.revoke",
            organization_id=org.id,
            target_type="invitation",
            target_id=invitation.id,
        )
        return invitation

    async def accept(
        self, session: AsyncSession, ctx: CallContext, data: InvitationAccept
    ) -> tuple[Organization, OrgRole]:
        """Accept as the signed-in user, or create the invited account when not signed in."""
        invitation = await session.scalar(
            select(Invitation).where(Invitation.token_hash == secret_hash(self._key, data.token))
        )
        if invitation is None or invitation.revoked_at is not None:
            raise NotFound("invitation not found or revoked")
        if invitation.accepted_at is not None:
            raise Conflict("the invitation was already accepted")
        if invitation.expires_at <= utcnow():
            raise Conflict("the invitation has expired; ask for a new one")
        user = await self._accepting_user(session, ctx, invitation, data)
        org = await session.get(Organization, invitation.organization_id)
        if org is None:  # pragma: no cover - cascades delete invitations with the organization
            raise NotFound("invitation not found or revoked")
        role = _org_role(invitation.role)
        await add_member(session, org, user, role)
        invitation.accepted_at = utcnow()
        invitation.accepted_by_id = user.id
        record(
            session,
            ctx,
            action="invitation.accept",
            organization_id=org.id,
            target_type="invitation",
            target_id=invitation.id,
            details={"user_id": str(user.id), "role": invitation.role},
        )
        return org, role

    async def _accepting_user(
        self,
        session: AsyncSession,
        ctx: CallContext,
        invitation: Invitation,
        data: InvitationAccept,
    ) -> User:
        if ctx.subject.user_id is not None:
            user = await session.get(User, ctx.subject.user_id)
            if user is None or user.email != invitation.email:
                raise Forbidden("this invitation was sent to a different email address")
            return user
        if await user_by_email(session, invitation.email) is not None:
            raise Unauthenticated("an account with this email exists: sign in, then accept")
        if not data.name or not data.password:
            raise InvalidInput(
                "to accept without signing in, choose a name and a password",
                details={"fields": ["name", "password"]},
            )
        return await create_user(
            session, self._passwords, email=invitation.email, name=data.name, password=data.password
        )


def _org_role(role: str) -> OrgRole:
    if role not in ("owner", "admin", "member"):  # pragma: no cover - validated on creation
        raise InvalidInput(f"unknown role {role!r}")
    return role  # type: ignore[return-value]
