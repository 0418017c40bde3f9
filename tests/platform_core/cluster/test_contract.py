"""Contract tests of ``ClusterGateway``: every operation, through the protocol only.

These run against each implementation the ``gateway`` fixture is parametrized with. They use
nothing but protocol calls and ``settle``/``eventually`` (which let virtual or real time pass),
and assert what a user of the platform would notice.
"""

from __future__ import annotations

import itertools
import json
import re
from collections.abc import Awaitable, Callable
from datetime import timedelta
from typing import Any

import pytest
import yaml
from pydantic import ValidationError

from platform_core.cluster import (
    ApplicationSpec,
    ClusterGateway,
    CronJobSpec,
    FunctionRequest,
    FunctionSpec,
    ResourceList,
    ResourceQuotaSpec,
    ResourceRequirements,
)
from platform_core.errors import Conflict, Forbidden, InvalidInput, NotFound, Unavailable

Wait = Callable[..., Awaitable[None]]
Settle = Callable[[float], Awaitable[None]]
AppFactory = Callable[..., Awaitable[str]]
POD_NAME = re.compile(r"^web-[bcdfghjklmnpqrstvwxz2456789]{6,10}-[bcdfghjklmnpqrstvwxz2456789]{5}$")


def test_the_twin_implements_the_protocol(gateway: ClusterGateway) -> None:
    assert isinstance(gateway, ClusterGateway)


# ---------------------------------------------------------------------------- workspaces


async def test_workspace_lifecycle(gateway: ClusterGateway, eventually: Wait) -> None:
    status = await gateway.provision_workspace("life-1")
    assert status.phase == "provisioning"
    with pytest.raises(Unavailable):
        await gateway.list_namespaces("life-1")
    with pytest.raises(Conflict):
        await gateway.provision_workspace("life-1")

    async def phase_is(phase: str) -> bool:
        return (await gateway.get_workspace("life-1")).phase == phase

    await eventually(lambda: phase_is("active"), within=300)
    assert [ns.name for ns in await gateway.list_namespaces("life-1")] == ["default"]

    config = yaml.safe_load(await gateway.get_kubeconfig("life-1"))
    assert config["kind"] == "Config"
    assert config["clusters"][0]["cluster"]["server"].startswith("https://")
    assert config["users"][0]["user"]["token"]

    assert (await gateway.delete_workspace("life-1")).phase == "terminating"
    await eventually(lambda: phase_is("terminated"), within=300)
    with pytest.raises(NotFound):
        await gateway.list_namespaces("life-1")
    with pytest.raises(NotFound):
        await gateway.get_workspace("never-made")


async def test_suspend_stops_pods_and_resume_brings_them_back(
    gateway: ClusterGateway, workspace: str, ready_app: AppFactory, eventually: Wait
) -> None:
    await ready_app(workspace)
    assert (await gateway.suspend_workspace(workspace)).phase == "suspended"
    with pytest.raises(Conflict):
        await gateway.list_pods(workspace, "default")

    assert (await gateway.resume_workspace(workspace)).phase == "active"

    async def serving() -> bool:
        return (await gateway.get_application(workspace, "default", "web")).ready_replicas == 3

    await eventually(serving, within=180)


# ---------------------------------------------------------------------------- namespaces


async def test_projects_with_quota_and_nesting(gateway: ClusterGateway, workspace: str) -> None:
    quota = ResourceQuotaSpec(cpu="4", memory="8Gi", storage="20Gi", pods=20)
    team = await gateway.create_namespace(workspace, "team-a", quota=quota, labels={"env": "dev"})
    assert team.quota is not None
    assert team.quota.hard["limits.memory"] == "8Gi"
    assert team.quota.hard["pods"] == "20"
    assert team.quota.used["pods"] == "0"
    assert team.labels["env"] == "dev"

    child = await gateway.create_namespace(
        workspace, "team-a-api", parent="team-a", quota=ResourceQuotaSpec(memory="2Gi")
    )
    assert child.parent == "team-a"
    assert (await gateway.get_namespace(workspace, "team-a")).children == ["team-a-api"]
    names = {ns.name for ns in await gateway.list_namespaces(workspace)}
    assert {"default", "team-a", "team-a-api"} <= names

    with pytest.raises(InvalidInput):
        await gateway.create_namespace(
            workspace, "greedy", parent="team-a", quota=ResourceQuotaSpec(memory="64Gi")
        )
    with pytest.raises(Conflict):
        await gateway.create_namespace(workspace, "team-a")
    with pytest.raises(InvalidInput):
        await gateway.create_namespace(workspace, "Not_A_Name")
    with pytest.raises(NotFound):
        await gateway.create_namespace(workspace, "orphan", parent="nope")
    with pytest.raises(Conflict):
        await gateway.delete_namespace(workspace, "team-a")
    with pytest.raises(Forbidden):
        await gateway.delete_namespace(workspace, "default")

    raised = await gateway.set_namespace_quota(workspace, "team-a", ResourceQuotaSpec(pods=50))
    assert raised.quota is not None and raised.quota.hard == {"pods": "50"}

    await gateway.delete_namespace(workspace, "team-a", cascade=True)
    for name in ("team-a", "team-a-api"):
        phase = {ns.name: ns.phase for ns in await gateway.list_namespaces(workspace)}.get(name)
        assert phase in {None, "Terminating"}


async def test_quota_limits_pods_and_raising_it_lets_them_start(
    gateway: ClusterGateway, workspace: str, eventually: Wait
) -> None:
    await gateway.create_namespace(workspace, "small", quota=ResourceQuotaSpec(pods=2))
    spec = ApplicationSpec(name="web", image="ghcr.io/acme/web:1.4.2", replicas=3)
    await gateway.create_application(workspace, "small", spec)

    async def two_ready() -> bool:
        return (await gateway.get_application(workspace, "small", "web")).ready_replicas == 2

    await eventually(two_ready, within=180)
    events = await gateway.list_events(workspace, "small", name="web", type="Warning")
    rejected = [e for e in events if e.reason == "FailedCreate"]
    assert rejected and "exceeded quota" in rejected[0].message
    assert len(await gateway.list_pods(workspace, "small", application="web")) == 2

    await gateway.set_namespace_quota(workspace, "small", ResourceQuotaSpec(pods=5))

    async def all_ready() -> bool:
        return (await gateway.get_application(workspace, "small", "web")).ready_replicas == 3

    await eventually(all_ready, within=180)


async def test_pods_that_fit_no_node_stay_pending(
    gateway: ClusterGateway, workspace: str, settle: Settle
) -> None:
    huge = ResourceRequirements(
        requests=ResourceList(cpu="100m", memory="900Gi"),
        limits=ResourceList(cpu="1", memory="900Gi"),
    )
    spec = ApplicationSpec(name="big", image="ghcr.io/acme/big:1.0.0", resources=huge)
    await gateway.create_application(workspace, "default", spec)
    await settle(60)
    [pod] = await gateway.list_pods(workspace, "default", application="big")
    assert pod.phase == "Pending" and pod.status == "Pending" and not pod.ready
    events = await gateway.list_events(workspace, "default", kind="Pod", name=pod.name)
    assert any(
        e.reason == "FailedScheduling" and "Insufficient memory" in e.message for e in events
    )


# ---------------------------------------------------------------------------- applications


async def test_application_runs_its_pods(
    gateway: ClusterGateway, workspace: str, ready_app: AppFactory
) -> None:
    await ready_app(workspace, env={"LOG_LEVEL": "debug"})
    app = await gateway.get_application(workspace, "default", "web")
    assert app.revision == 1
    assert app.image == "ghcr.io/acme/web:1.4.2"
    assert app.env == {"LOG_LEVEL": "debug"}
    assert app.resources.limits.memory == "256Mi"
    assert app.available_replicas == 3 and app.unavailable_replicas == 0
    assert {c.type: c.status for c in app.conditions} == {
        "Available": "True",
        "Progressing": "True",
    }
    assert [a.name for a in await gateway.list_applications(workspace, "default")] == ["web"]

    pods = await gateway.list_pods(workspace, "default", application="web")
    assert len(pods) == 3
    for pod in pods:
        assert POD_NAME.match(pod.name), pod.name
        assert pod.name.startswith(app.current_replica_set + "-")
        assert (pod.phase, pod.status, pod.ready, pod.restarts) == ("Running", "Running", True, 0)
        assert pod.node and pod.ip
        [container] = pod.containers
        assert container.state == "running" and container.image == app.image

    with pytest.raises(Conflict):
        await gateway.create_application(
            workspace, "default", ApplicationSpec(name="web", image="x:1")
        )
    with pytest.raises(NotFound):
        await gateway.get_application(workspace, "default", "nope")
    with pytest.raises(NotFound):
        await gateway.list_applications(workspace, "nope")


async def test_scaling_changes_the_number_of_pods(
    gateway: ClusterGateway, workspace: str, ready_app: AppFactory, eventually: Wait
) -> None:
    await ready_app(workspace)

    async def ready(n: int) -> bool:
        pods = await gateway.list_pods(workspace, "default", application="web")
        running = [p for p in pods if p.ready and p.status == "Running"]
        return len(running) == n == len(pods)

    await gateway.scale_application(workspace, "default", "web", replicas=5)
    await eventually(lambda: ready(5), within=180)
    await gateway.scale_application(workspace, "default", "web", replicas=1)
    await eventually(lambda: ready(1), within=180)
    events = await gateway.list_events(workspace, "default", kind="Deployment", name="web")
    messages = [e.message for e in events]
    assert any(re.match(r"Scaled up replica set web-\w+ to 5", m) for m in messages)
    assert any(re.match(r"Scaled down replica set web-\w+ to 1 from 5", m) for m in messages)
    with pytest.raises(InvalidInput):
        await gateway.scale_application(workspace, "default", "web", replicas=-1)


async def test_update_rolls_out_a_new_revision_and_rollback_returns(
    gateway: ClusterGateway, workspace: str, ready_app: AppFactory, eventually: Wait
) -> None:
    await ready_app(workspace)
    first = await gateway.get_application(workspace, "default", "web")
    with pytest.raises(Conflict):
        await gateway.rollback_application(workspace, "default", "web")

    updated = await gateway.update_application(
        workspace, "default", "web", image="ghcr.io/acme/web:1.5.0", env={"FEATURE": "on"}
    )
    assert updated.revision == 2 and updated.current_replica_set != first.current_replica_set

    async def rolled_out(rs: str) -> bool:
        pods = await gateway.list_pods(workspace, "default", application="web")
        return len(pods) == 3 and all(p.owner_name == rs and p.ready for p in pods)

    await eventually(lambda: rolled_out(updated.current_replica_set), within=300)
    history = await gateway.list_revisions(workspace, "default", "web")
    assert [(r.revision, r.image, r.current) for r in history] == [
        (1, "ghcr.io/acme/web:1.4.2", False),
        (2, "ghcr.io/acme/web:1.5.0", True),
    ]

    back = await gateway.rollback_application(workspace, "default", "web")
    assert back.image == "ghcr.io/acme/web:1.4.2" and back.revision == 3
    assert back.current_replica_set == first.current_replica_set
    await eventually(lambda: rolled_out(first.current_replica_set), within=300)
    assert [r.revision for r in await gateway.list_revisions(workspace, "default", "web")] == [2, 3]
    with pytest.raises(NotFound):
        await gateway.rollback_application(workspace, "default", "web", to_revision=9)
    with pytest.raises(InvalidInput):
        await gateway.update_application(workspace, "default", "web", image="NOT AN IMAGE")


async def test_restart_replaces_every_pod(
    gateway: ClusterGateway, workspace: str, ready_app: AppFactory, eventually: Wait
) -> None:
    await ready_app(workspace)
    before = {p.name for p in await gateway.list_pods(workspace, "default", application="web")}
    restarted = await gateway.restart_application(workspace, "default", "web")
    assert restarted.revision == 2

    async def replaced() -> bool:
        pods = await gateway.list_pods(workspace, "default", application="web")
        names = {p.name for p in pods}
        return len(pods) == 3 and not names & before and all(p.ready for p in pods)

    await eventually(replaced, within=300)


async def test_autoscaling_bounds(
    gateway: ClusterGateway, workspace: str, ready_app: AppFactory, eventually: Wait
) -> None:
    await ready_app(workspace, replicas=1)
    app = await gateway.set_autoscaling(
        workspace, "default", "web", min_replicas=2, max_replicas=6, target_cpu_utilization=60
    )
    assert app.autoscaling is not None
    assert (app.autoscaling.min_replicas, app.autoscaling.max_replicas) == (2, 6)

    async def at_least_min() -> bool:
        return (await gateway.get_application(workspace, "default", "web")).ready_replicas >= 2

    await eventually(at_least_min, within=300)
    status = (await gateway.get_application(workspace, "default", "web")).autoscaling
    assert status is not None and status.current_cpu_utilization is not None
    with pytest.raises(InvalidInput):
        await gateway.set_autoscaling(workspace, "default", "web", min_replicas=5, max_replicas=2)
    removed = await gateway.remove_autoscaling(workspace, "default", "web")
    assert removed.autoscaling is None


async def test_delete_application_removes_its_pods(
    gateway: ClusterGateway, workspace: str, ready_app: AppFactory, eventually: Wait
) -> None:
    await ready_app(workspace)
    await gateway.delete_application(workspace, "default", "web")
    with pytest.raises(NotFound):
        await gateway.get_application(workspace, "default", "web")

    async def gone() -> bool:
        return not await gateway.list_pods(workspace, "default", application="web")

    await eventually(gone, within=120)


# ---------------------------------------------------------------------------- logs, events


async def test_logs_tail_since_and_errors(
    gateway: ClusterGateway, workspace: str, ready_app: AppFactory, settle: Settle
) -> None:
    await ready_app(workspace)
    await settle(600)
    pod = (await gateway.list_pods(workspace, "default", application="web"))[0].name
    logs = await gateway.get_logs(workspace, "default", pod, tail_lines=20)
    assert len(logs.lines) == 20 and logs.container == "web" and not logs.previous
    stamps = [line.timestamp for line in logs.lines]
    assert stamps == sorted(stamps)

    recent = await gateway.get_logs(workspace, "default", pod, since_seconds=120)
    now = await gateway.now()
    assert recent.lines and all(
        now - line.timestamp <= timedelta(seconds=121) for line in recent.lines
    )
    everything = await gateway.get_logs(workspace, "default", pod)
    assert len(everything.lines) > len(recent.lines)
    same = await gateway.get_logs(
        workspace, "default", pod, since_time=now - timedelta(seconds=120)
    )
    assert same.lines == recent.lines
    with pytest.raises(InvalidInput):
        await gateway.get_logs(workspace, "default", pod, since_seconds=1, since_time=now)

    with pytest.raises(InvalidInput):
        await gateway.get_logs(workspace, "default", pod, previous=True)
    with pytest.raises(InvalidInput):
        await gateway.get_logs(workspace, "default", pod, container="sidecar")
    with pytest.raises(NotFound):
        await gateway.get_logs(workspace, "default", "no-such-pod")


async def test_events_are_filtered_by_involved_object(
    gateway: ClusterGateway, workspace: str, ready_app: AppFactory
) -> None:
    await ready_app(workspace)
    pod = (await gateway.list_pods(workspace, "default", application="web"))[0].name
    pod_events = await gateway.list_events(workspace, "default", kind="Pod", name=pod)
    assert {e.involved_object.name for e in pod_events} == {pod}
    reasons = [e.reason for e in pod_events]
    for reason in ("Scheduled", "Pulled", "Created", "Started"):
        assert reason in reasons
    for event in pod_events:
        assert event.count >= 1 and event.first_timestamp <= event.last_timestamp
        assert event.type == "Normal"
    assert not await gateway.list_events(workspace, "default", type="Warning")
    everything = await gateway.list_events(workspace, "default", name="web")
    assert {"Deployment", "ReplicaSet", "Pod"} <= {e.involved_object.kind for e in everything}


# ---------------------------------------------------------------------------- metrics


async def test_metrics_per_application_and_pod(
    gateway: ClusterGateway, workspace: str, ready_app: AppFactory, settle: Settle
) -> None:
    await ready_app(workspace)
    await settle(3600)
    end = await gateway.now()
    result = await gateway.get_metrics(
        workspace,
        "default",
        "web",
        start=end - timedelta(minutes=30),
        end=end,
        step_seconds=60,
        per_pod=True,
    )
    assert result.step_seconds == 60
    app_level = {s.metric: s for s in result.series if s.pod is None}
    assert set(app_level) == {
        "cpu",
        "memory",
        "request_rate",
        "latency_p95",
        "error_rate",
        "available_replicas",
        "restarts",
    }
    assert app_level["memory"].unit == "bytes" and app_level["latency_p95"].unit == "milliseconds"
    for series in app_level.values():
        assert 29 <= len(series.points) <= 31
        times = [p.timestamp for p in series.points]
        assert all(b - a == timedelta(seconds=60) for a, b in itertools.pairwise(times))
    assert all(p.value > 0 for p in app_level["request_rate"].points)
    assert all(p.value == 3 for p in app_level["available_replicas"].points)
    assert all(0 <= p.value < 0.05 for p in app_level["error_rate"].points)
    pods = {s.pod for s in result.series if s.pod is not None}
    assert pods == {p.name for p in await gateway.list_pods(workspace, "default")}
    cpu = [s for s in result.series if s.metric == "cpu" and s.pod is not None]
    total = sum(s.points[-1].value for s in cpu)
    assert total == pytest.approx(
        app_level["cpu"].points[-1].value, abs=1e-5
    )  # points are rounded to 6 decimals

    only = await gateway.get_metrics(workspace, "default", "web", metrics=["latency_p95"])
    assert [s.metric for s in only.series] == ["latency_p95"] and only.series[0].points
    with pytest.raises(InvalidInput):
        await gateway.get_metrics(
            workspace, "default", "web", step_seconds=1, start=end - timedelta(days=1), end=end
        )
    with pytest.raises(NotFound):
        await gateway.get_metrics(workspace, "default", "nope")


# ---------------------------------------------------------------------------- cronjobs


def _job(name: str = "report", **extra: Any) -> CronJobSpec:
    fields: dict[str, Any] = {
        "name": name,
        "schedule": "*/5 * * * *",
        "image": "busybox:1.36",
        "command": ["sh", "-c", "echo generating report; sleep 20; echo done"],
    }
    fields.update(extra)
    return CronJobSpec(**fields)


async def test_cronjob_runs_on_schedule_with_history(
    gateway: ClusterGateway, workspace: str, eventually: Wait
) -> None:
    created = await gateway.create_cronjob(workspace, "default", _job())
    assert created.next_schedule_time is not None and created.next_schedule_time.minute % 5 == 0
    assert [c.name for c in await gateway.list_cronjobs(workspace, "default")] == ["report"]

    async def finished_run() -> bool:
        runs = await gateway.list_job_runs(workspace, "default", "report")
        return any(r.status == "Succeeded" for r in runs)

    await eventually(finished_run, within=420, step=10)
    run = (await gateway.list_job_runs(workspace, "default", "report"))[0]
    assert re.fullmatch(r"report-\d+", run.name) and not run.manual
    assert run.exit_code == 0 and run.completion_time is not None
    assert run.completion_time - run.start_time >= timedelta(seconds=20)
    assert run.logs == ["generating report", "done"]
    info = await gateway.get_cronjob(workspace, "default", "report")
    assert info.last_schedule_time is not None and info.last_successful_time is not None


async def test_manual_trigger_is_named_and_labelled(
    gateway: ClusterGateway, workspace: str, eventually: Wait
) -> None:
    await gateway.create_cronjob(workspace, "default", _job(schedule="0 0 1 1 *"))
    run = await gateway.trigger_cronjob(workspace, "default", "report")
    assert re.fullmatch(r"report-manual-\d{10}", run.name) and run.manual
    pods = await gateway.list_pods(workspace, "default")
    assert any(p.labels.get("hexabase.io/trigger") == "manual" for p in pods)

    async def done() -> bool:
        runs = await gateway.list_job_runs(workspace, "default", "report")
        return runs[0].status == "Succeeded"

    await eventually(done, within=180)


async def test_failing_job_reports_exit_code(
    gateway: ClusterGateway, workspace: str, eventually: Wait
) -> None:
    command = ["sh", "-c", "echo connecting; exit 3"]
    await gateway.create_cronjob(
        workspace, "default", _job(schedule="0 0 1 1 *", command=command, backoff_limit=1)
    )
    await gateway.trigger_cronjob(workspace, "default", "report")

    async def failed() -> bool:
        return (await gateway.list_job_runs(workspace, "default", "report"))[0].status == "Failed"

    await eventually(failed, within=300)
    [run] = await gateway.list_job_runs(workspace, "default", "report")
    assert run.exit_code == 3 and run.attempts == 2 and run.reason == "BackoffLimitExceeded"
    assert run.logs == ["connecting"]


async def test_suspend_stops_scheduling(
    gateway: ClusterGateway, workspace: str, settle: Settle
) -> None:
    await gateway.create_cronjob(workspace, "default", _job(schedule="* * * * *"))
    assert (await gateway.suspend_cronjob(workspace, "default", "report")).suspended
    await settle(180)
    assert not await gateway.list_job_runs(workspace, "default", "report")
    assert not (await gateway.resume_cronjob(workspace, "default", "report")).suspended
    await settle(120)
    assert await gateway.list_job_runs(workspace, "default", "report")


@pytest.mark.parametrize(
    ("policy", "expected_active"), [("Forbid", 1), ("Replace", 1), ("Allow", 3)]
)
async def test_concurrency_policy(
    gateway: ClusterGateway, workspace: str, settle: Settle, policy: str, expected_active: int
) -> None:
    slow = ["sh", "-c", "echo start; sleep 600"]
    await gateway.create_cronjob(
        workspace, "default", _job(schedule="* * * * *", command=slow, concurrency_policy=policy)
    )
    await settle(185)
    info = await gateway.get_cronjob(workspace, "default", "report")
    assert len(info.active_jobs) == expected_active
    runs = await gateway.list_job_runs(workspace, "default", "report")
    if policy == "Forbid":
        assert info.active_jobs == [runs[0].name]
        events = await gateway.list_events(workspace, "default", kind="CronJob", name="report")
        assert any(e.reason == "JobAlreadyActive" for e in events)
    if policy == "Replace":
        assert info.active_jobs == [runs[-1].name]
        assert len(runs) == 1  # the replaced jobs were deleted


async def test_cronjob_from_application_and_update(
    gateway: ClusterGateway, workspace: str, ready_app: AppFactory
) -> None:
    await ready_app(workspace, env={"DB": "postgres"})
    spec = CronJobSpec(
        name="cleanup",
        schedule="@hourly",
        from_application="web",
        command=["python", "manage.py", "cleanup"],
    )
    info = await gateway.create_cronjob(workspace, "default", spec)
    assert info.image == "ghcr.io/acme/web:1.4.2" and info.from_application == "web"
    updated = await gateway.update_cronjob(
        workspace, "default", "cleanup", schedule="30 2 * * *", command=["python", "x.py"]
    )
    assert updated.schedule == "30 2 * * *" and updated.command == ["python", "x.py"]
    assert updated.next_schedule_time is not None
    assert (updated.next_schedule_time.hour, updated.next_schedule_time.minute) == (2, 30)
    with pytest.raises(InvalidInput):
        await gateway.update_cronjob(workspace, "default", "cleanup", schedule="every day")
    with pytest.raises(ValidationError):
        CronJobSpec(name="bad", schedule="61 * * * *", image="busybox:1.36")
    await gateway.delete_cronjob(workspace, "default", "cleanup")
    with pytest.raises(NotFound):
        await gateway.get_cronjob(workspace, "default", "cleanup")


# ---------------------------------------------------------------------------- functions

ADDER = """
import json

def handle(request):
    numbers = request["json"]["numbers"]
    print(f"adding {len(numbers)} numbers")
    return {"sum": sum(numbers), "method": request["method"], "q": request["query"].get("x")}
"""


async def _ready_function(
    gateway: ClusterGateway, workspace: str, eventually: Wait, source: str = ADDER
) -> None:
    spec = FunctionSpec(name="adder", source=source, timeout_seconds=2, memory="128Mi")
    info = await gateway.deploy_function(workspace, "default", spec)
    assert info.phase == "Building" and not info.ready
    assert info.latest_build.job_name == "adder-build-1"

    async def ready() -> bool:
        return (await gateway.get_function(workspace, "default", "adder")).ready

    await eventually(ready, within=300)


async def test_function_build_deploy_invoke(
    gateway: ClusterGateway, workspace: str, eventually: Wait
) -> None:
    await _ready_function(gateway, workspace, eventually)
    info = await gateway.get_function(workspace, "default", "adder")
    assert info.phase == "Ready" and info.latest_revision == "adder-00001"
    assert info.latest_build.status == "Succeeded"

    request = FunctionRequest(body=json.dumps({"numbers": [1, 2, 39]}), query={"x": "y"})
    response = await gateway.invoke_function(workspace, "default", "adder", request)
    assert response.ok and response.status_code == 200
    assert json.loads(response.body) == {"sum": 42, "method": "POST", "q": "y"}
    assert response.revision == "adder-00001"
    runtime = await gateway.get_function_logs(workspace, "default", "adder")
    assert any("adding 3 numbers" in line.message for line in runtime)
    build = await gateway.get_function_logs(workspace, "default", "adder", build=True)
    assert any("Pushed" in line.message for line in build)

    failing = await gateway.invoke_function(
        workspace, "default", "adder", FunctionRequest(body="not json")
    )
    assert not failing.ok and failing.status_code == 500 and "TypeError" in (failing.error or "")

    v2 = ADDER.replace('"sum": sum(numbers)', '"sum": sum(numbers) * 2')
    await gateway.deploy_function(
        workspace, "default", FunctionSpec(name="adder", source=v2, timeout_seconds=2)
    )

    async def second() -> bool:
        info = await gateway.get_function(workspace, "default", "adder")
        return info.latest_revision == "adder-00002"

    await eventually(second, within=300)
    doubled = await gateway.invoke_function(workspace, "default", "adder", request)
    assert json.loads(doubled.body)["sum"] == 84
    revisions = await gateway.list_function_revisions(workspace, "default", "adder")
    assert [(r.name, r.traffic_percent) for r in revisions] == [
        ("adder-00001", 0),
        ("adder-00002", 100),
    ]
    assert [f.name for f in await gateway.list_functions(workspace, "default")] == ["adder"]
    await gateway.delete_function(workspace, "default", "adder")
    with pytest.raises(NotFound):
        await gateway.get_function(workspace, "default", "adder")


async def test_function_with_a_syntax_error_fails_to_build(
    gateway: ClusterGateway, workspace: str, eventually: Wait
) -> None:
    spec = FunctionSpec(name="broken", source="def handle(request)\n    return 1\n")
    await gateway.deploy_function(workspace, "default", spec)
    with pytest.raises(Unavailable):
        await gateway.invoke_function(workspace, "default", "broken", FunctionRequest())

    async def failed() -> bool:
        return (await gateway.get_function(workspace, "default", "broken")).phase == "BuildFailed"

    await eventually(failed, within=300)
    info = await gateway.get_function(workspace, "default", "broken")
    assert "SyntaxError" in info.latest_build.message and not info.ready
    build = await gateway.get_function_logs(workspace, "default", "broken", build=True)
    assert any("error building image" in line.message for line in build)
