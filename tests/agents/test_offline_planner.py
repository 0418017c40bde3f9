"""The offline planner: requests as people write them, diagnosis that finds the real fix."""

from __future__ import annotations

import pytest

from agents.models.offline import OfflinePlanner
from agents.models.offline.intents import detect
from aiops.state import AppState
from platform_core.cluster.twin.cluster import SimulatedCluster
from tests.support.agent import decide, final_text, of_type, turn, use_model
from tests.support.tenants import Tenant, make_tenant


@pytest.mark.parametrize(
    ("message", "kind", "fields"),
    [
        (
            "scale web in workspace demo to 3 replicas",
            "scale",
            {"app": "web", "replicas": 3, "workspace": "demo"},
        ),
        (
            "please bump the api deployment up to five instances",
            "scale",
            {"app": "api", "replicas": 5},
        ),
        ("scale up web by 2", "scale", {"app": "web", "delta": 2}),
        ("set web replicas to 0", "scale", {"app": "web", "replicas": 0}),
        ("scale it to 5 instead", "scale", {"app": None, "replicas": 5}),
        ("how many replicas does web have in workspace demo?", "describe", {"app": "web"}),
        ("is the checkout service healthy?", "describe", {"app": "checkout"}),
        ("restart the worker", "restart", {"app": "worker"}),
        ("bounce api please", "restart", {"app": "api"}),
        ("roll back web", "rollback", {"app": "web"}),
        ("undo the last deploy of web", "rollback", {"app": "web"}),
        ("why is api failing?", "diagnose", {"app": "api"}),
        ("the worker keeps restarting", "diagnose", {"app": "worker"}),
        (
            "what's wrong with web in workspace prod",
            "diagnose",
            {"app": "web", "workspace": "prod"},
        ),
        ("fix web", "diagnose", {"app": "web"}),
        ("show me the logs of web from the last 10 minutes", "logs", {"app": "web", "minutes": 10}),
        ("last 50 lines of worker's logs", "logs", {"app": "worker", "lines": 50}),
        ("events for worker", "events", {"app": "worker"}),
        ("cpu and memory of api over the past 2 hours", "metrics", {"app": "api", "minutes": 120}),
        ("anything unusual with web today?", "anomalies", {"app": "web"}),
        ("list my workspaces", "list_workspaces", {}),
        ("what apps are running in workspace demo", "list_apps", {"workspace": "demo"}),
        (
            "create a cronjob called backup that runs every day at 3am using image busybox:1.36",
            "create_cronjob",
            {"name": "backup"},
        ),
        ("trigger cronjob backup now", "trigger_cronjob", {"name": "backup"}),
        ("did the backup job succeed?", "cronjob_history", {"name": "backup"}),
        ("autoscale web between 2 and 10 replicas", "autoscale", {"app": "web"}),
        ("give web more memory: 1Gi limit", "set_resources", {"app": "web"}),
        ("create project staging with 4 cpu and 8Gi memory", "create_project", {"name": "staging"}),
        ("delete workspace prod", "delete_workspace", {"workspace": "prod"}),
        ("how many tokens did we use this month?", "usage", {}),
        ('invoke function hello with {"name": "ada"}', "invoke_function", {"name": "hello"}),
        ("hi", "greeting", {}),
        ("write me a poem about the sea", "help", {}),
    ],
)
def test_requests_are_understood_as_written(
    message: str, kind: str, fields: dict[str, object]
) -> None:
    intent = detect(message)
    assert intent.kind == kind
    for key, value in fields.items():
        assert getattr(intent, key) == value, key


@pytest.fixture
async def tenant(state: AppState) -> Tenant:
    use_model(state, OfflinePlanner(), provider="offline")
    return await make_tenant(state, "acme", apps=True)


def twin_of(state: AppState) -> SimulatedCluster:
    twin = state.cluster
    assert isinstance(twin, SimulatedCluster)
    return twin


FAULTS = [
    ("crash_loop", {"cause": "bad_image"}, "web", "rollback_application"),
    ("crash_loop", {"cause": "bad_command"}, "web", "rollback_application"),
    ("oom_kill", {}, "api", "set_resources"),
    ("memory_leak", {}, "api", "rollback_application"),
    ("cpu_spike", {}, "api", "scale_application"),
    ("latency_spike", {}, "web", "rollback_application"),
    ("error_spike", {}, "web", "rollback_application"),
    ("pending_pods", {"cause": "quota"}, "api", "scale_application"),
]


@pytest.mark.parametrize(
    ("kind", "params", "target", "remedy"),
    FAULTS,
    ids=[f"{f[0]}-{f[1].get('cause', '')}" for f in FAULTS],
)
async def test_diagnosis_finds_the_fault_and_its_approved_fix_clears_it(
    state: AppState, tenant: Tenant, kind: str, params: dict[str, object], target: str, remedy: str
) -> None:
    twin = twin_of(state)
    ws = str(tenant.workspace.id)
    fault = twin.inject_fault(ws, "app", target, kind, **params)
    await twin.advance(15 * 60)
    assert any(f.id == fault.id and f.active for f in twin.faults(active_only=True))

    events = await turn(
        state,
        tenant,
        tenant["owner"],
        f"{target} is broken, please fix it",
        workspace="acme-ws",
        project="app",
    )
    tools = [e.tool for e in of_type(events, "tool_call")]
    assert tools[:4] == ["describe_application", "list_events", "get_pod_logs", "get_metrics"]
    assert events[-1].type == "approval_required", (
        final_text(events) if of_type(events, "final") else events
    )
    assert events[-1].tool == remedy
    resumed = await decide(state, tenant, tenant["owner"], events[-1].approval_id, approve=True)
    assert of_type(resumed, "tool_result")[0].status == "ok"
    await twin.advance(10 * 60)
    still = [f for f in twin.faults(active_only=True) if f.id == fault.id]
    assert still == [], f"{kind} not cleared by {remedy}"


async def test_diagnosis_without_fix_only_reports(state: AppState, tenant: Tenant) -> None:
    twin = twin_of(state)
    twin.inject_fault(str(tenant.workspace.id), "app", "web", "crash_loop", cause="bad_image")
    await twin.advance(10 * 60)
    events = await turn(
        state, tenant, tenant["viewer"], "why is web failing?", workspace="acme-ws", project="app"
    )
    text = final_text(events)
    assert "cannot be pulled" in text and "rolling back" in text
    assert not of_type(events, "approval_required")


async def test_the_demo_walkthrough(state: AppState, tenant: Tenant) -> None:
    """Scale with approval, then ask about it in a new conversation."""
    events = await turn(
        state, tenant, tenant["owner"], "scale web in workspace acme-ws to 3 replicas"
    )
    assert events[-1].type == "approval_required"
    await decide(state, tenant, tenant["owner"], events[-1].approval_id, approve=True)
    answer = await turn(
        state, tenant, tenant["owner"], "how many replicas does web have in workspace acme-ws?"
    )
    assert final_text(answer).startswith("web has 3 replicas")


async def test_follow_ups_refer_back(state: AppState, tenant: Tenant) -> None:
    first = await turn(
        state, tenant, tenant["owner"], "scale web to 3", workspace="acme-ws", project="app"
    )
    session_id = first[0].session_id
    await decide(state, tenant, tenant["owner"], first[-1].approval_id, approve=True)
    second = await turn(
        state, tenant, tenant["owner"], "scale it to 5 instead", session_id=session_id
    )
    pending = second[-1]
    assert pending.type == "approval_required"
    assert pending.arguments["application"] == "web" and pending.arguments["replicas"] == 5


async def test_unknown_requests_get_a_plain_answer(state: AppState, tenant: Tenant) -> None:
    events = await turn(state, tenant, tenant["owner"], "write me a poem about the sea")
    text = final_text(events)
    assert text.startswith("I can list and inspect workspaces")
    assert not of_type(events, "tool_call")
