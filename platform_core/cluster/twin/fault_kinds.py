"""How each fault kind is injected, and how to tell whether it still hurts.

``INJECTORS[kind](core, ws, ns, fault)`` changes the cluster the way the real incident would
(ships a bad release, lowers a quota, drains pods, adds load, breaks a command) and
``SYMPTOMATIC[kind](core, fault)`` answers whether its symptoms are present right now. See the
remedy table in ``faults``.
"""

from __future__ import annotations

import math
import re
from collections.abc import Callable

from platform_core.cluster.quantity import format_memory, memory_bytes
from platform_core.cluster.twin import (
    deployments,
    effects,
    functions,
    model,
    pods,
    scheduling,
    templates,
)
from platform_core.cluster.twin.core import TwinCore
from platform_core.cluster.twin.state import App, Fault, Namespace, Pod, PodTemplate, Workspace
from platform_core.errors import InvalidInput, NotFound

Injector = Callable[[TwinCore, Workspace, Namespace, Fault], None]
Check = Callable[[TwinCore, Fault], bool]

DEFAULTS: dict[str, dict[str, object]] = {
    "crash_loop": {"cause": "bad_image", "image": None, "command": None, "args": None},
    "oom_kill": {"working_set": None, "ramp_seconds": 90.0},
    "memory_leak": {"rate_mib_per_min": None},
    "cpu_spike": {"factor": None, "duration_seconds": 3600.0},
    "latency_spike": {"added_ms": 1500.0},
    "error_spike": {"rate": 0.35, "message": None},
    "pending_pods": {"cause": "quota", "evict": None},
    "failing_cronjob": {
        "exit_code": 1,
        "error": "ModuleNotFoundError: No module named 'reportlib'",
    },
    "function_build_failure": {
        "error": "SyntaxError: (unicode error) 'utf-8' codec can't decode byte 0xe9 in "
        "position 14: invalid continuation byte"
    },
}
ERROR_MESSAGES = (
    "TypeError: Cannot read properties of undefined (reading 'id')",
    "psycopg2.errors.UndefinedColumn: column orders.discount_code does not exist",
    "panic: runtime error: invalid memory address or nil pointer dereference",
    'java.lang.NullPointerException: Cannot invoke "String.length()" because "code" is null',
)
BAD_COMMAND = ["/app/server", "--config", "/etc/app/config.missing.yaml"]
_SEMVER = re.compile(r"^(v?)(\d+)\.(\d+)\.(\d+)(.*)$")


def bump_tag(image: str) -> str:
    """The next release's tag: ``web:1.4.2`` -> ``web:1.4.3``, ``web`` -> ``web:v2``."""
    slash = image.rfind("/")
    colon = image.rfind(":")
    if colon <= slash:
        return f"{image}:v2"
    repo, tag = image[:colon], image[colon + 1 :]
    match = _SEMVER.match(tag)
    if match:
        prefix, major, minor, patch, _ = match.groups()
        return f"{repo}:{prefix}{major}.{minor}.{int(patch) + 1}"
    if tag.isdigit():
        return f"{repo}:{int(tag) + 1}"
    return f"{repo}:{tag}-2"


def _app(ns: Namespace, fault: Fault) -> App:
    app = ns.apps.get(fault.target)
    if app is None:
        raise NotFound(f'deployments.apps "{fault.target}" not found in namespace "{ns.name}"')
    app.fault_ids.append(fault.id)
    return app


def _release(core: TwinCore, ws: Workspace, ns: Namespace, app: App, **changes: object) -> None:
    spec = templates.spec_of(app).model_copy(update=changes)
    tpl = templates.make_template(spec)
    what = ", ".join(f"{k} {v}" for k, v in changes.items())
    deployments.set_template(core, ws, ns, app, tpl, cause=f"release: {what}")
    core.note(ws.id, ns.name, app.name, f"release ({what})")


def _inject_crash_loop(core: TwinCore, ws: Workspace, ns: Namespace, fault: Fault) -> None:
    app = _app(ns, fault)
    params = fault.params
    if params["cause"] == "bad_image":
        fault.image = str(params["image"] or bump_tag(app.template.image))
        params["image"] = fault.image
        _release(core, ws, ns, app, image=fault.image)
    elif params["cause"] == "bad_command":
        fault.command = list(params["command"] or BAD_COMMAND)
        params["command"] = fault.command
        _release(core, ws, ns, app, command=fault.command, args=params["args"])
    else:
        raise InvalidInput("crash_loop cause must be 'bad_image' or 'bad_command'")


def _inject_code_defect(core: TwinCore, ws: Workspace, ns: Namespace, fault: Fault) -> None:
    """Leak, latency and error faults ship as a release of a new image carrying the defect."""
    app = _app(ns, fault)
    params = fault.params
    if fault.kind == "memory_leak" and params["rate_mib_per_min"] is None:
        headroom = app.template.mem_lim - app.load.base_mem
        params["rate_mib_per_min"] = round(headroom / effects.MIB / 20.0, 3)  # ~20 min to OOM
    if fault.kind == "error_spike" and params["message"] is None:
        params["message"] = core.rng.choice(ERROR_MESSAGES)
    fault.image = bump_tag(app.template.image)
    params["image"] = fault.image
    _release(core, ws, ns, app, image=fault.image)


def _inject_oom(core: TwinCore, ws: Workspace, ns: Namespace, fault: Fault) -> None:
    app = _app(ns, fault)
    params = fault.params
    text = params["working_set"]
    working_set = memory_bytes(str(text)) if text else 2 * app.template.mem_lim
    params["working_set"] = format_memory(working_set)
    params["working_set_bytes"] = working_set
    for pod in app_pods(ns, app):
        effects.apply(pod, effects.template_effects(core, app, _template_of(app, pod)))
        run = pod.runs[-1] if pod.runs else None
        if run is not None and run.end is None and pod.mem_slope > 0:
            run.mem_base, run.mem_t0, run.mem_slope = (
                pods.memory_at(run, core.t),
                core.t,
                pod.mem_slope,
            )
            pods.schedule_oom(core, ws, ns, pod)


def _inject_cpu_spike(core: TwinCore, ws: Workspace, ns: Namespace, fault: Fault) -> None:
    app = _app(ns, fault)
    params = fault.params
    if params["factor"] is None:
        params["factor"] = round(max(2.0, 2.5 / max(utilisation_now(core, app, 1.0), 0.05)), 3)
    fault.window_end = core.t + float(params["duration_seconds"])


def _inject_pending(core: TwinCore, ws: Workspace, ns: Namespace, fault: Fault) -> None:
    app = _app(ns, fault)
    params = fault.params
    ready = sorted((p for p in app_pods(ns, app) if p.ready), key=lambda p: -p.created)
    count = int(params["evict"] or max(1, math.ceil(app.replicas / 3)))
    victims = ready[:count]
    params["evict"] = len(victims)
    if params["cause"] == "quota":
        params["previous_quota"] = dict(ns.quota) if ns.quota is not None else None
        used = scheduling.quota_used(ns)
        quota = dict(ns.quota or {})
        quota["requests.memory"] = format_memory(
            used["requests.memory"] - sum(p.mem_req for p in victims)
        )
        quota["limits.memory"] = format_memory(
            used["limits.memory"] - sum(p.mem_lim for p in victims)
        )
        ns.quota = quota
    elif params["cause"] == "capacity":
        for node in ws.nodes:
            freed = sum(p.mem_req for p in victims if p.node == node.name)
            node.reserved_mem = node.mem - node.mem_used + freed
    else:
        raise InvalidInput("pending_pods cause must be 'quota' or 'capacity'")
    for pod in victims:
        core.event(
            ns,
            "Pod",
            pod.name,
            "Evicted",
            f"Pod evicted: node {pod.node} is being drained for maintenance",
            warning=True,
            source="node-controller",
        )
        pods.delete_pod(core, ws, ns, pod)


def _inject_failing_cronjob(core: TwinCore, ws: Workspace, ns: Namespace, fault: Fault) -> None:
    cron = ns.cronjobs.get(fault.target)
    if cron is None:
        raise NotFound(f'cronjobs.batch "{fault.target}" not found in namespace "{ns.name}"')
    container = cron.manifest["spec"]["jobTemplate"]["spec"]["template"]["spec"]["containers"][0]
    fault.command = container.get("command")
    fault.params["args"] = container.get("args")
    cron.fault_ids.append(fault.id)


def _inject_build_failure(core: TwinCore, ws: Workspace, ns: Namespace, fault: Fault) -> None:
    fn = ns.functions.get(fault.target)
    if fn is None:
        raise NotFound(f'function "{fault.target}" not found in namespace "{ns.name}"')
    fault.sha = fn.builds[-1].sha
    fn.fault_ids.append(fault.id)
    functions.start_build(core, ws, ns, fn, force=True)


INJECTORS: dict[str, Injector] = {
    "crash_loop": _inject_crash_loop,
    "oom_kill": _inject_oom,
    "memory_leak": _inject_code_defect,
    "cpu_spike": _inject_cpu_spike,
    "latency_spike": _inject_code_defect,
    "error_spike": _inject_code_defect,
    "pending_pods": _inject_pending,
    "failing_cronjob": _inject_failing_cronjob,
    "function_build_failure": _inject_build_failure,
}


# ---------------------------------------------------------------------------- helpers


def app_pods(ns: Namespace, app: App) -> list[Pod]:
    """Live (not terminating) pods of the app."""
    return [
        p
        for rs in app.rsets.values()
        for n in rs.pods
        if (p := ns.pods.get(n)) is not None and not p.terminating
    ]


def _template_of(app: App, pod: Pod) -> PodTemplate:
    rs = next((r for r in app.rsets.values() if r.name == pod.owner), None)
    return rs.template if rs is not None else app.template


def refresh_effects(core: TwinCore, ns: Namespace, app: App) -> None:
    """Recompute live pods' effects (after a fault is cleared); running containers keep theirs."""
    for pod in app_pods(ns, app):
        effects.apply(pod, effects.template_effects(core, app, _template_of(app, pod)))
    deployments.record_timeline(core, ns, app)


def utilisation_now(core: TwinCore, app: App, factor: float) -> float:
    """CPU demand per ready pod over its limit, right now."""
    load = app.load
    rps = model.request_rate(core.t, load.base_rps, load.phase_h, load.seed)
    demand = model.demand_per_pod(rps, load.cpu_per_req, factor, app.ready, load.idle_cpu)
    value = float(model.utilisation(demand, app.template.cpu_lim)[()])
    return math.inf if math.isnan(value) else value


# ---------------------------------------------------------------------------- symptoms


def _target_app(core: TwinCore, fault: Fault) -> tuple[Namespace, App] | None:
    found = core.find(fault.workspace, fault.namespace)
    app = found[1].apps.get(fault.target) if found is not None else None
    return None if found is None or app is None else (found[1], app)


def _image_defect(core: TwinCore, fault: Fault) -> bool:
    found = _target_app(core, fault)
    if found is None:
        return False
    ns, app = found
    return app.template.image == fault.image or any(
        p.image == fault.image for p in app_pods(ns, app)
    )


def _crash_loop(core: TwinCore, fault: Fault) -> bool:
    found = _target_app(core, fault)
    if found is None:
        return False
    ns, app = found
    if fault.params["cause"] == "bad_image":
        return _image_defect(core, fault)
    return effects.command_matches(fault, app.template.command, app.template.args) or any(
        p.crashes for p in app_pods(ns, app)
    )


def _oom(core: TwinCore, fault: Fault) -> bool:
    found = _target_app(core, fault)
    if found is None:
        return False
    ns, app = found
    limit = float(fault.params["working_set_bytes"])
    return app.template.mem_lim < limit or any(p.mem_lim < limit for p in app_pods(ns, app))


def _cpu(core: TwinCore, fault: Fault) -> bool:
    found = _target_app(core, fault)
    if found is None or fault.window_end is None or core.t >= fault.window_end:
        return False
    return utilisation_now(core, found[1], effects.cpu_factor_now(core, found[1])) > 1.0


def _pending(core: TwinCore, fault: Fault) -> bool:
    found = _target_app(core, fault)
    if found is None:
        return False
    ns, app = found
    return bool(app.blocked) or any(p.node is None for p in app_pods(ns, app))


def _cron(core: TwinCore, fault: Fault) -> bool:
    found = core.find(fault.workspace, fault.namespace)
    cron = found[1].cronjobs.get(fault.target) if found is not None else None
    if cron is None:
        return False
    container = cron.manifest["spec"]["jobTemplate"]["spec"]["template"]["spec"]["containers"][0]
    return effects.command_matches(fault, container.get("command"), container.get("args"))


def _build(core: TwinCore, fault: Fault) -> bool:
    found = core.find(fault.workspace, fault.namespace)
    fn = found[1].functions.get(fault.target) if found is not None else None
    return fn is not None and bool(fn.builds) and fn.builds[-1].sha == fault.sha


SYMPTOMATIC: dict[str, Check] = {
    "crash_loop": _crash_loop,
    "oom_kill": _oom,
    "memory_leak": _image_defect,
    "cpu_spike": _cpu,
    "latency_spike": _image_defect,
    "error_spike": _image_defect,
    "pending_pods": _pending,
    "failing_cronjob": _cron,
    "function_build_failure": _build,
}
