"""``/api/v1/organizations/{org}/notification-channels``: where incidents are announced.

Channel settings are validated per kind (Slack incoming webhook, Slack bot, signed webhook,
e-mail over SMTP), stored encrypted, and only ever shown masked. ``POST .../{id}/test`` sends a
test notification and reports how the delivery went.
"""

from __future__ import annotations

import uuid
from typing import Annotated, Any

from fastapi import APIRouter, Path, status
from pydantic import BaseModel, ConfigDict, Field

from aiops.http.deps import Caller, DbSession, Org, State
from aiops.notifications.channels import Channel, parse_channel
from aiops.notifications.messages import EventKind, Notification
from platform_core.auth.secrets import SecretBox
from platform_core.db.base import utcnow
from platform_core.errors import InvalidInput
from platform_core.notifications import service
from platform_core.notifications.models import NotificationChannel
from platform_core.tenancy.models import Organization
from platform_core.tenancy.repository import find_workspace

router = APIRouter(
    prefix="/api/v1/organizations/{org}/notification-channels", tags=["notifications"]
)
ChannelId = Annotated[uuid.UUID, Path(description="Channel id")]


class ChannelWrite(BaseModel):
    model_config = ConfigDict(extra="forbid")

    name: str = Field(min_length=1, max_length=100)
    settings: Channel = Field(description="Per kind: slack_webhook, slack_bot, webhook, email")
    workspace: str | None = Field(
        default=None, max_length=63, description="Only this workspace's incidents (id or name)"
    )
    events: list[EventKind] = Field(
        default_factory=list, max_length=7, description="Only these events (empty: all)"
    )
    enabled: bool = True


class ChannelRead(BaseModel):
    id: str
    name: str
    kind: str
    workspace_id: str | None
    events: list[str]
    enabled: bool
    settings: dict[str, Any] | None = Field(description="Secrets masked; null if unreadable")
    last_delivery_at: str | None
    last_delivery_error: str | None


class DeliveryRead(BaseModel):
    ok: bool
    attempts: int
    status: int | None
    error: str | None
    target: str


def _box(state: State) -> SecretBox:
    return SecretBox(state.settings.secret_key.get_secret_value(), service.BOX_PURPOSE)


def _read(row: NotificationChannel, box: SecretBox) -> ChannelRead:
    plain = service.open_settings(box, row)
    view = None
    if plain is not None:
        try:
            view = parse_channel(plain).public_view()
        except ValueError:
            view = None
    return ChannelRead(
        id=str(row.id),
        name=row.name,
        kind=row.kind,
        workspace_id=str(row.workspace_id) if row.workspace_id else None,
        events=list(row.events),
        enabled=row.enabled,
        settings=view,
        last_delivery_at=row.last_delivery_at.isoformat() if row.last_delivery_at else None,
        last_delivery_error=row.last_delivery_error,
    )


async def _data(session: DbSession, org: Organization, body: ChannelWrite) -> service.ChannelData:
    workspace_id = None
    if body.workspace is not None:
        workspace = await find_workspace(session, org, body.workspace)
        if workspace is None:
            raise InvalidInput("no such workspace", details={"field": "workspace"})
        workspace_id = workspace.id
    return service.ChannelData(
        name=body.name,
        kind=body.settings.kind,
        settings=body.settings.to_storage(),
        workspace_id=workspace_id,
        events=list(body.events),
        enabled=body.enabled,
    )


@router.get("", name="notification_channel.list", operation_id="listNotificationChannels")
async def list_channels(
    org: Org, ctx: Caller, session: DbSession, state: State
) -> list[ChannelRead]:
    box = _box(state)
    return [_read(row, box) for row in await service.list_channels(session, ctx, org)]


@router.post(
    "",
    name="notification_channel.create",
    operation_id="createNotificationChannel",
    status_code=status.HTTP_201_CREATED,
)
async def create_channel(
    org: Org, body: ChannelWrite, ctx: Caller, session: DbSession, state: State
) -> ChannelRead:
    """Add a channel (organization admins)."""
    box = _box(state)
    row = await service.save_channel(session, ctx, org, await _data(session, org, body), box)
    return _read(row, box)


@router.get("/{channel_id}", name="notification_channel.get", operation_id="getNotificationChannel")
async def get_channel(
    org: Org, channel_id: ChannelId, ctx: Caller, session: DbSession, state: State
) -> ChannelRead:
    return _read(await service.get_channel(session, ctx, org, str(channel_id)), _box(state))


@router.put(
    "/{channel_id}", name="notification_channel.update", operation_id="updateNotificationChannel"
)
async def update_channel(
    org: Org,
    channel_id: ChannelId,
    body: ChannelWrite,
    ctx: Caller,
    session: DbSession,
    state: State,
) -> ChannelRead:
    """Replace a channel's settings (send the secrets again: they are never shown)."""
    box = _box(state)
    row = await service.get_channel(session, ctx, org, str(channel_id))
    row = await service.save_channel(
        session, ctx, org, await _data(session, org, body), box, existing=row
    )
    return _read(row, box)


@router.delete(
    "/{channel_id}",
    name="notification_channel.delete",
    operation_id="deleteNotificationChannel",
    status_code=status.HTTP_204_NO_CONTENT,
)
async def delete_channel(org: Org, channel_id: ChannelId, ctx: Caller, session: DbSession) -> None:
    await service.delete_channel(session, ctx, org, str(channel_id))


@router.post(
    "/{channel_id}/test", name="notification_channel.test", operation_id="testNotificationChannel"
)
async def test_channel(
    org: Org, channel_id: ChannelId, ctx: Caller, session: DbSession, state: State
) -> DeliveryRead:
    """Send a test notification through the channel now and say how it went."""
    box = _box(state)
    row = await service.get_channel(session, ctx, org, str(channel_id))
    plain = service.open_settings(box, row)
    if plain is None:
        raise InvalidInput("the stored settings cannot be read; save the channel again")
    note = Notification(
        event="incident_updated",
        organization=org.name,
        workspace="(test)",
        incident_id="test",
        title="Test notification from Hexabase AIOps",
        severity="info",
        summary=f"Sent by {ctx.subject.display} to check this channel.",
        occurred_at=utcnow(),
    )
    result = await state.remediation.send_test(parse_channel(plain), note)
    service.note_delivery(row, utcnow(), None if result.ok else result.error)
    return DeliveryRead(
        ok=result.ok,
        attempts=result.attempts,
        status=result.status,
        error=result.error,
        target=result.target,
    )
