"""Turn streams: followers in the process running the turn get its events in memory, followers
on another replica read the same events from Redis, and both can resume after a seq."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from typing import Any

import pytest
from redis.asyncio import Redis

from agents.events import AgentEvent, DeltaEvent, FinalEvent, SessionEvent
from aiops.chat.turns import TurnManager
from platform_core.kv import KeySpace
from tests.support.agent import session_event

TURN = "turn-under-test"


class CountingRedis:
    """The real client, counting the stream reads made through it."""

    def __init__(self, redis: Redis) -> None:
        self._redis = redis
        self.reads = 0

    async def xread(self, *args: Any, **kwargs: Any) -> Any:
        self.reads += 1
        return await self._redis.xread(*args, **kwargs)

    def __getattr__(self, name: str) -> Any:
        return getattr(self._redis, name)


def manager(redis: Redis | CountingRedis, keys: KeySpace) -> TurnManager:
    return TurnManager(redis, keys, max_turn_seconds=30)  # type: ignore[arg-type]


def first_event() -> SessionEvent:
    return session_event(
        turn_id=TURN, session_id="s", title="t", workspace="demo", provider="scripted", model="m"
    )


async def paced_turn(release: asyncio.Event) -> AsyncIterator[AgentEvent]:
    """A session event, two deltas (the second once ``release`` is set), a final answer."""
    yield first_event()
    yield DeltaEvent(seq=2, turn_id=TURN, text="checking ")
    await release.wait()
    yield DeltaEvent(seq=3, turn_id=TURN, text="web")
    yield FinalEvent(seq=4, turn_id=TURN, text="web is fine", steps=1)


async def test_a_follower_here_gets_every_event_without_reading_redis(
    redis: Redis, keys: KeySpace
) -> None:
    counting = CountingRedis(redis)
    turns = manager(counting, keys)
    release = asyncio.Event()
    await turns.start(paced_turn(release), owner_id="u1")
    following = asyncio.create_task(turns.collect(TURN))
    await asyncio.sleep(0.05)
    assert not following.done()  # it waits for the rest of the turn

    release.set()
    events = await following

    assert [e.seq for e in events] == [1, 2, 3, 4]
    assert events[-1].type == "final"
    assert counting.reads == 0
    await turns.close()


async def test_a_follower_on_another_replica_reads_the_same_events(
    redis: Redis, keys: KeySpace
) -> None:
    here, elsewhere = manager(redis, keys), manager(redis, keys)
    release = asyncio.Event()
    await here.start(paced_turn(release), owner_id="u1")
    local = asyncio.create_task(here.collect(TURN))
    remote = asyncio.create_task(elsewhere.collect(TURN))
    await asyncio.sleep(0.05)
    release.set()

    seen_here, seen_elsewhere = await local, await remote

    assert [e.model_dump() for e in seen_elsewhere] == [e.model_dump() for e in seen_here]
    await elsewhere.check_owner(TURN, "u1")
    await here.close()


@pytest.mark.parametrize("where", ["here", "elsewhere"])
async def test_resuming_after_a_seq_gives_only_the_later_events(
    redis: Redis, keys: KeySpace, where: str
) -> None:
    here, elsewhere = manager(redis, keys), manager(redis, keys)
    release = asyncio.Event()
    await here.start(paced_turn(release), owner_id="u1")
    follower = here if where == "here" else elsewhere
    resumed = asyncio.create_task(_collect_after(follower, 2))
    await asyncio.sleep(0.05)
    release.set()

    assert [e.seq for e in await resumed] == [3, 4]
    await here.close()


async def test_a_turn_stopped_by_shutdown_ends_its_followers_with_an_error(
    redis: Redis, keys: KeySpace
) -> None:
    turns = manager(redis, keys)
    await turns.start(paced_turn(asyncio.Event()), owner_id="u1")  # never released
    following = asyncio.create_task(turns.collect(TURN))
    await asyncio.sleep(0.05)

    await turns.close()
    events = await asyncio.wait_for(following, 5)

    assert events[-1].type == "error"
    assert [e.seq for e in events] == [1, 2, 3]


async def _collect_after(turns: TurnManager, seq: int) -> list[AgentEvent]:
    return [event async for event in turns.follow(TURN, after_seq=seq)]


async def test_shutdown_lets_an_answered_turn_finish_its_bookkeeping(
    redis: Redis, keys: KeySpace
) -> None:
    booked: list[str] = []

    async def answered_then_metered() -> AsyncIterator[AgentEvent]:
        yield first_event()
        yield FinalEvent(seq=2, turn_id=TURN, text="done", steps=1)
        await asyncio.sleep(0.2)  # the runtime metering the turn
        booked.append("metered")

    turns = manager(redis, keys)
    await turns.start(answered_then_metered(), owner_id="u1")
    await asyncio.sleep(0.05)  # the final event is out; the bookkeeping is under way

    await turns.close()

    assert booked == ["metered"]
    assert [e.type for e in await manager(redis, keys).collect(TURN)] == ["session", "final"]
