"""The service's long-lived components, built once at start-up from the settings."""

from __future__ import annotations

from dataclasses import dataclass

from redis.asyncio import Redis

from platform_core.auth.keys import KeyRing
from platform_core.auth.service import AuthService
from platform_core.config import Settings
from platform_core.db import Database
from platform_core.kv import KeySpace, create_redis
from platform_core.tenancy.invitations import Invitations


@dataclass
class AppState:
    settings: Settings
    db: Database
    redis: Redis
    keyspace: KeySpace
    auth: AuthService
    invitations: Invitations

    @classmethod
    def build(cls, settings: Settings) -> AppState:
        redis = create_redis(settings.redis_url)
        keyspace = KeySpace(settings.redis_namespace)
        auth = AuthService(settings, KeyRing.from_settings(settings), redis, keyspace)
        return cls(
            settings=settings,
            db=Database(settings.resolved_database_url, pool_size=settings.database_pool_size),
            redis=redis,
            keyspace=keyspace,
            auth=auth,
            invitations=Invitations(
                secret_key=settings.secret_key.get_secret_value(),
                ttl_hours=settings.invitation_ttl_hours,
                passwords=auth.passwords,
            ),
        )

    async def close(self) -> None:
        await self.db.dispose()
        await self.redis.aclose()
