"""What the bot keeps in Redis, under the service's key space (``<namespace>:slack:...``).

* the agent session of each Slack thread, for as long as sessions live (sliding TTL);
* the messages already handled: Slack redelivers an event it thinks was not acknowledged in
  time, and the same message may reach the bot as a mention and as a direct message.
"""

from __future__ import annotations

from redis.asyncio import Redis

from platform_core.kv import KeySpace

DELIVERY_TTL_SECONDS = 3600


class SlackStore:
    def __init__(self, redis: Redis, keys: KeySpace, *, session_ttl_seconds: int) -> None:
        self._redis = redis
        self._keys = keys
        self.session_ttl = session_ttl_seconds

    def _thread(self, team_id: str, channel: str, thread_ts: str) -> str:
        return self._keys.key("slack", "thread", team_id, channel, thread_ts)

    async def thread_session(self, team_id: str, channel: str, thread_ts: str) -> str | None:
        value = await self._redis.get(self._thread(team_id, channel, thread_ts))
        return str(value) if value else None

    async def remember_thread(
        self, team_id: str, channel: str, thread_ts: str, session_id: str
    ) -> None:
        """Map the thread to its session, restarting the TTL (it lives as long as the session)."""
        key = self._thread(team_id, channel, thread_ts)
        await self._redis.set(key, session_id, ex=self.session_ttl)

    async def first_delivery(self, team_id: str, channel: str, ts: str) -> bool:
        """True the first time this message is seen; False for any redelivery."""
        key = self._keys.key("slack", "seen", team_id, channel, ts)
        return bool(await self._redis.set(key, "1", nx=True, ex=DELIVERY_TTL_SECONDS))
