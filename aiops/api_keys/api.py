"""``/api/v1/organizations/{org}/api-keys``: credentials for bots and services."""

from __future__ import annotations

import uuid

from fastapi import APIRouter, status

from aiops.http.deps import Caller, DbSession, Org, State
from platform_core.auth import api_key_admin as service
from platform_core.auth.schemas import ApiKeyCreate, ApiKeyCreated, ApiKeyRead

router = APIRouter(prefix="/api/v1/organizations/{org}/api-keys", tags=["api-keys"])


@router.get("", name="api_key.list", operation_id="listApiKeys")
async def list_api_keys(
    org: Org, ctx: Caller, session: DbSession, state: State
) -> list[ApiKeyRead]:
    rows = await service.list_api_keys(session, state.auth.api_keys, ctx, org)
    return [ApiKeyRead.model_validate(row) for row in rows]


@router.post(
    "", name="api_key.create", operation_id="createApiKey", status_code=status.HTTP_201_CREATED
)
async def create_api_key(
    org: Org, body: ApiKeyCreate, ctx: Caller, session: DbSession, state: State
) -> ApiKeyCreated:
    """Create an API key; the key itself is in this answer only, store it now."""
    created = await service.create_api_key(session, state.auth.api_keys, ctx, org, body)
    read = ApiKeyRead.model_validate(created.row)
    return ApiKeyCreated(**read.model_dump(), key=created.key)


@router.delete("/{key_id}", name="api_key.revoke", operation_id="revokeApiKey")
async def revoke_api_key(
    org: Org, key_id: uuid.UUID, ctx: Caller, session: DbSession, state: State
) -> ApiKeyRead:
    """Revoke an API key; it stops working at once."""
    row = await service.revoke_api_key(session, state.auth.api_keys, ctx, org, str(key_id))
    return ApiKeyRead.model_validate(row)
