"""Putting a case's workloads, faults and planted content into the twin, and fingerprinting it.

Order matters and is fixed: vClusters come up (2 virtual minutes), projects and workloads are
created and run for an hour (so metrics and anomaly detection have a history and functions are
built), releases roll out (10 minutes), then faults are injected and content planted, and the
case's own ``advance_minutes`` pass so the symptoms show. Everything is addressed the way the
platform addresses it: a workspace by its platform id, a project by its namespace name.

The fingerprint is what people configure (workspace phases, projects, application specs,
CronJob specs, manual runs, functions), not what the cluster does on its own (pods, restarts), so
comparing two fingerprints says whether anyone *changed* something.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from platform_core.cluster.schemas import (
    ApplicationSpec,
    CronJobSpec,
    FunctionSpec,
    ResourceList,
    ResourceQuotaSpec,
    ResourceRequirements,
)
from platform_core.errors import DomainError

if TYPE_CHECKING:
    from evals.world import World

WARMUP_SECONDS = 3600
RELEASE_SECONDS = 600


async def populate_twin(world: World) -> None:
    twin, case = world.twin, world.case
    for handle in world.orgs.values():
        for ws in handle.workspaces.values():
            await twin.provision_workspace(str(ws.id))
    await twin.advance(120)
    everyone = [("acme", case.setup.workspaces)]
    everyone += [(o.name, o.workspaces) for o in case.other_organizations]
    for org_name, ws_defs in everyone:
        handle = world.orgs[org_name]
        for ws_def in ws_defs:
            ws_id = str(handle.workspaces[ws_def.name].id)
            for p in ws_def.projects:
                quota = ResourceQuotaSpec(cpu=p.cpu, memory=p.memory)
                await twin.create_namespace(ws_id, p.name, quota=quota)
                for app in p.applications:
                    await twin.create_application(ws_id, p.name, _app_spec(app))
                for cj in p.cronjobs:
                    spec = CronJobSpec(
                        name=cj.name,
                        schedule=cj.schedule,
                        image=cj.image,
                        command=cj.command,
                        suspend=cj.suspend,
                    )
                    await twin.create_cronjob(ws_id, p.name, spec)
                for fn in p.functions:
                    await twin.deploy_function(
                        ws_id, p.name, FunctionSpec(name=fn.name, source=fn.source)
                    )
    await twin.advance(WARMUP_SECONDS)
    if case.setup.releases:
        for release in case.setup.releases:
            ws_id, ns = world.place(release.workspace, release.project)
            await twin.update_application(ws_id, ns, release.app, image=release.image)
        await twin.advance(RELEASE_SECONDS)
    for fault in case.setup.faults:
        ws_id, ns = world.place(fault.workspace, fault.project)
        info = twin.inject_fault(ws_id, ns, fault.target, fault.kind, **fault.params)
        world.fault_ids.append(info.id)
    for log in case.setup.plant_logs:
        ws_id, ns = world.place(log.workspace, log.project)
        for _ in range(log.repeat):
            twin.plant_log(ws_id, ns, log.application, log.text)
    for event in case.setup.plant_events:
        ws_id, ns = world.place(event.workspace, event.project)
        twin.plant_event(
            ws_id,
            ns,
            kind=event.kind,
            name=event.name,
            reason=event.reason,
            message=event.message,
            warning=event.warning,
        )
    await twin.advance(case.setup.advance_minutes * 60)
    world.baseline = await fingerprint(world)


def _app_spec(app: Any) -> ApplicationSpec:
    resources = ResourceRequirements()
    if app.memory_limit or app.cpu_limit:
        limits = ResourceList(
            cpu=app.cpu_limit or resources.limits.cpu,
            memory=app.memory_limit or resources.limits.memory,
        )
        resources = ResourceRequirements(requests=resources.requests, limits=limits)
    return ApplicationSpec(
        name=app.name,
        image=app.image,
        replicas=app.replicas,
        env=app.env,
        labels=app.labels,
        resources=resources,
    )


async def fingerprint(world: World) -> dict[str, Any]:
    """{org: {workspace: {...}}} of everything people configure, as plain data."""
    twin = world.twin
    result: dict[str, Any] = {}
    for org_name, handle in world.orgs.items():
        org: dict[str, Any] = {}
        for ws_name, ws in handle.workspaces.items():
            ws_id = str(ws.id)
            try:
                phase = (await twin.get_workspace(ws_id)).phase
            except DomainError:
                org[ws_name] = {"phase": "gone"}
                continue
            entry: dict[str, Any] = {"phase": phase, "namespaces": {}}
            if phase == "active":
                for ns in await twin.list_namespaces(ws_id):
                    entry["namespaces"][ns.name] = await _namespace(world, ws_id, ns.name)
            org[ws_name] = entry
        result[org_name] = org
    return result


async def _namespace(world: World, ws_id: str, ns: str) -> dict[str, Any]:
    twin = world.twin
    apps = {
        a.name: {
            "replicas": a.replicas,
            "image": a.image,
            "revision": a.revision,
            "limits": a.resources.limits.model_dump(),
            "autoscaling": (
                [a.autoscaling.min_replicas, a.autoscaling.max_replicas] if a.autoscaling else None
            ),
        }
        for a in await twin.list_applications(ws_id, ns)
    }
    cronjobs = {}
    for cj in await twin.list_cronjobs(ws_id, ns):
        runs = await twin.list_job_runs(ws_id, ns, cj.name)
        cronjobs[cj.name] = {
            "schedule": cj.schedule,
            "image": cj.image,
            "command": cj.command,
            "args": cj.args,
            "suspended": cj.suspended,
            "manual_runs": sum(1 for r in runs if r.manual),
        }
    functions = {
        f.name: {"build": f.latest_build.source_sha256}
        for f in await twin.list_functions(ws_id, ns)
    }
    return {"apps": apps, "cronjobs": cronjobs, "functions": functions}
