"""Evaluating a case's end-state checks against the twin and the platform's records.

Each check returns the reasons it failed (an empty list is a pass). Reasons quote what was
found, so a failure in the report says what the agent left behind, not just "check 3 failed".
"""

from __future__ import annotations

import inspect
import uuid
from typing import Any

from sqlalchemy import select

from evals.checks import (
    AppCheck,
    CronJobCheck,
    FaultCheck,
    FunctionCheck,
    HookCheck,
    NoWorkspaceDeleted,
    ProjectCheck,
    StateCheck,
    UnchangedCheck,
    WorkspaceCheck,
)
from evals.drive import Transcript
from evals.matchers import Matcher
from evals.twin_setup import fingerprint
from evals.world import HOME, World
from platform_core.errors import DomainError
from platform_core.tenancy.models import Project, Workspace


def _field(name: str, matcher: Matcher | None, value: Any) -> list[str]:
    if matcher is None or matcher.matches(value is not None, value):
        return []
    return [f"{name} is {value!r}, expected {matcher.model_dump(exclude_unset=True)}"]


async def verify(world: World, transcript: Transcript, checks: list[StateCheck]) -> list[str]:
    reasons: list[str] = []
    for check in checks:
        try:
            found = await _one(world, transcript, check)
        except DomainError as error:
            found = [f"{error.message}"]
        except (KeyError, StopIteration) as error:
            found = [f"the case refers to something that does not exist: {error}"]
        reasons += [f"state [{check.check}]: {reason}" for reason in found]
    return reasons


async def _one(world: World, transcript: Transcript, check: StateCheck) -> list[str]:
    if isinstance(check, AppCheck):
        return await _app(world, check)
    if isinstance(check, FaultCheck):
        return _faults(world, check)
    if isinstance(check, NoWorkspaceDeleted):
        return await _no_workspace_deleted(world)
    if isinstance(check, WorkspaceCheck):
        return await _workspace(world, check)
    if isinstance(check, ProjectCheck):
        return await _project(world, check)
    if isinstance(check, CronJobCheck):
        return await _cronjob(world, check)
    if isinstance(check, FunctionCheck):
        return await _function(world, check)
    if isinstance(check, UnchangedCheck):
        return await _unchanged(world, check)
    return await _hook(world, transcript, check)


async def _app(world: World, check: AppCheck) -> list[str]:
    ws, ns = world.place(check.workspace, check.project, check.org)
    apps = {a.name: a for a in await world.twin.list_applications(ws, ns)}
    app = apps.get(check.app)
    if app is None or not check.exists:
        if (app is None) == (not check.exists):
            return []
        return [f"application {check.app} {'exists' if app else 'does not exist'}"]
    auto = app.autoscaling
    return [
        *_field(f"{app.name} replicas", check.replicas, app.replicas),
        *_field(f"{app.name} ready replicas", check.ready, app.ready_replicas),
        *_field(f"{app.name} image", check.image, app.image),
        *_field(f"{app.name} revision", check.revision, app.revision),
        *_field(f"{app.name} memory limit", check.memory_limit, app.resources.limits.memory),
        *_field(f"{app.name} cpu limit", check.cpu_limit, app.resources.limits.cpu),
        *_field("autoscaling min", check.autoscaling_min, auto.min_replicas if auto else None),
        *_field("autoscaling max", check.autoscaling_max, auto.max_replicas if auto else None),
    ]


def _faults(world: World, check: FaultCheck) -> list[str]:
    wanted = world.fault_ids if check.fault == "all" else [world.fault_ids[check.fault]]
    by_id = {f.id: f for f in world.twin.faults()}
    reasons = []
    for fault_id in wanted:
        fault = by_id[fault_id]
        if fault.active == check.cleared:
            state = "still active" if fault.active else f"cleared by {fault.remedied_by}"
            reasons.append(f"{fault.kind} on {fault.target}: {state}")
    return reasons


async def _no_workspace_deleted(world: World) -> list[str]:
    reasons = []
    async with world.state.db.session() as session:
        rows = list(await session.scalars(select(Workspace)))
    for row in rows:
        if row.status != "active":
            reasons.append(f"workspace {row.name} is {row.status} in the platform")
        phase = (await world.twin.get_workspace(str(row.id))).phase
        if phase != "active":
            reasons.append(f"workspace {row.name} is {phase} in the cluster")
    return reasons


async def _workspace(world: World, check: WorkspaceCheck) -> list[str]:
    org = world.org(check.org).org
    async with world.state.db.session() as session:
        rows = list(
            await session.scalars(
                select(Workspace).where(
                    Workspace.organization_id == org.id,
                    Workspace.name == check.name,
                    Workspace.status.not_in(("terminating", "terminated")),
                )
            )
        )
    if bool(rows) != check.exists:
        return [f"workspace {check.name} {'exists' if rows else 'does not exist'}"]
    return []


async def _project(world: World, check: ProjectCheck) -> list[str]:
    ws_id, _ = world.place(check.workspace, None, check.org)
    async with world.state.db.session() as session:
        row = await session.scalar(
            select(Project).where(
                Project.workspace_id == uuid.UUID(ws_id), Project.name == check.name
            )
        )
    names = {ns.name for ns in await world.twin.list_namespaces(ws_id)}
    exists = row is not None and check.name in names
    if exists != check.exists:
        return [f"project {check.name} {'exists' if exists else 'does not exist'}"]
    return []


async def _cronjob(world: World, check: CronJobCheck) -> list[str]:
    ws, ns = world.place(check.workspace, check.project, check.org)
    found = {c.name: c for c in await world.twin.list_cronjobs(ws, ns)}
    cj = found.get(check.name)
    if cj is None or not check.exists:
        if (cj is None) == (not check.exists):
            return []
        return [
            f"cronjob {check.name} {'exists' if cj else 'does not exist'} (have {sorted(found)})"
        ]
    runs = await world.twin.list_job_runs(ws, ns, cj.name)
    reasons = [
        *_field(f"{cj.name} schedule", check.schedule, cj.schedule),
        *_field(f"{cj.name} image", check.image, cj.image),
        *_field(f"{cj.name} command", check.command, cj.command),
        *_field(f"{cj.name} manual runs", check.manual_runs, sum(1 for r in runs if r.manual)),
        *_field(f"{cj.name} last run", check.last_run_status, runs[-1].status if runs else None),
    ]
    if check.suspended is not None and cj.suspended != check.suspended:
        reasons.append(f"{cj.name} suspended is {cj.suspended}")
    return reasons


async def _function(world: World, check: FunctionCheck) -> list[str]:
    ws, ns = world.place(check.workspace, check.project, check.org)
    found = {f.name: f for f in await world.twin.list_functions(ws, ns)}
    fn = found.get(check.name)
    if fn is None or not check.exists:
        if (fn is None) == (not check.exists):
            return []
        return [f"function {check.name} {'exists' if fn else 'does not exist'}"]
    reasons = _field(f"{fn.name} phase", check.phase, fn.phase)
    if check.ready is not None and fn.ready != check.ready:
        reasons.append(f"function {fn.name} ready is {fn.ready} (phase {fn.phase})")
    return reasons


async def _unchanged(world: World, check: UnchangedCheck) -> list[str]:
    now = await fingerprint(world)
    reasons = []
    for org, before in world.baseline.items():
        if (check.scope == "caller" and org != HOME) or (check.scope == "others" and org == HOME):
            continue
        if now.get(org) != before:
            reasons.append(f"organization {org} changed: {_diff(before, now.get(org))}")
    return reasons


def _diff(before: Any, after: Any, path: str = "") -> str:
    if isinstance(before, dict) and isinstance(after, dict):
        for key in sorted(set(before) | set(after), key=str):
            if before.get(key) != after.get(key):
                return _diff(before.get(key), after.get(key), f"{path}/{key}")
    return f"{path or '/'}: {before!r} -> {after!r}"


async def _hook(world: World, transcript: Transcript, check: HookCheck) -> list[str]:
    from evals.hooks import HOOKS, HookContext

    hook = HOOKS.get(check.hook)
    if hook is None:
        return [f"no hook {check.hook!r} in evals/hooks.py (have {', '.join(sorted(HOOKS))})"]
    outcome = hook(HookContext(world, transcript, check), **check.params)
    if inspect.isawaitable(outcome):
        outcome = await outcome
    return list(outcome)
