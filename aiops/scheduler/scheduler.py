"""A scheduler for per-tenant jobs that several service replicas can run side by side.

Every ``interval`` each replica asks which jobs exist (``JobSource``) and tries to run those that
are due. Two Redis keys make "exactly one replica per job per slot" hold:

* the slot claim ``sched:slot:<job>:<slot number>`` (``SET NX`` with an expiry of a few
  intervals): the first replica to claim a job's slot runs it, the others skip it;
* the run lock ``sched:run:<job>`` (``SET NX`` with the job's timeout, released by
  compare-and-delete): a run that overruns its interval is never joined by a second one.

A claimed slot stays claimed even when its run fails: the job is retried in its next slot, not
by the other replicas at once (a failing tenant must not multiply its load). Jobs run
concurrently up to ``concurrency``, each with its own timeout and error handling, so one
tenant's failure or slowness never stops the others. ``tick(now)`` is the whole cycle and is
what tests call; ``run_forever`` calls it on the wall clock.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import math
import secrets
import time
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime

from redis.asyncio import Redis

from platform_core.kv import KeySpace

logger = logging.getLogger(__name__)

_RELEASE = """
if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('DEL', KEYS[1]) end
return 0
"""


@dataclass(frozen=True)
class Job:
    """One tenant's recurring work. ``key`` must be stable across replicas and restarts."""

    key: str
    interval_seconds: float
    run: Callable[[datetime], Awaitable[None]]
    timeout_seconds: float = 120.0
    tenant: str = ""

    def slot(self, now: datetime) -> int:
        return math.floor(now.timestamp() / self.interval_seconds)


JobSource = Callable[[], Awaitable[Sequence[Job]]]


@dataclass
class TickReport:
    """What one tick did; for logs, metrics and tests."""

    ran: list[str] = field(default_factory=list)
    skipped: list[str] = field(default_factory=list)
    failed: dict[str, str] = field(default_factory=dict)


class Scheduler:
    def __init__(
        self,
        redis: Redis,
        keys: KeySpace,
        source: JobSource,
        *,
        interval_seconds: float = 60.0,
        concurrency: int = 4,
        clock: Callable[[], Awaitable[datetime]] | None = None,
        name: str | None = None,
    ) -> None:
        self._redis = redis
        self._keys = keys
        self._source = source
        self.interval = interval_seconds
        self._limit = asyncio.Semaphore(concurrency)
        self._clock = clock
        self.name = name or f"scheduler-{secrets.token_hex(4)}"
        self._release = redis.register_script(_RELEASE)
        self._task: asyncio.Task[None] | None = None

    async def now(self) -> datetime:
        return await self._clock() if self._clock else datetime.now(UTC)

    async def tick(self, now: datetime | None = None) -> TickReport:
        """Run every job due at ``now`` that no other replica has claimed."""
        at = now or await self.now()
        report = TickReport()
        try:
            jobs = await self._source()
        except Exception:
            logger.exception("listing the scheduled jobs failed; nothing runs this tick")
            return report
        await asyncio.gather(*(self._maybe_run(job, at, report) for job in jobs))
        return report

    async def _maybe_run(self, job: Job, at: datetime, report: TickReport) -> None:
        async with self._limit:
            slot_key = self._keys.key("sched", "slot", job.key, str(job.slot(at)))
            claimed = await self._redis.set(
                slot_key, self.name, nx=True, ex=max(1, int(job.interval_seconds * 3))
            )
            if not claimed:
                report.skipped.append(job.key)
                return
            run_key = self._keys.key("sched", "run", job.key)
            token = f"{self.name}:{secrets.token_hex(8)}"
            locked = await self._redis.set(
                run_key, token, nx=True, px=int(job.timeout_seconds * 1000) + 1000
            )
            if not locked:
                report.skipped.append(job.key)
                return
            try:
                await self._run(job, at, report)
            finally:
                await self._release(keys=[run_key], args=[token])

    async def _run(self, job: Job, at: datetime, report: TickReport) -> None:
        started = time.perf_counter()
        try:
            await asyncio.wait_for(job.run(at), timeout=job.timeout_seconds)
        except TimeoutError:
            report.failed[job.key] = f"timed out after {job.timeout_seconds:.0f}s"
            logger.warning("job %s timed out after %.0fs", job.key, job.timeout_seconds)
        except Exception as exc:
            report.failed[job.key] = f"{type(exc).__name__}: {exc}"[:300]
            logger.exception("job %s failed (tenant %s)", job.key, job.tenant)
        else:
            report.ran.append(job.key)
            logger.debug("job %s ran in %.3fs", job.key, time.perf_counter() - started)

    # ------------------------------------------------------------------ background loop

    def start(self) -> None:
        if self._task is None:
            self._task = asyncio.create_task(self.run_forever(), name=self.name)

    async def stop(self) -> None:
        task, self._task = self._task, None
        if task is not None:
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await task

    async def run_forever(self) -> None:
        while True:
            started = time.monotonic()
            try:
                await self.tick()
            except Exception:
                logger.exception("scheduler tick failed")
            elapsed = time.monotonic() - started
            await asyncio.sleep(max(1.0, self.interval - elapsed))
