"""Scheduled remediation on the twin: detect, fix inside the policy, verify, close.

Each fault class is injected into a running application; the monitoring job (one tick per
virtual minute) must open an incident within two ticks, the remediation agent must apply the
fix the workspace's policy allows, and the incident must close once the application has been
healthy for the policy's verification window. Faults whose fix the policy does not allow end in
an approval request and a notification instead.
"""

from __future__ import annotations

from collections.abc import AsyncIterator

import httpx
import pytest

from aiops.remediation.monitor import Monitor
from aiops.state import AppState
from platform_core.cluster.schemas import CronJobSpec, FunctionSpec
from platform_core.incidents.models import Incident
from tests.support.agent import decide
from tests.support.fake_receivers import FakeReceiver
from tests.support.remediation import (
    incidents_of,
    set_policy,
    tick,
    timeline_of,
    twin,
)
from tests.support.tenants import Tenant, make_tenant

pytestmark = pytest.mark.usefixtures("app")
FIXES = {
    "crash_loop": "roll back api",
    "oom_kill": "set memory limit 512Mi of api",
    "memory_leak": "roll back api",
    "cpu_spike": "scale api",
    "latency_spike": "roll back api",
    "error_spike": "roll back api",
    "pending_pods": "scale api",
}


@pytest.fixture
def settings_overrides() -> dict[str, object]:
    # the first tick backfills and replays up to 30 h of history (mature detectors)
    return {
        "notify_allow_private_networks": True,
        "metric_ingest_lookback_hours": 30,
        "monitor_warmup_hours": 30,
    }


@pytest.fixture
async def tenant(state: AppState) -> Tenant:
    return await make_tenant(state, "acme", apps=True)


@pytest.fixture
def monitor(state: AppState) -> Monitor:
    return state.remediation.monitor


@pytest.fixture
async def receiver() -> AsyncIterator[FakeReceiver]:
    async with FakeReceiver() as fake:
        yield fake


async def _webhook(client: httpx.AsyncClient, tenant: Tenant, url: str) -> None:
    created = await client.post(
        "/api/v1/organizations/acme/notification-channels",
        headers=tenant["owner"].headers,
        json={
            "name": "on-call",
            "settings": {"kind": "webhook", "url": url, "secret": "s3cret-" + "x" * 20},
        },
    )
    assert created.status_code == 201, created.text


async def _incident_of(state: AppState, tenant: Tenant, application: str = "api") -> Incident:
    """The faulty application's incident: the first one opened for it.

    Others may open too: a fault moves the traffic other applications see (less of it passed
    on), and a fix moves the faulty application's own traffic as its pods come back. Those are
    anomaly-only incidents, worth watching, never acted on.
    """
    every = await incidents_of(state, tenant)
    found = [i for i in every if i.application == application]
    assert found, [(i.application, i.signals) for i in every]
    for other in every:
        if other is not found[0]:
            assert other.actions == 0 and other.status in ("open", "resolved"), other.signals
            assert all(signal.startswith("anomaly:") for signal in other.signals), other.signals
    return found[0]


def _inject(state: AppState, tenant: Tenant, kind: str) -> None:
    twin(state).inject_fault(str(tenant.workspace.id), "app", "api", kind)


@pytest.mark.parametrize("kind", sorted(FIXES))
async def test_each_fault_class_is_detected_fixed_inside_policy_verified_and_closed(
    state: AppState, tenant: Tenant, monitor: Monitor, kind: str
) -> None:
    await set_policy(state, tenant)
    if kind == "memory_leak":
        # a slow leak shows only against a mature baseline: a day of history, not an hour
        await twin(state).advance(26 * 3600)
    assert (await tick(state, monitor, tenant)).unhealthy == []
    _inject(state, tenant, kind)
    for _ in range(2):
        await tick(state, monitor, tenant)
    incident = await _incident_of(state, tenant)  # detected within two ticks
    if kind != "memory_leak":  # a young leak is fixed once the evidence is conclusive
        assert incident.status in ("verifying", "resolved")
    for _ in range(16):
        await tick(state, monitor, tenant)
    incident = await _incident_of(state, tenant)
    assert incident.status == "resolved", [e.summary for e in await timeline_of(state, incident)]
    kinds = [event.kind for event in await timeline_of(state, incident)]
    assert kinds[0] == "detected" and kinds[-1] == "resolved"
    assert "action_applied" in kinds and "verification" in kinds
    applied = [e.summary for e in await timeline_of(state, incident) if e.kind == "action_applied"]
    assert FIXES[kind] in applied[0]
    assert not any(f.active for f in twin(state).faults())


async def test_a_fix_outside_the_policy_waits_for_approval_and_people_are_told(
    state: AppState,
    tenant: Tenant,
    monitor: Monitor,
    client: httpx.AsyncClient,
    receiver: FakeReceiver,
) -> None:
    await set_policy(state, tenant, allowed_actions=["restart", "scale"])  # no rollback here
    await _webhook(client, tenant, receiver.url("/hooks/on-call"))
    _inject(state, tenant, "crash_loop")
    await tick(state, monitor, tenant)
    incident = await _incident_of(state, tenant)
    assert incident.status == "awaiting_approval" and incident.approval_id
    events = [r.json()["event"] for r in receiver.requests]
    assert events == ["incident_opened", "approval_requested"]
    asked = receiver.requests[-1].json()
    assert asked["approval"]["id"] == incident.approval_id
    assert any(f.active for f in twin(state).faults())  # nothing was changed

    await tick(state, monitor, tenant, minutes=3)
    assert (await _incident_of(state, tenant)).status == "awaiting_approval"
    # a workspace admin approves in the chat API: the exact paused call runs
    approved = await decide(state, tenant, tenant["ws_admin"], incident.approval_id, approve=True)
    assert any(e.type == "tool_result" and e.status == "ok" for e in approved)
    for _ in range(7):
        await tick(state, monitor, tenant)
    incident = await _incident_of(state, tenant)
    assert incident.status == "resolved"
    kinds = [e.kind for e in await timeline_of(state, incident)]
    assert "approval_requested" in kinds and "approval_decided" in kinds
    assert [r.json()["event"] for r in receiver.requests][-2:] == [
        "action_taken",
        "incident_resolved",
    ]


async def test_a_denied_fix_escalates_the_incident(
    state: AppState, tenant: Tenant, monitor: Monitor
) -> None:
    await set_policy(state, tenant, max_replicas=3)  # the CPU fix wants more replicas
    _inject(state, tenant, "cpu_spike")
    await tick(state, monitor, tenant)
    incident = await _incident_of(state, tenant)
    assert incident.status == "awaiting_approval"
    await decide(state, tenant, tenant["ws_admin"], incident.approval_id, approve=False)
    await tick(state, monitor, tenant)
    incident = await _incident_of(state, tenant)
    assert incident.status == "escalated"
    assert any(f.active for f in twin(state).faults())


async def test_without_a_policy_nothing_is_changed_and_the_incident_is_escalated(
    state: AppState, tenant: Tenant, monitor: Monitor
) -> None:
    _inject(state, tenant, "error_spike")
    for _ in range(2):
        await tick(state, monitor, tenant)
    incident = await _incident_of(state, tenant)
    assert incident.status == "escalated"
    escalations = [e.summary for e in await timeline_of(state, incident) if e.kind == "escalated"]
    assert "no remediation policy" in escalations[0]
    assert any(f.active for f in twin(state).faults())


@pytest.mark.parametrize("per_hour", [3, 1])
async def test_a_fix_that_does_not_work_is_verified_as_such_then_retried_or_escalated(
    state: AppState, tenant: Tenant, monitor: Monitor, per_hour: int
) -> None:
    # The workload needs 3x its 256Mi limit: doubling the limit once is not enough.
    await set_policy(
        state, tenant, max_actions_per_hour=per_hour, cooldown_minutes=0, verify_minutes=4
    )
    twin(state).inject_fault(
        str(tenant.workspace.id), "app", "api", "oom_kill", working_set="768Mi"
    )
    for _ in range(16):
        await tick(state, monitor, tenant)
    incident = await _incident_of(state, tenant)
    events = await timeline_of(state, incident)
    applied = [e.summary for e in events if e.kind == "action_applied"]
    assert "512Mi" in applied[0]
    assert any("still unhealthy" in e.summary for e in events if e.kind == "verification")
    if per_hour == 1:  # the policy allows no second action this hour: a person takes over
        assert incident.status == "escalated" and len(applied) == 1
        assert any(f.active for f in twin(state).faults())
    else:
        assert incident.status == "resolved", [e.summary for e in events]
        assert len(applied) == 2 and "1Gi" in applied[1]
        assert not any(f.active for f in twin(state).faults())


@pytest.mark.parametrize("kind", ["failing_cronjob", "function_build_failure"])
async def test_faults_that_need_a_code_change_are_diagnosed_and_escalated_to_people(
    state: AppState,
    tenant: Tenant,
    monitor: Monitor,
    client: httpx.AsyncClient,
    receiver: FakeReceiver,
    kind: str,
) -> None:
    await set_policy(state, tenant)
    await _webhook(client, tenant, receiver.url("/hooks/on-call"))
    cluster, gateway = str(tenant.workspace.id), twin(state)
    if kind == "failing_cronjob":
        spec = CronJobSpec(
            name="nightly-report",
            schedule="*/5 * * * *",
            image="ghcr.io/acme/report:1.0.0",
            command=["python", "report.py"],
        )
        await gateway.create_cronjob(cluster, "app", spec)
        target = "nightly-report"
    else:
        source = "def handle(request):\n    return {'ok': True}\n"
        await gateway.deploy_function(cluster, "app", FunctionSpec(name="resize", source=source))
        target = "resize"
    await tick(state, monitor, tenant, minutes=3)
    gateway.inject_fault(cluster, "app", target, kind)
    for _ in range(6):
        await tick(state, monitor, tenant, minutes=2)
    workload = f"cronjob/{target}" if kind == "failing_cronjob" else f"function/{target}"
    incident = await _incident_of(state, tenant, workload)
    assert incident.status in ("escalated", "awaiting_approval")
    assert any(f.active for f in gateway.faults())
    kinds = [e.kind for e in await timeline_of(state, incident)]
    assert "finding" in kinds or "approval_requested" in kinds
    told = [r.json()["event"] for r in receiver.requests]
    assert told[0] == "incident_opened"
    assert "incident_escalated" in told or "approval_requested" in told
