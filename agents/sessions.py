"""Conversation sessions in Redis (or the in-process Redis of ``memory://``).

A session holds the message history (langchain's own serialization), its title, owner,
organization, workspace and project, timestamps, the read-only flag and the approval it waits
for. It lives 24 hours after its last use (sliding TTL). Each owner has an index (a sorted set
by last use) for listing. A turn holds the session's lock: a second concurrent turn gets a clear
conflict instead of interleaving with the first.
"""

from __future__ import annotations

import json
import secrets
import time
import uuid
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from typing import Any

from langchain_core.messages import BaseMessage, messages_from_dict, messages_to_dict
from redis.asyncio import Redis

from platform_core.errors import Conflict, NotFound
from platform_core.kv import KeySpace

DEFAULT_TTL_SECONDS = 24 * 3600
LOCK_TTL_SECONDS = 600
_RELEASE = """
if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('DEL', KEYS[1]) end
return 0
"""


@dataclass
class Session:
    id: str
    owner_id: str
    organization_id: str
    title: str
    created_at: float
    updated_at: float
    workspace: str | None = None
    project: str | None = None
    read_only: bool = False
    messages: list[BaseMessage] = field(default_factory=list)
    summary: str | None = None
    pending_approval: str | None = None

    def to_json(self) -> str:
        data: dict[str, Any] = {
            key: value for key, value in self.__dict__.items() if key != "messages"
        }
        data["messages"] = messages_to_dict(self.messages)
        return json.dumps(data)

    @classmethod
    def from_json(cls, text: str) -> Session:
        data = json.loads(text)
        data["messages"] = messages_from_dict(data.get("messages", []))
        return cls(**data)


class SessionStore:
    def __init__(self, redis: Redis, keys: KeySpace, *, ttl_seconds: int = DEFAULT_TTL_SECONDS):
        self._redis = redis
        self._keys = keys
        self.ttl = ttl_seconds
        self._release = redis.register_script(_RELEASE)

    def _key(self, session_id: str) -> str:
        return self._keys.key("session", session_id)

    def _index(self, organization_id: str, owner_id: str) -> str:
        return self._keys.key("sessions", organization_id, owner_id)

    async def create(
        self,
        *,
        owner_id: str,
        organization_id: str,
        title: str = "New conversation",
        workspace: str | None = None,
        project: str | None = None,
        read_only: bool = False,
    ) -> Session:
        now = time.time()
        session = Session(
            id=uuid.uuid4().hex,
            owner_id=owner_id,
            organization_id=organization_id,
            title=title,
            created_at=now,
            updated_at=now,
            workspace=workspace,
            project=project,
            read_only=read_only,
        )
        await self.save(session)
        return session

    async def save(self, session: Session) -> None:
        """Store the session and restart its TTL (the sliding 24 hours)."""
        session.updated_at = time.time()
        index = self._index(session.organization_id, session.owner_id)
        async with self._redis.pipeline(transaction=True) as pipe:
            pipe.set(self._key(session.id), session.to_json(), ex=self.ttl)
            pipe.zadd(index, {session.id: session.updated_at})
            pipe.expire(index, self.ttl)
            await pipe.execute()

    async def load(self, session_id: str) -> Session | None:
        raw = await self._redis.get(self._key(session_id))
        return Session.from_json(str(raw)) if raw else None

    async def get_for(self, session_id: str, *, owner_id: str, organization_id: str) -> Session:
        """The session if it belongs to this owner in this organization; otherwise not found."""
        session = await self.load(session_id)
        if (
            session is None
            or session.owner_id != owner_id
            or session.organization_id != organization_id
        ):
            raise NotFound("session not found (sessions expire after 24 hours without use)")
        return session

    async def list_for(
        self, *, owner_id: str, organization_id: str, limit: int = 50
    ) -> list[Session]:
        index = self._index(organization_id, owner_id)
        ids = [str(item) for item in await self._redis.zrevrange(index, 0, limit - 1)]
        sessions = []
        stale = []
        for session_id in ids:
            session = await self.load(session_id)
            if session is None:
                stale.append(session_id)
            else:
                sessions.append(session)
        if stale:
            await self._redis.zrem(index, *stale)
        return sessions

    async def delete(self, session: Session) -> None:
        async with self._redis.pipeline(transaction=True) as pipe:
            pipe.delete(self._key(session.id))
            pipe.zrem(self._index(session.organization_id, session.owner_id), session.id)
            await pipe.execute()

    async def acquire(self, session_id: str) -> str:
        """Hold the session for one turn; a concurrent turn gets a Conflict at once.

        Returns the token that releases it. The lock expires on its own if its holder dies.
        """
        token = secrets.token_hex(8)
        key = self._keys.key("session-lock", session_id)
        if not await self._redis.set(key, token, nx=True, ex=LOCK_TTL_SECONDS):
            raise Conflict("this conversation is already answering; wait for it to finish")
        return token

    async def release(self, session_id: str, token: str) -> None:
        """Let go of the session, if this token still holds it."""
        await self._release(keys=[self._keys.key("session-lock", session_id)], args=[token])

    @asynccontextmanager
    async def turn_lock(self, session_id: str) -> AsyncIterator[None]:
        token = await self.acquire(session_id)
        try:
            yield
        finally:
            await self.release(session_id, token)
