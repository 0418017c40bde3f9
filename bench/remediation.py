"""Time to detect and time to recover, per fault class, with scheduled remediation on the twin.

For each fault class: a fresh service on its embedded defaults, the demo tenant (web, api and
worker with two virtual hours of history), a remediation policy with the defaults, one
monitoring tick to warm the detectors; then the fault is injected into ``api`` (into a CronJob or
a function for the classes that live there) and the workspace's monitoring job runs once per
virtual minute, as the scheduler would. Everything is real but the clock: detection (health
symptoms and the metric store's detectors), the remediation agent (the offline planner) under
the policy, verification and notifications.

Reported in virtual minutes after the injection: when the incident opened (detect), when the
first fix was applied, when the twin says the fault stopped hurting (recover: its own ground
truth, not what the service believes), and when the incident closed (verified) or was escalated.

    .venv/bin/python bench/remediation.py [--max-minutes 30] [--kinds crash_loop,oom_kill]
"""

from __future__ import annotations

import argparse
import asyncio
import json
import statistics
import tempfile
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

from sqlalchemy import select

from aiops.state import AppState
from platform_core.auth.subjects import load_subject
from platform_core.cluster.schemas import CronJobSpec, FunctionSpec
from platform_core.cluster.twin.cluster import SimulatedCluster
from platform_core.cluster.twin.faults import FAULT_KINDS
from platform_core.config import Settings
from platform_core.context import CallContext
from platform_core.db.migrate import upgrade
from platform_core.demo import DEMO_PROJECT, DemoTenant, seed_demo, seed_demo_cluster
from platform_core.incidents.models import Incident, IncidentEvent
from platform_core.remediation import service as policies
from platform_core.remediation.schemas import RemediationPolicyWrite


@dataclass
class Outcome:
    kind: str
    detect: float | None = None
    first_action: float | None = None
    recovered: float | None = None
    closed: float | None = None
    status: str = "not detected"
    action: str = ""


def _minutes(moment: datetime | None, since: datetime) -> float | None:
    return None if moment is None else round((moment - since).total_seconds() / 60, 1)


async def _prepare(data_dir: Path) -> tuple[AppState, DemoTenant]:
    settings = Settings(
        _env_file=None,
        data_dir=data_dir,
        rate_limit_enabled=False,
        scheduler_enabled=False,
        log_json=False,
        log_level="WARNING",
    )
    state = AppState.build(settings)
    await upgrade(state.db.engine)
    async with state.db.session() as session:
        demo = await seed_demo(session, settings, state.auth.passwords)
        await session.commit()
    await state.start()
    assert isinstance(state.gateway, SimulatedCluster)
    await seed_demo_cluster(state.gateway, demo)
    async with state.db.session() as session:
        admin = await load_subject(session, "user", str(demo.admin.id))
        await policies.put_policy(
            session,
            CallContext(subject=admin, request_id="bench"),
            demo.organization,
            demo.workspace,
            RemediationPolicyWrite(),
            state.auth.api_keys,
        )
        await session.commit()
    return state, demo


async def _target(twin: SimulatedCluster, cluster: str, kind: str) -> str:
    if kind == "failing_cronjob":
        spec = CronJobSpec(
            name="nightly-report",
            schedule="*/5 * * * *",
            image="ghcr.io/hexabase/report:1.0.0",
            command=["python", "report.py"],
        )
        await twin.create_cronjob(cluster, DEMO_PROJECT, spec)
        return spec.name
    if kind == "function_build_failure":
        source = "def handle(request):\n    return {'ok': True}\n"
        await twin.deploy_function(
            cluster, DEMO_PROJECT, FunctionSpec(name="resize", source=source)
        )
        return "resize"
    return "api"


async def _state_of(state: AppState, demo: DemoTenant, outcome: Outcome, since: datetime) -> None:
    async with state.db.session() as session:
        incident = await session.scalar(
            select(Incident)
            .where(Incident.workspace_id == demo.workspace.id)
            .order_by(Incident.opened_at)
        )
        if incident is None:
            return
        applied = await session.scalar(
            select(IncidentEvent)
            .where(IncidentEvent.incident_id == incident.id, IncidentEvent.kind == "action_applied")
            .order_by(IncidentEvent.id)
        )
    outcome.detect = _minutes(incident.opened_at, since)
    outcome.status = incident.status
    outcome.closed = _minutes(incident.resolved_at, since)
    if applied is not None:
        outcome.first_action = _minutes(applied.at, since)
        outcome.action = applied.summary.removeprefix("applied: ").split(" (")[0]


async def run_kind(kind: str, max_minutes: int) -> Outcome:
    outcome = Outcome(kind)
    with tempfile.TemporaryDirectory(prefix="aiops-remediation-bench-") as tmp:
        state, demo = await _prepare(Path(tmp))
        try:
            twin = state.gateway
            assert isinstance(twin, SimulatedCluster)
            cluster = str(demo.workspace.id)
            monitor = state.remediation.monitor
            target = await _target(twin, cluster, kind)
            for _ in range(3):
                await twin.advance(60)
                await monitor.run_workspace(demo.workspace.id)
            fault = twin.inject_fault(cluster, DEMO_PROJECT, target, kind)
            injected = fault.injected_at
            for _ in range(max_minutes):
                await twin.advance(60)
                await monitor.run_workspace(demo.workspace.id)
                await _state_of(state, demo, outcome, injected)
                if outcome.status in ("resolved", "escalated", "awaiting_approval"):
                    break
            truth = next(f for f in twin.faults() if f.id == fault.id)
            outcome.recovered = _minutes(truth.remedied_at, injected)
        finally:
            await state.close()
    return outcome


def _cell(value: float | None) -> str:
    return "-" if value is None else f"{value:g}"


def _median(values: list[float | None]) -> float | None:
    present = [v for v in values if v is not None]
    return round(statistics.median(present), 1) if present else None


async def measure(kinds: list[str], max_minutes: int) -> list[Outcome]:
    return [await run_kind(kind, max_minutes) for kind in kinds]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--max-minutes", type=int, default=30)
    parser.add_argument("--kinds", default=",".join(FAULT_KINDS))
    args = parser.parse_args()
    kinds = [k for k in args.kinds.split(",") if k]
    outcomes = asyncio.run(measure(kinds, args.max_minutes))
    header = (
        f"{'fault':<24}{'detect':>8}{'action':>8}{'recover':>9}{'closed':>8}  {'outcome':<18}fix"
    )
    print("virtual minutes after the fault was injected\n" + header)
    for o in outcomes:
        print(
            f"{o.kind:<24}{_cell(o.detect):>8}{_cell(o.first_action):>8}{_cell(o.recovered):>9}"
            f"{_cell(o.closed):>8}  {o.status:<18}{o.action}"
        )
    figures: dict[str, Any] = {
        "faults": len(outcomes),
        "detected": sum(o.detect is not None for o in outcomes),
        "recovered": sum(o.recovered is not None for o in outcomes),
        "closed_verified": sum(o.status == "resolved" for o in outcomes),
        "median_detect_min": _median([o.detect for o in outcomes]),
        "median_recover_min": _median([o.recovered for o in outcomes]),
    }
    for o in outcomes:
        figures[f"{o.kind}_detect_min"] = o.detect
        figures[f"{o.kind}_recover_min"] = o.recovered
    print(json.dumps(figures))


if __name__ == "__main__":
    main()
