"""API keys for bots and services: shown once, stored hashed, scoped to one organization."""

from __future__ import annotations

import secrets
import uuid
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from platform_core.auth.models import ApiKey
from platform_core.auth.secrets import secret_hash
from platform_core.db.base import utcnow
from platform_core.errors import NotFound, Unauthenticated
from platform_core.rbac.roles import OrgRole, WorkspaceRole
from platform_core.rbac.subject import Grants, Subject
from platform_core.tenancy.repository import parse_id

API_KEY_PREFIX = "hxa"
LAST_USED_RESOLUTION = timedelta(minutes=1)


def looks_like_api_key(credential: str) -> bool:
    return credential.startswith(f"{API_KEY_PREFIX}_")


@dataclass(frozen=True)
class NewApiKey:
    row: ApiKey
    key: str


class ApiKeys:
    def __init__(self, *, secret_key: str) -> None:
        self._key = secret_key

    async def create(
        self,
        session: AsyncSession,
        *,
        organization_id: uuid.UUID,
        name: str,
        role: OrgRole,
        created_by: uuid.UUID | None,
        workspace_id: uuid.UUID | None = None,
        workspace_role: WorkspaceRole | None = None,
        expires_at: datetime | None = None,
    ) -> NewApiKey:
        prefix = secrets.token_hex(6)
        key = f"{API_KEY_PREFIX}_{prefix}_{secrets.token_urlsafe(32)}"
        row = ApiKey(
            organization_id=organization_id,
            name=name,
            prefix=prefix,
            key_hash=secret_hash(self._key, key),
            role=role,
            workspace_id=workspace_id,
            workspace_role=workspace_role,
            created_by_id=created_by,
            expires_at=expires_at,
        )
        session.add(row)
        await session.flush()
        return NewApiKey(row=row, key=key)

    async def revoke(
        self, session: AsyncSession, organization_id: uuid.UUID, key_id: str
    ) -> ApiKey:
        row = await self.get(session, organization_id, key_id)
        if row.revoked_at is None:
            row.revoked_at = utcnow()
            await session.flush()
        return row

    async def get(self, session: AsyncSession, organization_id: uuid.UUID, key_id: str) -> ApiKey:
        row = await session.get(ApiKey, parse_id(key_id, "api key"))
        if row is None or row.organization_id != organization_id:
            raise NotFound("api key not found")
        return row

    async def list(self, session: AsyncSession, organization_id: uuid.UUID) -> list[ApiKey]:
        rows = await session.scalars(
            select(ApiKey)
            .where(ApiKey.organization_id == organization_id)
            .order_by(ApiKey.created_at.desc())
        )
        return list(rows)

    async def authenticate(self, session: AsyncSession, key: str) -> Subject:
        row = await session.scalar(
            select(ApiKey).where(ApiKey.key_hash == secret_hash(self._key, key))
        )
        now = utcnow()
        if row is None or row.revoked_at is not None:
            raise Unauthenticated("the API key is invalid or revoked")
        if row.expires_at is not None and row.expires_at <= now:
            raise Unauthenticated("the API key has expired")
        if row.last_used_at is None or now - row.last_used_at > LAST_USED_RESOLUTION:
            row.last_used_at = now
        return api_key_subject(row)


def api_key_subject(row: ApiKey) -> Subject:
    workspaces: dict[uuid.UUID, WorkspaceRole] = {}
    if row.workspace_id is not None and row.workspace_role is not None:
        workspaces[row.workspace_id] = row.workspace_role  # type: ignore[assignment]
    grants = Grants(orgs={row.organization_id: row.role}, workspaces=workspaces)  # type: ignore[dict-item]
    return Subject(kind="api_key", id=str(row.id), grants=grants, name=row.name)
