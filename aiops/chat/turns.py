"""Turns run in the background; their events go to a Redis stream that clients follow.

A turn keeps running when the client that started it disconnects. Each event is appended to the
turn's stream (entry id ``0-<seq>``), so any client, on any replica, can follow it from the
start or resume after the last event it saw (SSE ``Last-Event-ID: <turn_id>:<seq>``). Streams
expire an hour after their last event.

Followers in the process running the turn (usually the client that sent the message) are handed
each event in memory once it is in Redis, instead of reading it back: a Redis round trip less
per event, and never an event that a reconnect could not find again.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from typing import Any

from pydantic import TypeAdapter
from redis.asyncio import Redis

from agents.events import TERMINAL_TYPES, AgentEvent, ErrorEvent
from platform_core.errors import NotFound
from platform_core.kv import KeySpace

logger = logging.getLogger(__name__)
EVENT: TypeAdapter[AgentEvent] = TypeAdapter(AgentEvent)
STREAM_TTL_SECONDS = 3600
BLOCK_MS = 15_000
SETTLE_SECONDS = 5.0


@dataclass
class LocalTurn:
    """A turn running in this process: its events so far, for the followers here."""

    events: list[AgentEvent] = field(default_factory=list)
    arrived: asyncio.Event = field(default_factory=asyncio.Event)
    ended: bool = False

    def publish(self, event: AgentEvent) -> None:
        self.events.append(event)
        self._wake()

    def end(self) -> None:
        self.ended = True
        self._wake()

    def _wake(self) -> None:
        self.arrived.set()
        self.arrived = asyncio.Event()

    async def follow(self) -> AsyncIterator[AgentEvent]:
        """Every event, as it is published, until the pump ends."""
        index = 0
        while True:
            if index < len(self.events):
                index += 1
                yield self.events[index - 1]
            elif self.ended:
                return
            else:
                await self.arrived.wait()


class TurnManager:
    def __init__(self, redis: Redis, keys: KeySpace, *, max_turn_seconds: float) -> None:
        self._redis = redis
        self._keys = keys
        self._max_wait = max_turn_seconds + 60
        self._running: set[asyncio.Task[None]] = set()
        self._local: dict[str, LocalTurn] = {}
        self._settling: set[asyncio.Task[None]] = set()

    def _stream(self, turn_id: str) -> str:
        return self._keys.key("turn", turn_id)

    def _owner_key(self, turn_id: str) -> str:
        return self._keys.key("turn-owner", turn_id)

    async def start(self, events: AsyncIterator[AgentEvent], *, owner_id: str) -> str:
        """Run the turn in the background and return its id (known from its first event)."""
        first = await anext(aiter(events))
        turn_id = first.turn_id
        self._local[turn_id] = LocalTurn()
        try:
            await self._append(turn_id, first, owner_id=owner_id)
        except BaseException:
            self._ended(turn_id)
            raise
        task = asyncio.create_task(self._pump(turn_id, first.seq, events), name=f"turn-{turn_id}")
        self._running.add(task)
        task.add_done_callback(lambda done: self._done(turn_id, done))
        return turn_id

    def _current(self) -> asyncio.Task[None]:
        task = asyncio.current_task()
        assert task is not None  # the pump runs as a task
        return task

    def _ended(self, turn_id: str) -> None:
        local = self._local.pop(turn_id, None)
        if local is not None:
            local.end()

    def _done(self, turn_id: str, task: asyncio.Task[None]) -> None:
        self._running.discard(task)
        self._settling.discard(task)
        self._ended(turn_id)

    async def _pump(self, turn_id: str, seq: int, events: AsyncIterator[AgentEvent]) -> None:
        """Append the turn's events; after its last one the runtime still meters the turn,
        and the task counts as settling (``close`` lets it finish)."""
        ended = False
        try:
            async for event in events:
                seq = event.seq
                await self._append(turn_id, event)
                if event.type in TERMINAL_TYPES and not ended:
                    ended = True
                    self._settling.add(self._current())
        except asyncio.CancelledError:
            if not ended:
                failure = _error(turn_id, seq, "interrupted", "the service stopped")
                await self._append(turn_id, failure)
            raise
        except Exception:
            logger.exception("turn %s failed outside the runtime", turn_id)
            if not ended:
                failure = _error(turn_id, seq, "internal_error", "the turn failed")
                await self._append(turn_id, failure)

    async def _append(self, turn_id: str, event: AgentEvent, *, owner_id: str = "") -> None:
        """Add the event and renew the stream's expiry in one round trip (with the owner, for
        the turn's first event); then hand it to the followers in this process."""
        stream = self._stream(turn_id)
        async with self._redis.pipeline(transaction=False) as pipe:
            if owner_id:
                pipe.set(self._owner_key(turn_id), owner_id, ex=STREAM_TTL_SECONDS)
            pipe.xadd(stream, {"event": event.model_dump_json()}, id=f"0-{event.seq}")
            pipe.expire(stream, STREAM_TTL_SECONDS)
            await pipe.execute()
        local = self._local.get(turn_id)
        if local is not None:
            local.publish(event)

    async def check_owner(self, turn_id: str, owner_id: str) -> None:
        owner = await self._redis.get(self._owner_key(turn_id))
        if owner is None or str(owner) != owner_id:
            raise NotFound("turn not found (turn streams are kept for an hour)")

    async def follow(self, turn_id: str, *, after_seq: int = 0) -> AsyncIterator[AgentEvent]:
        """The turn's events after ``after_seq``, as they come, until its last one."""
        local = self._local.get(turn_id)
        if local is not None:
            async for event in local.follow():
                if event.seq <= after_seq:
                    continue
                after_seq = event.seq
                yield event
                if event.type in TERMINAL_TYPES:
                    return
            # the pump stopped without a last event: Redis has the word
        async for event in self._follow_stream(turn_id, after_seq):
            yield event

    async def _follow_stream(self, turn_id: str, after_seq: int) -> AsyncIterator[AgentEvent]:
        stream = self._stream(turn_id)
        last = f"0-{after_seq}" if after_seq else "0-0"
        waited = 0.0
        while waited < self._max_wait:
            # RESP2 shape: [[stream, [(entry id, {field: value}), ...]]]
            batches: Any = await self._redis.xread({stream: last}, block=BLOCK_MS, count=100)
            if not batches:
                waited += BLOCK_MS / 1000
                continue
            waited = 0.0
            for entry_id, fields in batches[0][1]:
                last = str(entry_id)
                event = EVENT.validate_json(str(fields["event"]))
                yield event
                if event.type in TERMINAL_TYPES:
                    return

    async def collect(self, turn_id: str) -> list[AgentEvent]:
        return [event async for event in self.follow(turn_id)]

    async def close(self) -> None:
        """Let answered turns finish their bookkeeping (a few seconds at most), then stop the
        turns still running (each records that it was interrupted)."""
        if self._settling:
            await asyncio.wait(list(self._settling), timeout=SETTLE_SECONDS)
        for task in list(self._running):
            task.cancel()
        for task in list(self._running):
            with contextlib.suppress(asyncio.CancelledError):
                await task


def _error(turn_id: str, seq: int, code: str, message: str) -> ErrorEvent:
    return ErrorEvent(seq=seq + 1, turn_id=turn_id, code=code, message=message)


def parse_last_event_id(value: str | None, turn_id: str) -> int:
    """The seq after which to resume, from ``Last-Event-ID: <turn_id>:<seq>``."""
    if not value or ":" not in value:
        return 0
    event_turn, _, seq = value.rpartition(":")
    if event_turn != turn_id or not seq.isdigit():
        return 0
    return int(seq)
