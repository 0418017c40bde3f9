"""Refresh tokens with rotation and reuse detection.

A login opens a family. Each refresh atomically marks the presented token used and issues the
next one in the same family. Presenting a token that was already used means it leaked (or the
client is replaying): the whole family is revoked, and so are the access tokens issued for it.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import timedelta

from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncSession

from platform_core.auth.models import RefreshToken
from platform_core.auth.secrets import new_secret, secret_hash
from platform_core.db.base import utcnow
from platform_core.errors import Unauthenticated

REFRESH_PREFIX = "hxr"


@dataclass(frozen=True)
class Rotation:
    user_id: uuid.UUID
    family_id: uuid.UUID
    token: str


class RefreshTokens:
    def __init__(self, *, secret_key: str, ttl_seconds: int) -> None:
        self._key = secret_key
        self._ttl = timedelta(seconds=ttl_seconds)

    def _hash(self, token: str) -> str:
        return secret_hash(self._key, token)

    async def issue(
        self, session: AsyncSession, user_id: uuid.UUID, family_id: uuid.UUID | None = None
    ) -> Rotation:
        family = family_id or uuid.uuid4()
        token = new_secret(REFRESH_PREFIX)
        session.add(
            RefreshToken(
                family_id=family,
                user_id=user_id,
                token_hash=self._hash(token),
                expires_at=utcnow() + self._ttl,
            )
        )
        await session.flush()
        return Rotation(user_id=user_id, family_id=family, token=token)

    async def rotate(self, session: AsyncSession, token: str) -> Rotation | RefreshToken:
        """Use ``token`` once. Returns the next token, or the reused row when it was replayed."""
        now = utcnow()
        row = await session.scalar(
            select(RefreshToken).where(RefreshToken.token_hash == self._hash(token))
        )
        if row is None or row.revoked_at is not None:
            raise Unauthenticated("the refresh token is invalid or revoked")
        if row.expires_at <= now:
            raise Unauthenticated("the refresh token has expired; sign in again")
        claimed = await session.execute(
            update(RefreshToken)
            .where(RefreshToken.id == row.id, RefreshToken.used_at.is_(None))
            .values(used_at=now)
        )
        if claimed.rowcount != 1:  # type: ignore[attr-defined]
            return row
        return await self.issue(session, row.user_id, row.family_id)

    async def revoke_family(self, session: AsyncSession, family_id: uuid.UUID) -> None:
        await session.execute(
            update(RefreshToken)
            .where(RefreshToken.family_id == family_id, RefreshToken.revoked_at.is_(None))
            .values(revoked_at=utcnow())
        )

    async def family_of(self, session: AsyncSession, token: str) -> RefreshToken | None:
        return await session.scalar(
            select(RefreshToken).where(RefreshToken.token_hash == self._hash(token))
        )
