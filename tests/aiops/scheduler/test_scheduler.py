"""Per-tenant jobs: once per slot across replicas, and one tenant never stops the others."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta

from redis.asyncio import Redis

from aiops.scheduler.scheduler import Job, Scheduler
from platform_core.kv import KeySpace

START = datetime(2026, 11, 26, 12, 0, 0, tzinfo=UTC)


def recorder(runs: list[tuple[str, datetime]], name: str, delay: float = 0.0) -> Job:
    async def run(at: datetime) -> None:
        await asyncio.sleep(delay)
        runs.append((name, at))

    return Job(key=f"monitor:{name}", interval_seconds=60, run=run, tenant=name)


def scheduler(redis: Redis, keys: KeySpace, jobs: list[Job], name: str) -> Scheduler:
    async def source() -> list[Job]:
        return jobs

    return Scheduler(redis, keys, source, name=name)


async def test_two_replicas_sharing_redis_run_each_job_once_per_slot(
    redis: Redis, keys: KeySpace
) -> None:
    runs: list[tuple[str, datetime]] = []
    jobs = [recorder(runs, f"ws{i}", delay=0.01) for i in range(6)]
    first, second = scheduler(redis, keys, jobs, "a"), scheduler(redis, keys, jobs, "b")
    for minute in range(3):
        at = START + timedelta(minutes=minute, seconds=5)
        reports = await asyncio.gather(first.tick(at), second.tick(at + timedelta(seconds=20)))
        ran = sorted(reports[0].ran + reports[1].ran)
        assert ran == sorted(job.key for job in jobs)  # every job, by exactly one replica
        assert set(reports[0].skipped) | set(reports[1].skipped) == set(ran)
    assert len(runs) == 18
    assert len(set(runs)) == 18


async def test_a_job_still_running_is_not_started_again_by_the_other_replica(
    redis: Redis, keys: KeySpace
) -> None:
    started = asyncio.Event()
    release = asyncio.Event()
    calls = 0

    async def slow(at: datetime) -> None:
        nonlocal calls
        calls += 1
        started.set()
        await release.wait()

    job = Job(key="monitor:slow", interval_seconds=60, run=slow, timeout_seconds=30)
    first, second = scheduler(redis, keys, [job], "a"), scheduler(redis, keys, [job], "b")
    running = asyncio.create_task(first.tick(START))
    await started.wait()
    next_slot = await second.tick(START + timedelta(minutes=1))  # overran its interval
    assert next_slot.skipped == ["monitor:slow"]
    release.set()
    assert (await running).ran == ["monitor:slow"]
    assert calls == 1
    assert (await second.tick(START + timedelta(minutes=2))).ran == ["monitor:slow"]


async def test_one_tenant_failing_or_hanging_never_stops_the_others(
    redis: Redis, keys: KeySpace
) -> None:
    runs: list[tuple[str, datetime]] = []

    async def broken(at: datetime) -> None:
        raise RuntimeError("the tenant's cluster is unreachable")

    async def hangs(at: datetime) -> None:
        await asyncio.sleep(30)

    jobs = [
        Job(key="monitor:broken", interval_seconds=60, run=broken),
        Job(key="monitor:hangs", interval_seconds=60, run=hangs, timeout_seconds=0.2),
        recorder(runs, "healthy"),
    ]
    report = await scheduler(redis, keys, jobs, "a").tick(START)
    assert report.ran == ["monitor:healthy"]
    assert "RuntimeError" in report.failed["monitor:broken"]
    assert "timed out" in report.failed["monitor:hangs"]
    assert [name for name, _ in runs] == ["healthy"]


async def test_a_failed_run_is_retried_in_its_next_slot_not_by_the_other_replica(
    redis: Redis, keys: KeySpace
) -> None:
    attempts: list[datetime] = []

    async def flaky(at: datetime) -> None:
        attempts.append(at)
        if len(attempts) == 1:
            raise RuntimeError("transient")

    job = Job(key="monitor:flaky", interval_seconds=60, run=flaky)
    first, second = scheduler(redis, keys, [job], "a"), scheduler(redis, keys, [job], "b")
    assert "monitor:flaky" in (await first.tick(START)).failed
    assert (await second.tick(START + timedelta(seconds=30))).skipped == ["monitor:flaky"]
    assert (await second.tick(START + timedelta(minutes=1))).ran == ["monitor:flaky"]
    assert len(attempts) == 2


async def test_a_job_source_that_fails_skips_the_tick_without_raising(
    redis: Redis, keys: KeySpace
) -> None:
    async def source() -> list[Job]:
        raise ConnectionError("database down")

    report = await Scheduler(redis, keys, source).tick(START)
    assert report.ran == [] and report.failed == {}
