"""Fault injection on the twin: every fault shows in events, logs and metrics, its remedy clears
it and a wrong remedy does not."""

from __future__ import annotations

import re
from collections.abc import Awaitable, Callable
from datetime import timedelta
from typing import Any

import pytest

from platform_core.cluster import (
    ClusterEvent,
    CronJobSpec,
    FunctionRequest,
    FunctionSpec,
    MetricName,
    ResourceList,
    ResourceQuotaSpec,
    ResourceRequirements,
    SimulatedCluster,
)
from platform_core.errors import InvalidInput, NotFound

AppFactory = Callable[..., Awaitable[str]]
WS, NS = "ws-1", "default"


async def warnings(twin: SimulatedCluster, name: str = "web") -> list[ClusterEvent]:
    return await twin.list_events(WS, NS, name=name, type="Warning")


async def series(
    twin: SimulatedCluster, metric: MetricName, *, minutes: int = 5, pod: str | None = None
) -> list[float]:
    now = await twin.now()
    result = await twin.get_metrics(
        WS,
        NS,
        "web",
        start=now - timedelta(minutes=minutes),
        step_seconds=15,
        metrics=[metric],
        per_pod=pod is not None,
    )
    return [p.value for p in result.get(metric, pod).points]


async def log_text(twin: SimulatedCluster, *, previous: bool = False, app: str = "web") -> str:
    texts = []
    for pod in await twin.list_pods(WS, NS, application=app):
        try:
            logs = await twin.get_logs(WS, NS, pod.name, previous=previous, tail_lines=200)
        except InvalidInput as exc:  # e.g. "is waiting to start: ..." - what kubectl shows
            texts.append(exc.message)
            continue
        texts += [line.message for line in logs.lines]
    return "\n".join(texts)


def active(twin: SimulatedCluster, fault_id: str) -> bool:
    return next(f for f in twin.faults() if f.id == fault_id).active


def remedied_by(twin: SimulatedCluster, fault_id: str) -> str:
    return next(f for f in twin.faults() if f.id == fault_id).remedied_by or ""


async def ready(twin: SimulatedCluster, app: str = "web") -> int:
    return (await twin.get_application(WS, NS, app)).ready_replicas


# ---------------------------------------------------------------------------- bad releases


async def test_bad_image_release(twin: SimulatedCluster, twin_app: AppFactory) -> None:
    await twin_app()
    fault = twin.inject_fault(WS, NS, "web", "crash_loop", cause="bad_image")
    await twin.advance(120)

    app = await twin.get_application(WS, NS, "web")
    assert app.revision == 2 and app.image == "ghcr.io/acme/web:1.4.3"
    statuses = sorted(p.status for p in await twin.list_pods(WS, NS, application="web"))
    assert statuses == ["ImagePullBackOff", "Running", "Running", "Running"]
    messages = [e.message for e in await warnings(twin)]
    assert any(
        'Failed to pull image "ghcr.io/acme/web:1.4.3"' in m and "not found" in m for m in messages
    )
    assert "Error: ImagePullBackOff" in messages
    assert "trying and failing to pull image" in await log_text(twin)
    broken = next(p for p in await twin.list_pods(WS, NS) if p.status == "ImagePullBackOff")
    assert await series(twin, "available_replicas", pod=broken.name, minutes=1) == [0.0] * 5
    assert not await series(twin, "cpu", pod=broken.name, minutes=1)

    await twin.restart_application(WS, NS, "web")  # wrong: same image, new pods
    await twin.advance(180)
    assert active(twin, fault.id)
    assert any(
        p.status in {"ErrImagePull", "ImagePullBackOff"}
        for p in await twin.list_pods(WS, NS, application="web")
    )

    await twin.rollback_application(WS, NS, "web", to_revision=1)
    await twin.advance(120)
    pods = await twin.list_pods(WS, NS, application="web")
    assert [p.status for p in pods] == ["Running"] * 3
    assert not active(twin, fault.id)
    assert remedied_by(twin, fault.id) == "rolled back to revision 1"


async def test_bad_command_release(twin: SimulatedCluster, twin_app: AppFactory) -> None:
    await twin_app()
    fault = twin.inject_fault(WS, NS, "web", "crash_loop", cause="bad_command")
    await twin.advance(300)

    crashing = [
        p
        for p in await twin.list_pods(WS, NS, application="web")
        if p.status == "CrashLoopBackOff" or p.restarts > 0
    ]
    assert crashing and crashing[0].restarts >= 3
    assert crashing[0].last_termination_reason == "Error"
    assert any(
        e.reason == "BackOff"
        and e.message.startswith(
            f"Back-off restarting failed container web in pod {crashing[0].name}_default("
        )
        for e in await warnings(twin)
    )
    assert "failed to load configuration" in await log_text(twin)
    assert max(await series(twin, "restarts", pod=crashing[0].name)) >= 3

    await twin.scale_application(WS, NS, "web", replicas=5)  # wrong
    await twin.advance(300)
    assert active(twin, fault.id)

    await twin.rollback_application(WS, NS, "web")
    await twin.advance(180)
    assert await ready(twin) == 5
    assert all(p.status == "Running" for p in await twin.list_pods(WS, NS, application="web"))
    assert not active(twin, fault.id)


async def test_latency_release(twin: SimulatedCluster, twin_app: AppFactory) -> None:
    await twin_app()
    await twin.advance(300)
    baseline = max(await series(twin, "latency_p95"))
    fault = twin.inject_fault(WS, NS, "web", "latency_spike")
    await twin.advance(300)

    assert min(await series(twin, "latency_p95", minutes=2)) > baseline + 1000
    assert "slow query" in await log_text(twin)
    assert any(
        e.reason == "Unhealthy" and "context deadline exceeded" in e.message
        for e in await warnings(twin)
    )

    await twin.scale_application(WS, NS, "web", replicas=6)  # wrong
    await twin.advance(300)
    assert active(twin, fault.id)
    assert min(await series(twin, "latency_p95", minutes=2)) > baseline + 1000

    await twin.rollback_application(WS, NS, "web")
    await twin.advance(300)
    assert not active(twin, fault.id)
    assert max(await series(twin, "latency_p95", minutes=2)) < baseline * 2


async def test_error_release(twin: SimulatedCluster, twin_app: AppFactory) -> None:
    await twin_app()
    fault = twin.inject_fault(
        WS, NS, "web", "error_spike", rate=0.4, message="KeyError: 'discount_code'"
    )
    await twin.advance(300)

    assert min(await series(twin, "error_rate", minutes=2)) > 0.25
    text = await log_text(twin)
    assert re.search(r'status"?[=:] ?500', text) and "KeyError: 'discount_code'" in text
    assert any("statuscode: 503" in e.message for e in await warnings(twin))

    await twin.restart_application(WS, NS, "web")  # wrong
    await twin.advance(300)
    assert active(twin, fault.id)

    await twin.rollback_application(WS, NS, "web", to_revision=1)
    await twin.advance(300)
    assert not active(twin, fault.id)
    assert max(await series(twin, "error_rate", minutes=2)) < 0.02


# ---------------------------------------------------------------------------- memory


async def test_oom_kill(twin: SimulatedCluster, twin_app: AppFactory) -> None:
    await twin_app()
    fault = twin.inject_fault(WS, NS, "web", "oom_kill")
    await twin.advance(300)

    pods = await twin.list_pods(WS, NS, application="web")
    assert all(p.restarts >= 2 and p.last_termination_reason == "OOMKilled" for p in pods)
    assert any(
        e.message == "Container web was OOMKilled (memory limit 256Mi)"
        for e in await warnings(twin)
    )
    assert "memory usage high" in await log_text(twin, previous=True)
    assert max(await series(twin, "memory", pod=pods[0].name)) > 0.95 * 256 * 2**20  # the limit

    await twin.restart_application(WS, NS, "web")  # wrong
    await twin.advance(300)
    assert active(twin, fault.id)
    assert all(p.restarts >= 1 for p in await twin.list_pods(WS, NS, application="web"))

    more = ResourceRequirements(limits=ResourceList(cpu="500m", memory="1Gi"))
    await twin.update_application(WS, NS, "web", resources=more)
    await twin.advance(600)
    pods = await twin.list_pods(WS, NS, application="web")
    assert [(p.status, p.restarts) for p in pods] == [("Running", 0)] * 3
    assert not active(twin, fault.id)
    assert "memory 1Gi" in remedied_by(twin, fault.id)
    assert max(await series(twin, "memory", pod=pods[0].name)) < 2**30


async def test_memory_leak(twin: SimulatedCluster, twin_app: AppFactory) -> None:
    await twin_app()
    fault = twin.inject_fault(WS, NS, "web", "memory_leak")
    await twin.advance(600)
    growing = await series(twin, "memory", minutes=8)
    assert growing[-1] > growing[0] * 1.3
    await twin.advance(1200)
    assert any(e.reason == "OOMKilled" for e in await warnings(twin))
    assert "memory usage high" in await log_text(twin, previous=True)

    before = (await series(twin, "memory", minutes=1))[-1]
    await twin.restart_application(WS, NS, "web")  # resets memory until it grows back
    await twin.advance(120)
    assert (await series(twin, "memory", minutes=1))[-1] < before
    assert active(twin, fault.id)
    await twin.advance(1500)
    restarted = await twin.list_pods(WS, NS, application="web")
    assert any(p.last_termination_reason == "OOMKilled" for p in restarted)

    await twin.rollback_application(WS, NS, "web", to_revision=1)
    await twin.advance(1800)
    assert not active(twin, fault.id)
    assert all(p.restarts == 0 for p in await twin.list_pods(WS, NS, application="web"))
    flat = await series(twin, "memory", minutes=20)
    assert flat[-1] < flat[0] * 1.1


# ---------------------------------------------------------------------------- load, capacity


async def test_cpu_saturation(twin: SimulatedCluster, twin_app: AppFactory) -> None:
    await twin_app()
    await twin.advance(300)
    baseline = max(await series(twin, "latency_p95"))
    fault = twin.inject_fault(WS, NS, "web", "cpu_spike")
    await twin.advance(300)

    pod = (await twin.list_pods(WS, NS, application="web"))[0].name
    assert min(await series(twin, "cpu", pod=pod, minutes=2)) == pytest.approx(0.5)
    assert min(await series(twin, "latency_p95", minutes=2)) > 10 * baseline
    assert min(await series(twin, "error_rate", minutes=2)) > 0.1
    assert "request timed out" in await log_text(twin)
    assert any(e.reason == "Unhealthy" for e in await warnings(twin))

    await twin.restart_application(WS, NS, "web")  # wrong
    await twin.advance(300)
    assert active(twin, fault.id)

    await twin.scale_application(WS, NS, "web", replicas=12)
    await twin.advance(180)
    assert not active(twin, fault.id)
    assert remedied_by(twin, fault.id) == "scaled to 12 replicas"
    assert max(await series(twin, "latency_p95", minutes=1)) < 3 * baseline


async def test_cpu_saturation_is_absorbed_by_autoscaling(
    twin: SimulatedCluster, twin_app: AppFactory
) -> None:
    await twin_app()
    fault = twin.inject_fault(WS, NS, "web", "cpu_spike")
    await twin.advance(120)
    assert active(twin, fault.id)
    await twin.set_autoscaling(
        WS, NS, "web", min_replicas=3, max_replicas=20, target_cpu_utilization=70
    )
    await twin.advance(600)
    app = await twin.get_application(WS, NS, "web")
    assert app.replicas > 6 and not active(twin, fault.id)
    events = await twin.list_events(WS, NS, kind="HorizontalPodAutoscaler")
    assert any(e.reason == "SuccessfulRescale" and "above target" in e.message for e in events)


@pytest.mark.parametrize("remedy", ["raise_quota", "scale_down"])
async def test_pending_pods_quota(
    twin: SimulatedCluster, twin_app: AppFactory, remedy: str
) -> None:
    await twin.create_namespace(WS, "shop", quota=ResourceQuotaSpec(memory="4Gi"))
    await twin.create_application(WS, "shop", _spec())
    await twin.advance(60)
    fault = twin.inject_fault(WS, "shop", "web", "pending_pods")
    await twin.advance(120)

    assert (await twin.get_application(WS, "shop", "web")).ready_replicas == 2
    failed = [
        e
        for e in await twin.list_events(WS, "shop", name="web", type="Warning")
        if e.reason == "FailedCreate"
    ]
    assert failed and "exceeded quota: compute-resources" in failed[0].message
    assert "Evicted" in [e.reason for e in await twin.list_events(WS, "shop", type="Warning")]
    now = await twin.now()
    metrics = await twin.get_metrics(
        WS, "shop", "web", start=now - timedelta(minutes=1), metrics=["available_replicas"]
    )
    assert metrics.series[0].points[-1].value == 2

    await twin.restart_application(WS, "shop", "web")  # wrong: the rollout needs pods too
    await twin.advance(180)
    assert active(twin, fault.id)

    if remedy == "raise_quota":
        await twin.set_namespace_quota(WS, "shop", ResourceQuotaSpec(memory="8Gi"))
        expected = 3
    else:
        await twin.rollback_application(WS, "shop", "web")
        await twin.scale_application(WS, "shop", "web", replicas=2)
        expected = 2
    await twin.advance(180)
    assert (await twin.get_application(WS, "shop", "web")).ready_replicas == expected
    assert not active(twin, fault.id)


async def test_pending_pods_capacity(twin: SimulatedCluster, twin_app: AppFactory) -> None:
    await twin_app()
    fault = twin.inject_fault(WS, NS, "web", "pending_pods", cause="capacity")
    await twin.advance(60)
    pending = [p for p in await twin.list_pods(WS, NS, application="web") if p.phase == "Pending"]
    assert len(pending) == 1 and pending[0].status == "Pending"
    assert any(
        e.reason == "FailedScheduling" and "3 Insufficient memory" in e.message
        for e in await warnings(twin)
    )
    assert "waiting to start" in await log_text(twin)
    assert (await series(twin, "available_replicas", minutes=1))[-1] == 2

    await twin.set_namespace_quota(WS, NS, ResourceQuotaSpec(memory="64Gi"))  # wrong
    await twin.advance(120)
    assert active(twin, fault.id)

    await twin.scale_application(WS, NS, "web", replicas=2)
    await twin.advance(60)
    assert not active(twin, fault.id)
    assert all(p.phase == "Running" for p in await twin.list_pods(WS, NS, application="web"))


def _spec() -> Any:
    from platform_core.cluster import ApplicationSpec

    return ApplicationSpec(name="web", image="ghcr.io/acme/web:1.4.2", replicas=3)


# ---------------------------------------------------------------------------- batch, functions


async def test_failing_cronjob(twin: SimulatedCluster) -> None:
    spec = CronJobSpec(
        name="report",
        schedule="*/5 * * * *",
        image="ghcr.io/acme/jobs:2.0.0",
        command=["python", "/app/report.py"],
        failed_jobs_history_limit=5,
    )
    await twin.create_cronjob(WS, NS, spec)
    fault = twin.inject_fault(WS, NS, "report", "failing_cronjob")
    await twin.advance(600)

    runs = await twin.list_job_runs(WS, NS, "report")
    assert runs and runs[-1].status == "Failed" and runs[-1].exit_code == 1
    assert runs[-1].reason == "BackoffLimitExceeded" and runs[-1].attempts == 3
    assert "ModuleNotFoundError: No module named 'reportlib'" in runs[-1].logs
    assert any(e.reason == "BackoffLimitExceeded" for e in await warnings(twin, "report"))

    manual = await twin.trigger_cronjob(WS, NS, "report")  # wrong: same command
    await twin.suspend_cronjob(WS, NS, "report")
    await twin.resume_cronjob(WS, NS, "report")
    await twin.advance(300)
    assert active(twin, fault.id)
    retried = {r.name: r for r in await twin.list_job_runs(WS, NS, "report")}
    assert retried[manual.name].status == "Failed"

    await twin.update_cronjob(WS, NS, "report", command=["python", "/app/report_v2.py"])
    await twin.advance(300)
    assert not active(twin, fault.id)
    latest = (await twin.list_job_runs(WS, NS, "report"))[-1]
    assert latest.status == "Succeeded" and latest.exit_code == 0


async def test_function_build_failure(twin: SimulatedCluster) -> None:
    source = "def handle(request):\n    return 'v1'\n"
    await twin.deploy_function(WS, NS, FunctionSpec(name="hello", source=source))
    await twin.advance(60)
    fault = twin.inject_fault(WS, NS, "hello", "function_build_failure")
    await twin.advance(60)

    info = await twin.get_function(WS, NS, "hello")
    assert info.phase == "BuildFailed" and info.latest_build.status == "Failed"
    assert "codec can't decode" in info.latest_build.message
    build_log = [line.message for line in await twin.get_function_logs(WS, NS, "hello", build=True)]
    assert build_log[-1].startswith("error building image")
    assert any(e.reason == "BackoffLimitExceeded" for e in await warnings(twin, "hello"))
    still = await twin.invoke_function(WS, NS, "hello", FunctionRequest())
    assert still.ok and still.body == "v1"  # the previous revision keeps serving

    await twin.deploy_function(WS, NS, FunctionSpec(name="hello", source=source))  # wrong
    await twin.advance(60)
    assert (await twin.get_function(WS, NS, "hello")).phase == "BuildFailed"
    assert active(twin, fault.id)

    fixed = source.replace("v1", "v2")
    await twin.deploy_function(WS, NS, FunctionSpec(name="hello", source=fixed))
    await twin.advance(60)
    assert (await twin.get_function(WS, NS, "hello")).phase == "Ready"
    assert (await twin.invoke_function(WS, NS, "hello", FunctionRequest())).body == "v2"
    assert not active(twin, fault.id)


# ---------------------------------------------------------------------------- the API itself


async def test_fault_api_validates_and_clears(twin: SimulatedCluster, twin_app: AppFactory) -> None:
    await twin_app()
    with pytest.raises(InvalidInput):
        twin.inject_fault(WS, NS, "web", "gremlins")
    with pytest.raises(InvalidInput):
        twin.inject_fault(WS, NS, "web", "cpu_spike", speed=3)
    with pytest.raises(InvalidInput):
        twin.inject_fault(WS, NS, "web", "crash_loop", cause="sunspots")
    with pytest.raises(NotFound):
        twin.inject_fault(WS, NS, "nope", "oom_kill")
    assert twin.faults() == []

    fault = twin.inject_fault(WS, NS, "web", "cpu_spike")
    await twin.advance(120)
    assert [f.id for f in twin.faults(active_only=True)] == [fault.id]
    cleared = twin.clear_fault(fault.id)
    assert cleared.cleared_at is not None and not cleared.active
    await twin.advance(120)
    assert max(await series(twin, "cpu", minutes=1)) < 1.0
    with pytest.raises(NotFound):
        twin.clear_fault("fault-9999")


async def test_clearing_a_bad_image_lets_the_rollout_finish(
    twin: SimulatedCluster, twin_app: AppFactory
) -> None:
    await twin_app()
    fault = twin.inject_fault(WS, NS, "web", "crash_loop", cause="bad_image")
    await twin.advance(60)
    twin.clear_fault(fault.id)
    await twin.advance(600)
    app = await twin.get_application(WS, NS, "web")
    assert app.image == "ghcr.io/acme/web:1.4.3" and app.ready_replicas == 3
    assert app.updated_replicas == 3
