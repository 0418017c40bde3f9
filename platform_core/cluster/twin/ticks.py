"""The periodic tick: every application evaluated at once, every 15 virtual seconds.

One NumPy evaluation of the load model for all running applications gives each one's CPU demand
per pod. From it:

* HorizontalPodAutoscalers act (every tick, the HPA sync period): ``ceil(ready * usage/target)``
  within a 10 % tolerance, at most doubling (or +4 pods) per step, scale-down held back by a
  5-minute stabilisation window, with ``SuccessfulRescale`` events;
* once a minute, saturated pods (demand above their CPU limit) and pods of slow or failing
  releases fail readiness probes (``Unhealthy`` events), stalled rollouts pass their progress
  deadline, and injected faults are re-evaluated.

Only the applications that need attention cost Python work; the rest is one vector operation.
"""

from __future__ import annotations

import math

import numpy as np

from platform_core.cluster.twin import deployments, effects, faults, model
from platform_core.cluster.twin.core import TICK_SECONDS, TwinCore, handler
from platform_core.cluster.twin.state import App, Namespace, Pod, Workspace

STABILISATION = 300.0
TOLERANCE = 0.1
Ref = tuple[Workspace, Namespace, App]


@handler("tick")
def _on_tick(core: TwinCore, ws_id: str, ns_id: str, name: str, token: int) -> None:
    state = core.state
    state.ticks += 1
    core.schedule(core.t + TICK_SECONDS, "tick")
    minute = state.ticks % 4 == 0
    refs: list[Ref] = [
        (ws, ns, app)
        for ws in state.workspaces.values()
        if ws.phase == "active"
        for ns in ws.namespaces.values()
        for app in ns.apps.values()
    ]
    if refs:
        _evaluate(core, refs, minute=minute)
    if minute:
        faults.evaluate_all(core)


def _evaluate(core: TwinCore, refs: list[Ref], *, minute: bool) -> None:
    apps = [ref[2] for ref in refs]
    table = np.array(
        [
            (
                a.load.base_rps,
                a.load.phase_h,
                a.load.cpu_per_req,
                a.load.idle_cpu,
                a.ready,
                a.template.cpu_lim,
            )
            for a in apps
        ],
        dtype=np.float64,
    )
    seeds = np.array([a.load.seed for a in apps], dtype=np.uint64)
    factor = np.ones(len(apps))
    for i, app in enumerate(apps):
        if app.fault_ids:
            factor[i] = effects.cpu_factor_now(core, app)
    rps = model.request_rate(core.t, table[:, 0], table[:, 1], seeds)
    demand = model.demand_per_pod(rps, table[:, 2], factor, table[:, 4], table[:, 3])
    for i, app in enumerate(apps):
        if app.hpa is not None:
            _autoscale(core, refs[i], float(demand[i]))
    if not minute:
        return
    util = np.nan_to_num(model.utilisation(demand, table[:, 5]), nan=0.0)
    for i in np.flatnonzero(util > 1.0).tolist():
        _probe_failures(core, refs[i], "timeout")
    for i, app in enumerate(apps):
        if app.fault_ids:
            _probe_failures(core, refs[i], "effects")
        if not deployments.rollout_complete(app):
            deployments.check_progress(core, refs[i][1], app)


def _ready_pods(ns: Namespace, app: App) -> list[Pod]:
    return [
        p
        for rs in app.rsets.values()
        for n in rs.pods
        if (p := ns.pods.get(n)) is not None and p.ready
    ]


def _probe_failures(core: TwinCore, ref: Ref, why: str) -> None:
    _, ns, app = ref
    port = app.template.port
    for pod in _ready_pods(ns, app):
        timeout = (
            f'Readiness probe failed: Get "http://{pod.ip}:{port}/healthz": context deadline '
            "exceeded (Client.Timeout exceeded while awaiting headers)"
        )
        if why == "timeout" or pod.lat_add >= 500:
            core.event(ns, "Pod", pod.name, "Unhealthy", timeout, warning=True)
        if why == "effects" and pod.err_add >= 0.1:
            core.event(
                ns,
                "Pod",
                pod.name,
                "Unhealthy",
                "Readiness probe failed: HTTP probe failed with statuscode: 503",
                warning=True,
            )


def _autoscale(core: TwinCore, ref: Ref, demand: float) -> None:
    ws, ns, app = ref
    hpa = app.hpa
    assert hpa is not None
    if app.ready == 0 or math.isnan(demand):
        return
    usage = min(demand, float(app.template.cpu_lim))
    utilisation = 100.0 * usage / max(app.template.cpu_req, 1)
    hpa.current_util = round(utilisation)
    current = app.replicas
    ratio = utilisation / hpa.target
    wanted = current if abs(ratio - 1.0) <= TOLERANCE else math.ceil(app.ready * ratio)
    wanted = max(hpa.min_replicas, min(hpa.max_replicas, wanted))
    wanted = min(wanted, max(2 * current, current + 4))
    hpa.recommendations = [r for r in hpa.recommendations if r[0] > core.t - STABILISATION]
    hpa.recommendations.append((core.t, wanted))
    if wanted < current:
        wanted = max(r[1] for r in hpa.recommendations)
    hpa.desired = wanted
    if wanted == current:
        return
    direction = "above" if wanted > current else "below"
    core.event(
        ns,
        "HorizontalPodAutoscaler",
        app.name,
        "SuccessfulRescale",
        f"New size: {wanted}; reason: cpu resource utilization (percentage of request) "
        f"{direction} target",
        source="horizontal-pod-autoscaler",
    )
    app.replicas = wanted
    app.progress_at = core.t  # a rescale is progress for the rollout deadline
    hpa.last_scale = core.t
    deployments.reconcile(core, ws, ns, app)
