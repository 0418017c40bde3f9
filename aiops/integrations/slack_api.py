"""``/api/v1/integrations/slack``: linking the caller's Slack account, explicitly.

A signed-in person asks for a one-time code here and sends it to the bot in a Slack direct
message (``link <code>``); only then does that Slack account act as them, in the organization
the code was made for. Links are listed and removed here by their owner. API keys and service
tokens cannot link: a Slack account stands for a person.
"""

from __future__ import annotations

import uuid
from datetime import datetime

from fastapi import APIRouter, Request, Response, status
from pydantic import BaseModel, ConfigDict, Field
from sqlalchemy import select

from aiops.http.deps import Caller, DbSession, State
from aiops.slack.linking import PROVIDER, LinkCodes
from platform_core.audit.service import record
from platform_core.context import CallContext
from platform_core.errors import Forbidden, NotFound
from platform_core.integrations.models import ChatLink
from platform_core.tenancy.repository import resolve_org

router = APIRouter(prefix="/api/v1/integrations/slack", tags=["integrations"])


class LinkCodeCreate(BaseModel):
    model_config = ConfigDict(extra="forbid")

    organization: str = Field(
        min_length=1, max_length=63, description="Organization id or name the link acts in"
    )


class LinkCodeCreated(BaseModel):
    code: str = Field(description="Send it to the bot in a Slack DM: 'link <code>'")
    expires_at: datetime
    organization_id: uuid.UUID
    organization: str
    instructions: str


class SlackLinkRead(BaseModel):
    id: uuid.UUID
    team_id: str
    slack_user_id: str
    organization_id: uuid.UUID
    created_at: datetime


def _person(ctx: CallContext) -> uuid.UUID:
    subject = ctx.subject
    if subject.kind != "user" or subject.user_id is None:
        raise Forbidden("only a person signed in with their own account can link Slack")
    return subject.user_id


def _read(link: ChatLink) -> SlackLinkRead:
    return SlackLinkRead(
        id=link.id,
        team_id=link.team_id,
        slack_user_id=link.external_user_id,
        organization_id=link.organization_id,
        created_at=link.created_at,
    )


@router.post(
    "/link-codes",
    name="slack.link_code",
    operation_id="createSlackLinkCode",
    status_code=status.HTTP_201_CREATED,
)
async def create_link_code(
    body: LinkCodeCreate, request: Request, ctx: Caller, db: DbSession, state: State
) -> LinkCodeCreated:
    """A one-time code (10 minutes) that links the caller's Slack account in an organization.

    The code is shown only in this answer and stored only as an HMAC.
    """
    user_id = _person(ctx)
    org = await resolve_org(db, ctx.subject, body.organization)
    request.state.audit_org_id = org.id
    codes = LinkCodes(state.redis, state.keyspace, state.settings.secret_key.get_secret_value())
    issued = await codes.issue(user_id=user_id, organization_id=org.id)
    record(
        db,
        ctx,
        action="slack.link_code",
        organization_id=org.id,
        target_type="user",
        target_id=user_id,
        details={"expires_at": issued.expires_at.isoformat()},
    )
    return LinkCodeCreated(
        code=issued.code,
        expires_at=issued.expires_at,
        organization_id=org.id,
        organization=org.name,
        instructions=(
            f"In Slack, send the bot a direct message: 'link {issued.code}'. The code works "
            "once, within 10 minutes; the link acts as you, with your rights, in "
            f"organization {org.name}."
        ),
    )


@router.get("/links", name="slack.link_list", operation_id="listSlackLinks")
async def list_links(ctx: Caller, db: DbSession) -> list[SlackLinkRead]:
    """The caller's linked Slack accounts."""
    user_id = _person(ctx)
    rows = await db.scalars(
        select(ChatLink)
        .where(ChatLink.provider == PROVIDER, ChatLink.user_id == user_id)
        .order_by(ChatLink.created_at)
    )
    return [_read(row) for row in rows]


@router.delete(
    "/links/{link_id}",
    name="slack.link_delete",
    operation_id="deleteSlackLink",
    status_code=status.HTTP_204_NO_CONTENT,
)
async def delete_link(link_id: uuid.UUID, request: Request, ctx: Caller, db: DbSession) -> Response:
    """Unlink a Slack account of the caller's; it stops acting for them at once."""
    user_id = _person(ctx)
    link = await db.get(ChatLink, link_id)
    if link is None or link.provider != PROVIDER or link.user_id != user_id:
        raise NotFound("link not found")
    request.state.audit_org_id = link.organization_id
    record(
        db,
        ctx,
        action="slack.link_delete",
        organization_id=link.organization_id,
        target_type="slack_link",
        target_id=link.id,
        details={"team_id": link.team_id, "slack_user_id": link.external_user_id},
    )
    await db.delete(link)
    return Response(status_code=status.HTTP_204_NO_CONTENT)
