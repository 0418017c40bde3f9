"""Reading and writing the agent settings; the API key is stored encrypted."""

from __future__ import annotations

import uuid

from sqlalchemy.ext.asyncio import AsyncSession

from platform_core.agent_settings.models import AgentSettings
from platform_core.agent_settings.schemas import AgentSettingsRead, AgentSettingsUpdate
from platform_core.audit.service import record
from platform_core.auth.secrets import SecretBox
from platform_core.context import CallContext
from platform_core.rbac.authorize import require
from platform_core.tenancy.models import Organization
from platform_core.tenancy.repository import org_resource


def to_read(row: AgentSettings | None) -> AgentSettingsRead:
    if row is None:
        return AgentSettingsRead(
            provider=None,
            model=None,
            base_url=None,
            api_key_set=False,
            read_only=False,
            updated_at=None,
        )
    return AgentSettingsRead(
        provider=row.provider,
        model=row.model,
        base_url=row.base_url,
        api_key_set=row.api_key_encrypted is not None,
        read_only=row.read_only,
        updated_at=row.updated_at,
    )


async def get_settings(session: AsyncSession, organization_id: uuid.UUID) -> AgentSettings | None:
    return await session.get(AgentSettings, organization_id)


async def read_settings(
    session: AsyncSession, ctx: CallContext, org: Organization
) -> AgentSettingsRead:
    require(ctx.subject, "organization.read", org_resource(org), read_action="organization.read")
    return to_read(await get_settings(session, org.id))


async def update_settings(
    session: AsyncSession,
    ctx: CallContext,
    org: Organization,
    data: AgentSettingsUpdate,
    box: SecretBox,
) -> AgentSettingsRead:
    require(ctx.subject, "organization.update", org_resource(org), read_action="organization.read")
    row = await get_settings(session, org.id)
    if row is None:
        row = AgentSettings(organization_id=org.id)
        session.add(row)
    row.provider = data.provider
    row.model = data.model
    row.base_url = data.base_url
    if data.api_key is not None:
        row.api_key_encrypted = box.seal(data.api_key.get_secret_value())
    elif data.provider in (None, "offline"):
        row.api_key_encrypted = None
    row.read_only = data.read_only
    await session.flush()
    record(
        session,
        ctx,
        action="agent_settings.update",
        organization_id=org.id,
        target_type="organization",
        target_id=org.id,
        details=data.model_dump(exclude={"api_key"})
        | {"api_key_changed": data.api_key is not None},
    )
    return to_read(row)
