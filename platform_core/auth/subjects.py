"""Rebuild a subject from what was stored about it (an approval resumes as its requester).

The rights are read fresh: someone who lost access between asking and the approval does not
regain it through the approval.
"""

from __future__ import annotations

import uuid

from sqlalchemy.ext.asyncio import AsyncSession

from platform_core.auth.api_keys import api_key_subject
from platform_core.auth.grants import load_user_grants
from platform_core.auth.models import ApiKey
from platform_core.errors import Unauthenticated
from platform_core.rbac.subject import Subject
from platform_core.tenancy.models import User


async def load_subject(session: AsyncSession, kind: str, subject_id: str) -> Subject:
    try:
        key = uuid.UUID(subject_id)
    except ValueError:
        raise Unauthenticated("the original requester is unknown") from None
    if kind == "api_key":
        row = await session.get(ApiKey, key)
        if row is None or row.revoked_at is not None:
            raise Unauthenticated("the API key that asked has been revoked")
        return api_key_subject(row)
    user = await session.get(User, key)
    if user is None or not user.is_active:
        raise Unauthenticated("the person who asked no longer has an active account")
    return Subject(
        kind="user",
        id=str(user.id),
        grants=await load_user_grants(session, user.id),
        user_id=user.id,
        email=user.email,
        name=user.name,
    )
