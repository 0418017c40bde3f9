"""Notification channels: CRUD with the caller's rights; settings stay encrypted at rest.

The settings document is validated by the layer that knows how to deliver each kind (the
service's notification package); here it is an opaque JSON text, sealed before it is stored.
"""

from __future__ import annotations

import json
import uuid
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import or_, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from platform_core.audit.service import record
from platform_core.auth.secrets import SecretBox
from platform_core.context import CallContext
from platform_core.errors import Conflict, NotFound
from platform_core.notifications.models import NotificationChannel
from platform_core.rbac.authorize import require
from platform_core.tenancy.models import Organization
from platform_core.tenancy.repository import org_resource, parse_id

BOX_PURPOSE = "notification-channels"


@dataclass(frozen=True)
class ChannelData:
    """A channel as written by an admin: the settings are the plain JSON document."""

    name: str
    kind: str
    settings: dict[str, Any]
    workspace_id: uuid.UUID | None
    events: list[str]
    enabled: bool


def _require(ctx: CallContext, org: Organization, action: str) -> None:
    """Members know their organization exists: what they may not do is refused, not hidden."""
    require(
        ctx.subject,
        action,
        org_resource(org, kind="notification_channel"),
        read_action="organization.read",
    )


def open_settings(box: SecretBox, row: NotificationChannel) -> dict[str, Any] | None:
    """The plain settings, or None when they can no longer be decrypted."""
    plain = box.open(row.settings_encrypted)
    return None if plain is None else dict(json.loads(plain))


async def list_channels(
    session: AsyncSession, ctx: CallContext, org: Organization
) -> list[NotificationChannel]:
    _require(ctx, org, "notification_channel.read")
    rows = await session.scalars(
        select(NotificationChannel)
        .where(NotificationChannel.organization_id == org.id)
        .order_by(NotificationChannel.name)
    )
    return list(rows)


async def get_channel(
    session: AsyncSession, ctx: CallContext, org: Organization, channel_id: str
) -> NotificationChannel:
    _require(ctx, org, "notification_channel.read")
    row = await session.get(NotificationChannel, parse_id(channel_id, "notification channel"))
    if row is None or row.organization_id != org.id:
        raise NotFound("notification channel not found")
    return row


async def save_channel(
    session: AsyncSession,
    ctx: CallContext,
    org: Organization,
    data: ChannelData,
    box: SecretBox,
    existing: NotificationChannel | None = None,
) -> NotificationChannel:
    """Create a channel, or replace ``existing`` with ``data``."""
    _require(ctx, org, "notification_channel.manage")
    row = existing or NotificationChannel(id=uuid.uuid4(), organization_id=org.id)
    row.name = data.name
    row.kind = data.kind
    row.settings_encrypted = box.seal(json.dumps(data.settings, sort_keys=True))
    row.workspace_id = data.workspace_id
    row.events = list(data.events)
    row.enabled = data.enabled
    try:
        async with session.begin_nested():
            session.add(row)
            await session.flush()
    except IntegrityError:
        raise Conflict(f"a notification channel named {data.name!r} exists") from None
    record(
        session,
        ctx,
        action="notification_channel.update" if existing else "notification_channel.create",
        organization_id=org.id,
        target_type="notification_channel",
        target_id=row.id,
        details={"name": data.name, "kind": data.kind, "events": data.events},
    )
    return row


async def delete_channel(
    session: AsyncSession, ctx: CallContext, org: Organization, channel_id: str
) -> None:
    row = await get_channel(session, ctx, org, channel_id)
    _require(ctx, org, "notification_channel.manage")
    await session.delete(row)
    record(
        session,
        ctx,
        action="notification_channel.delete",
        organization_id=org.id,
        target_type="notification_channel",
        target_id=row.id,
        details={"name": row.name},
    )
    await session.flush()


async def channels_for(
    session: AsyncSession, organization_id: uuid.UUID, workspace_id: uuid.UUID, event: str
) -> list[NotificationChannel]:
    """The enabled channels that want ``event`` about this workspace (system use, no caller)."""
    rows = await session.scalars(
        select(NotificationChannel).where(
            NotificationChannel.organization_id == organization_id,
            NotificationChannel.enabled.is_(True),
            or_(
                NotificationChannel.workspace_id.is_(None),
                NotificationChannel.workspace_id == workspace_id,
            ),
        )
    )
    return [row for row in rows if not row.events or event in row.events]


def note_delivery(row: NotificationChannel, at: datetime, error: str | None) -> None:
    row.last_delivery_at = at
    row.last_delivery_error = error[:500] if error else None
