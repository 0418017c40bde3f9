"""Sliding-window rate limits in Redis.

Each bucket is a sorted set of request timestamps; one Lua script drops the ones older than the
window, counts the rest and admits the request if under the limit, atomically, so several
service replicas share one exact limit. A refused request learns when the oldest counted request
leaves the window (``retry_after``).
"""

from __future__ import annotations

import math
import secrets
import time
from dataclasses import dataclass

from redis.asyncio import Redis

from platform_core.kv import KeySpace

_SCRIPT = """
local key = KEYS[1]
local now = tonumber(ARGV[1])
local window = tonumber(ARGV[2])
local limit = tonumber(ARGV[3])
redis.call('ZREMRANGEBYSCORE', key, '-inf', now - window)
local count = redis.call('ZCARD', key)
if count < limit then
  redis.call('ZADD', key, now, ARGV[4])
  redis.call('PEXPIRE', key, window)
  return {1, limit - count - 1, 0}
end
local oldest = redis.call('ZRANGE', key, 0, 0, 'WITHSCORES')
return {0, 0, window - (now - tonumber(oldest[2]))}
"""


@dataclass(frozen=True)
class Decision:
    allowed: bool
    limit: int
    remaining: int
    retry_after_seconds: int


class RateLimiter:
    def __init__(self, redis: Redis, keys: KeySpace) -> None:
        self._redis = redis
        self._keys = keys
        self._script = redis.register_script(_SCRIPT)

    async def hit(self, bucket: str, *, limit: int, window_seconds: int = 60) -> Decision:
        """Count one request against ``bucket`` and say whether it is admitted."""
        now_ms = int(time.time() * 1000)
        member = f"{now_ms}-{secrets.token_hex(4)}"
        allowed, remaining, retry_ms = await self._script(
            keys=[self._keys.key("ratelimit", bucket)],
            args=[now_ms, window_seconds * 1000, limit, member],
        )
        return Decision(
            allowed=bool(allowed),
            limit=limit,
            remaining=int(remaining),
            retry_after_seconds=max(1, math.ceil(int(retry_ms) / 1000)) if not allowed else 0,
        )
