"""The key-value store: Redis by URL, or an in-process Redis (fakeredis) for ``memory://``.

Sessions, locks, rate limits and token revocation all live here. Keys are prefixed with the
configured namespace so several deployments (or test runs) can share one Redis.
"""

from __future__ import annotations

from typing import Any

import fakeredis
from redis.asyncio import Redis

# One in-process server per process, so every client created for ``memory://`` sees the same data.
_MEMORY_SERVER: Any = None


def create_redis(url: str, *, max_connections: int = 1000) -> Redis:
    """A client for ``url``; ``memory://`` gives the process-wide in-process server.

    ``max_connections`` bounds the client's pool: past it a command fails at once, so it must
    cover every chat client blocked reading a turn's stream from Redis, those following a turn
    run by another replica (redis-py's own default is 100).
    """
    global _MEMORY_SERVER
    if url.startswith("memory://"):
        if _MEMORY_SERVER is None:
            _MEMORY_SERVER = fakeredis.FakeServer()
        client: Redis = fakeredis.FakeAsyncRedis(
            server=_MEMORY_SERVER, decode_responses=True, max_connections=max_connections
        )
        return client
    return Redis.from_url(
        url,
        decode_responses=True,
        socket_timeout=5,
        socket_connect_timeout=5,
        max_connections=max_connections,
    )


class KeySpace:
    """Builds namespaced keys: ``KeySpace("aiops").key("revoked", "sid", sid)``."""

    def __init__(self, namespace: str) -> None:
        self.namespace = namespace

    def key(self, *parts: str) -> str:
        return ":".join((self.namespace, *parts))
