"""Linking a Slack account to a platform user, explicitly, with a one-time code.

The platform user, signed in, asks for a code (REST); the same person sends it to the bot in a
direct message. Only then does that Slack account (per Slack team) act as that user in that
organization. Codes are random (50 bits), live 10 minutes, are stored only as an HMAC and are
consumed atomically on first use; redeeming is rate limited per Slack account. Nothing is ever
matched by display name or email.

``linked_caller`` rebuilds the platform caller of a Slack account on every message and click,
with rights read fresh: a link whose user left the organization or was deactivated acts as no
link at all.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import re
import secrets
import uuid
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from redis.asyncio import Redis
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from platform_core.auth.subjects import load_subject
from platform_core.context import CallContext
from platform_core.db import Database
from platform_core.errors import Unauthenticated
from platform_core.integrations.models import ChatLink
from platform_core.kv import KeySpace
from platform_core.tenancy.models import Organization

PROVIDER = "slack"
CODE_TTL_SECONDS = 10 * 60
CODE_LENGTH = 10
# No 0/O, 1/I/L: a code is read off one screen and typed into another.
ALPHABET = "ABCDEFGHJKMNPQRSTUVWXYZ23456789"
CODE_SHAPE = re.compile(r"^[A-Z0-9]{4,32}$")


@dataclass(frozen=True)
class IssuedCode:
    code: str
    expires_at: datetime


@dataclass(frozen=True)
class CodeOwner:
    user_id: uuid.UUID
    organization_id: uuid.UUID


def normalize_code(text: str) -> str:
    """Codes are shown as ``ABCDE-FGHJK``; people may type them any case, with or without dash."""
    return re.sub(r"[\s-]", "", text).upper()


class LinkCodes:
    """One-time link codes in Redis, stored under an HMAC of the code (never the code)."""

    def __init__(self, redis: Redis, keys: KeySpace, secret: str) -> None:
        self._redis = redis
        self._keys = keys
        self._secret = secret.encode()

    def _key(self, code: str) -> str:
        digest = hmac.new(self._secret, normalize_code(code).encode(), hashlib.sha256)
        return self._keys.key("slack", "link-code", digest.hexdigest())

    async def issue(self, *, user_id: uuid.UUID, organization_id: uuid.UUID) -> IssuedCode:
        raw = "".join(secrets.choice(ALPHABET) for _ in range(CODE_LENGTH))
        owner = {"user_id": str(user_id), "organization_id": str(organization_id)}
        await self._redis.set(self._key(raw), json.dumps(owner), ex=CODE_TTL_SECONDS)
        half = CODE_LENGTH // 2
        return IssuedCode(
            code=f"{raw[:half]}-{raw[half:]}",
            expires_at=datetime.now(UTC) + timedelta(seconds=CODE_TTL_SECONDS),
        )

    async def redeem(self, code: str) -> CodeOwner | None:
        """Whose code this is, consuming it; ``None`` if unknown, expired or already used."""
        normalized = normalize_code(code)
        if not CODE_SHAPE.match(normalized):
            return None
        raw = await self._redis.getdel(self._key(normalized))
        if not raw:
            return None
        data = json.loads(str(raw))
        return CodeOwner(
            user_id=uuid.UUID(data["user_id"]), organization_id=uuid.UUID(data["organization_id"])
        )

    async def void(self, code: str) -> None:
        """Throw a code away (it was shown where others could read it)."""
        normalized = normalize_code(code)
        if CODE_SHAPE.match(normalized):
            await self._redis.delete(self._key(normalized))


async def find_link(session: AsyncSession, team_id: str, slack_user_id: str) -> ChatLink | None:
    link: ChatLink | None = await session.scalar(
        select(ChatLink).where(
            ChatLink.provider == PROVIDER,
            ChatLink.team_id == team_id,
            ChatLink.external_user_id == slack_user_id,
        )
    )
    return link


async def save_link(
    session: AsyncSession, team_id: str, slack_user_id: str, owner: CodeOwner
) -> ChatLink:
    """Link (or re-link) the Slack account; one platform user per Slack account and team."""
    link = await find_link(session, team_id, slack_user_id)
    if link is None:
        link = ChatLink(
            provider=PROVIDER,
            team_id=team_id,
            external_user_id=slack_user_id,
            user_id=owner.user_id,
            organization_id=owner.organization_id,
        )
        session.add(link)
    else:
        link.user_id = owner.user_id
        link.organization_id = owner.organization_id
    await session.flush()
    return link


@dataclass(frozen=True)
class LinkedCaller:
    """A Slack account resolved to the platform user it acts as, in the linked organization."""

    link_id: uuid.UUID
    call: CallContext
    organization: Organization

    @property
    def name(self) -> str:
        subject = self.call.subject
        return subject.name or subject.display


async def caller_for(
    session: AsyncSession, user_id: uuid.UUID, organization_id: uuid.UUID, request_id: str
) -> tuple[CallContext, Organization] | None:
    """The user's context with fresh rights, if still an active member of the organization."""
    try:
        subject = await load_subject(session, "user", str(user_id))
    except Unauthenticated:
        return None
    organization = await session.get(Organization, organization_id)
    if organization is None or organization.id not in subject.grants.orgs:
        return None
    return CallContext(subject=subject, request_id=request_id), organization


async def linked_caller(
    db: Database, team_id: str, slack_user_id: str, *, request_id: str
) -> LinkedCaller | None:
    """Who this Slack account acts as; ``None`` when it is not (or no longer) linked."""
    async with db.session() as session:
        link = await find_link(session, team_id, slack_user_id)
        if link is None:
            return None
        found = await caller_for(session, link.user_id, link.organization_id, request_id)
    if found is None:
        return None
    call, organization = found
    return LinkedCaller(link_id=link.id, call=call, organization=organization)
