"""Revoked tokens and login sessions, checked in Redis on every request.

A revoked login session (refresh-token family) also kills the access tokens issued for it; the
entries expire when the last token they could concern would have expired anyway.
"""

from __future__ import annotations

from redis.asyncio import Redis

from platform_core.kv import KeySpace


class Revocations:
    def __init__(self, redis: Redis, keys: KeySpace, *, access_ttl: int) -> None:
        self._redis = redis
        self._keys = keys
        self._access_ttl = access_ttl

    def _session_key(self, session_id: str) -> str:
        return self._keys.key("revoked", "sid", session_id)

    def _token_key(self, jti: str) -> str:
        return self._keys.key("revoked", "jti", jti)

    async def revoke_session(self, session_id: str) -> None:
        await self._redis.set(self._session_key(session_id), "1", ex=self._access_ttl + 60)

    async def revoke_token(self, jti: str, *, ttl: int) -> None:
        await self._redis.set(self._token_key(jti), "1", ex=max(ttl, 1) + 60)

    async def is_revoked(self, *, jti: str, session_id: str | None) -> bool:
        keys = [self._token_key(jti)]
        if session_id:
            keys.append(self._session_key(session_id))
        return bool(await self._redis.exists(*keys))
