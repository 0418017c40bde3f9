"""The twin's virtual clock, determinism, snapshots and schedule-driven behaviour."""

from __future__ import annotations

import json
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime, timedelta

import pytest

from platform_core.cluster import ApplicationSpec, CronJobSpec, SimulatedCluster

AppFactory = Callable[..., Awaitable[str]]
WS, NS = "ws-1", "default"


async def scripted(seed: int) -> SimulatedCluster:
    """A fixed sequence of operations, faults included."""
    twin = SimulatedCluster(seed=seed)
    await twin.provision_workspace(WS)
    await twin.advance(60)
    for name in ("web", "api"):
        await twin.create_application(
            WS, NS, ApplicationSpec(name=name, image=f"acme/{name}:1.0.0", replicas=3)
        )
    await twin.create_cronjob(
        WS,
        NS,
        CronJobSpec(
            name="tick",
            schedule="*/2 * * * *",
            image="busybox:1.36",
            command=["sh", "-c", "echo hi; sleep 5"],
        ),
    )
    await twin.advance(120)
    twin.inject_fault(WS, NS, "web", "oom_kill")
    twin.inject_fault(WS, NS, "api", "cpu_spike")
    await twin.advance(600)
    await twin.scale_application(WS, NS, "api", replicas=9)
    await twin.update_application(WS, NS, "web", image="acme/web:1.1.0")
    await twin.advance(300)
    return twin


async def test_same_seed_and_operations_give_identical_snapshots() -> None:
    first, second = await scripted(3), await scripted(3)
    assert first.snapshot() == second.snapshot()
    assert (await first.list_pods(WS, NS)) == (await second.list_pods(WS, NS))


async def test_different_seeds_give_different_clusters() -> None:
    first, second = await scripted(3), await scripted(4)
    names = {p.name for p in await first.list_pods(WS, NS)}
    assert names.isdisjoint({p.name for p in await second.list_pods(WS, NS)})


async def test_snapshot_round_trip_continues_identically() -> None:
    original = await scripted(8)
    data = json.loads(json.dumps(original.snapshot()))  # really JSON
    copy = SimulatedCluster.from_snapshot(data)
    assert copy.snapshot() == original.snapshot()
    for twin in (original, copy):
        await twin.advance(900)
        twin.inject_fault(WS, NS, "api", "latency_spike")
        await twin.advance(300)
    assert copy.snapshot() == original.snapshot()
    assert await copy.get_logs(
        WS, NS, (await copy.list_pods(WS, NS))[0].name
    ) == await original.get_logs(WS, NS, (await original.list_pods(WS, NS))[0].name)
    with pytest.raises(ValueError, match="snapshot"):
        copy.restore({"format": "something else"})


async def test_restore_resets_a_twin_to_an_earlier_point() -> None:
    twin = await scripted(9)
    checkpoint = twin.snapshot()
    await twin.delete_application(WS, NS, "web")
    await twin.advance(3600)
    twin.restore(checkpoint)
    assert (await twin.get_application(WS, NS, "web")).image == "acme/web:1.1.0"
    assert twin.snapshot() == checkpoint


async def test_clock_only_moves_when_advanced() -> None:
    start = datetime(2025, 3, 1, 12, 0, tzinfo=UTC)
    twin = SimulatedCluster(seed=1, start=start)
    assert await twin.now() == start
    await twin.advance(90.5)
    twin.advance_sync(9.5)
    assert await twin.now() == start + timedelta(seconds=100)
    with pytest.raises(ValueError):
        await twin.advance(-1)


async def test_pods_start_in_stages(twin: SimulatedCluster) -> None:
    await twin.create_application(WS, NS, ApplicationSpec(name="web", image="acme/web:1.0.0"))
    [pod] = await twin.list_pods(WS, NS)
    assert (pod.status, pod.ready) == ("ContainerCreating", False)
    await twin.advance(0.1)
    seen = set()
    for _ in range(40):
        [pod] = await twin.list_pods(WS, NS)
        seen.add((pod.status, pod.ready))
        await twin.advance(0.5)
    assert ("ContainerCreating", False) in seen
    assert ("Running", False) in seen
    assert ("Running", True) in seen


async def test_cronjob_fires_exactly_on_schedule(twin: SimulatedCluster) -> None:
    start = await twin.now()
    await twin.create_cronjob(
        WS,
        NS,
        CronJobSpec(
            name="quarter",
            schedule="*/15 * * * *",
            image="busybox:1.36",
            command=["sh", "-c", "date; sleep 3"],
            successful_jobs_history_limit=10,
        ),
    )
    await twin.advance(3600)
    runs = await twin.list_job_runs(WS, NS, "quarter")
    starts = [r.start_time for r in runs]
    assert len(starts) == 4
    assert all(s.minute % 15 == 0 and s.second == 0 for s in starts)
    assert starts[0] - start < timedelta(minutes=15)
    assert [r.name for r in runs] == [f"quarter-{int(s.timestamp()) // 60}" for s in starts]
    [printed] = runs[0].logs  # `date` runs once the pod has pulled its image and started
    ran_at = datetime.strptime(printed, "%a %b %d %H:%M:%S UTC %Y").replace(tzinfo=UTC)
    assert timedelta(0) <= ran_at - starts[0] < timedelta(seconds=30)
    events = [e.message for e in await twin.list_events(WS, NS, kind="CronJob", name="quarter")]
    assert f"Created job {runs[-1].name}" in events
    assert f"Saw completed job: {runs[-1].name}, status: Complete" in events


async def test_job_history_is_pruned_to_the_limits(twin: SimulatedCluster) -> None:
    await twin.create_cronjob(
        WS,
        NS,
        CronJobSpec(
            name="often", schedule="* * * * *", image="busybox:1.36", command=["sh", "-c", "true"]
        ),
    )
    await twin.advance(600)
    runs = await twin.list_job_runs(WS, NS, "often")
    assert [r.status for r in runs] == ["Succeeded"] * 3 + ["Running"]  # the latest one just began
    deleted = [
        e for e in await twin.list_events(WS, NS, kind="CronJob") if e.reason == "SuccessfulDelete"
    ]
    assert deleted


async def test_deadline_fails_a_job(twin: SimulatedCluster) -> None:
    await twin.create_cronjob(
        WS,
        NS,
        CronJobSpec(
            name="slow",
            schedule="@yearly",
            image="busybox:1.36",
            command=["sh", "-c", "sleep 3600"],
            active_deadline_seconds=60,
        ),
    )
    await twin.trigger_cronjob(WS, NS, "slow")
    await twin.advance(120)
    [run] = await twin.list_job_runs(WS, NS, "slow")
    assert (run.status, run.reason) == ("Failed", "DeadlineExceeded")


async def test_rolling_update_keeps_serving(twin: SimulatedCluster, twin_app: AppFactory) -> None:
    await twin_app(replicas=4)
    await twin.update_application(WS, NS, "web", image="ghcr.io/acme/web:1.5.0")
    lowest = 4
    for _ in range(60):
        await twin.advance(1)
        lowest = min(lowest, (await twin.get_application(WS, NS, "web")).ready_replicas)
        total = len(await twin.list_pods(WS, NS, application="web"))
        assert total <= 4 + 1 + 3  # surge, plus pods still terminating
    assert lowest >= 3  # maxUnavailable 25 %
    app = await twin.get_application(WS, NS, "web")
    assert app.updated_replicas == app.ready_replicas == 4


async def test_progress_deadline_marks_a_stalled_rollout(
    twin: SimulatedCluster, twin_app: AppFactory
) -> None:
    await twin_app()
    twin.inject_fault(WS, NS, "web", "crash_loop", cause="bad_image")
    await twin.advance(700)
    conditions = {c.type: c for c in (await twin.get_application(WS, NS, "web")).conditions}
    assert conditions["Progressing"].status == "False"
    assert conditions["Progressing"].reason == "ProgressDeadlineExceeded"
    assert conditions["Available"].status == "True"  # the old pods still serve


async def test_metrics_follow_a_daily_pattern(twin: SimulatedCluster, twin_app: AppFactory) -> None:
    await twin_app()
    await twin.advance(24 * 3600)
    result = await twin.get_metrics(
        WS,
        NS,
        "web",
        start=await twin.now() - timedelta(days=1),
        step_seconds=3600,
        metrics=["request_rate"],
    )
    values = [p.value for p in result.series[0].points]
    assert max(values) > 2 * min(values)


async def test_async_advance_yields_to_the_event_loop(twin: SimulatedCluster) -> None:
    import asyncio

    ticks = 0

    async def other() -> None:
        nonlocal ticks
        while True:
            ticks += 1
            await asyncio.sleep(0)

    task = asyncio.create_task(other())
    await twin.advance(3600)
    task.cancel()
    assert ticks > 1
