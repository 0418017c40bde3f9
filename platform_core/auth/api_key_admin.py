"""Managing an organization's API keys on behalf of a caller (authorized and audited)."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy.ext.asyncio import AsyncSession

from platform_core.audit.service import record
from platform_core.auth.api_keys import ApiKeys, NewApiKey
from platform_core.auth.models import ApiKey
from platform_core.auth.schemas import ApiKeyCreate
from platform_core.context import CallContext
from platform_core.db.base import utcnow
from platform_core.rbac.authorize import require
from platform_core.tenancy.models import Organization
from platform_core.tenancy.repository import org_resource, resolve_workspace


def _require(ctx: CallContext, org: Organization, action: str) -> None:
    require(ctx.subject, action, org_resource(org, "api_key"), read_action="organization.read")


async def create_api_key(
    session: AsyncSession, keys: ApiKeys, ctx: CallContext, org: Organization, data: ApiKeyCreate
) -> NewApiKey:
    _require(ctx, org, "api_key.manage")
    workspace_id = None
    if data.workspace is not None:
        workspace_id = (await resolve_workspace(session, ctx.subject, org, data.workspace)).id
    expires_at = utcnow() + timedelta(days=data.expires_in_days) if data.expires_in_days else None
    created = await keys.create(
        session,
        organization_id=org.id,
        name=data.name,
        role=data.role,
        created_by=ctx.subject.user_id,
        workspace_id=workspace_id,
        workspace_role=data.workspace_role,
        expires_at=expires_at,
    )
    record(
        session,
        ctx,
        action="api_key.create",
        organization_id=org.id,
        target_type="api_key",
        target_id=created.row.id,
        details={"name": data.name, "role": data.role, "prefix": created.row.prefix},
    )
    return created


async def list_api_keys(
    session: AsyncSession, keys: ApiKeys, ctx: CallContext, org: Organization
) -> list[ApiKey]:
    _require(ctx, org, "api_key.read")
    return await keys.list(session, org.id)


async def revoke_api_key(
    session: AsyncSession, keys: ApiKeys, ctx: CallContext, org: Organization, key_id: str
) -> ApiKey:
    _require(ctx, org, "api_key.manage")
    row = await keys.revoke(session, org.id, key_id)
    record(
        session,
        ctx,
        action="api_key.revoke",
        organization_id=org.id,
        target_type="api_key",
        target_id=row.id,
        details={"name": row.name, "prefix": row.prefix},
    )
    return row
