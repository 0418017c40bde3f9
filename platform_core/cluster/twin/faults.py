"""Fault injection for the twin, and the remedy table.

``inject_fault(workspace, namespace, target, kind, **params)`` makes the cluster misbehave the way
the real incident would; its symptoms then show up in events, logs and metrics on their own,
because they come from the same pod lifecycle and load model as everything else. A fault is
*active* while its symptoms are present; the periodic tick (and ``faults()``) re-evaluate it, so
it turns inactive when - and only when - the cluster has actually been fixed, recording when and
by which operation (``remedied_by``). ``clear_fault(id)`` is the operator's undo (eval resets):
it removes the cause itself.

Remedy table (``kind (params)``: what is injected and seen / what clears it / what does not):

``crash_loop`` (``cause="bad_image"``, ``image``)
    A release (new revision) whose image tag does not exist. New pods go ``ErrImagePull`` ->
    ``ImagePullBackOff``, ``Failed to pull image ... not found`` events, the rollout stalls with
    the old pods still serving; unavailable replicas, ``ProgressDeadlineExceeded`` after 600 s.
    Clears: rollback to the previous revision, or an update to a pullable image.
    Does not: restart (same template), scaling, raising limits.

``crash_loop`` (``cause="bad_command"``, ``command``, ``args``)
    A release whose command fails at start: exit code 1 with a fatal configuration line in the
    log, ``CrashLoopBackOff``, growing restarts, ``Back-off restarting failed container`` events.
    Clears: rollback, or an update of command/args.  Does not: restart, scaling, raising memory.

``oom_kill`` (``working_set`` default 2x the memory limit, ``ramp_seconds=90``)
    The workload needs more memory than its limit: memory climbs to the limit, the container is
    OOMKilled (137) and restarted with back-off; ``Container web was OOMKilled`` events, memory
    warnings before each kill (``logs --previous``), memory at the limit, restarts.
    Clears: raising the memory limit to at least the working set.
    Does not: restart, scaling out, rollback (the old revision has the same limit).

``memory_leak`` (``rate_mib_per_min`` default: limit reached in ~20 min)
    A release whose image leaks: sawtooth memory, ``memory usage high`` warnings, periodic
    OOMKilled restarts.
    Clears: rollback (or a new image).  Restart only resets memory until it grows back; scaling
    out or more memory only delay it.

``cpu_spike`` (``factor`` default so pods need ~2.5x their CPU limit, ``duration_seconds=3600``)
    Extra CPU cost per request for a time window: CPU pinned at the limit (throttling), p95
    latency and time-out errors up, ``request timed out`` logs, readiness probe time-outs.
    Clears: enough capacity - scaling out, an HPA with a high enough maximum, a higher CPU limit.
    Does not: restart, rollback, raising memory.

``latency_spike`` (``added_ms=1500``)
    A release with a slow query path: p95 latency up, ``slow query`` warnings, readiness probe
    time-outs.  Clears: rollback (or a new image).  Does not: scaling, restart, limits.

``error_spike`` (``rate=0.35``, ``message``)
    A release with a bug on a hot path: error rate up, 500 access lines followed by the
    exception, readiness probe 503s.  Clears: rollback (or a new image).  Does not: scaling,
    restart, limits.

``pending_pods`` (``cause="quota"``, ``evict`` default a third of the replicas)
    Pods are evicted (node drain) after the project's memory quota was lowered to what is in use:
    replacements are rejected, ``FailedCreate ... exceeded quota: compute-resources`` events,
    fewer available replicas.  Clears: raising the quota, or scaling down to what fits.
    Does not: restart or rollback (they need new pods too).

``pending_pods`` (``cause="capacity"``)
    Evicted pods cannot be placed because the nodes are full (other tenants): ``Pending``,
    ``FailedScheduling 0/3 nodes are available: 3 Insufficient memory``.
    Clears: scaling down.  Does not: raising the quota, restart.

``failing_cronjob`` (``exit_code=1``, ``error``)
    The CronJob's current command fails: Jobs end ``Failed`` with ``BackoffLimitExceeded``,
    a traceback in the Job's log, non-zero exit codes in the history.
    Clears: updating the CronJob's command/args.  Does not: triggering again, suspend/resume,
    changing the schedule.

``function_build_failure`` (``error``)
    The function's current source fails the build's ``py_compile`` step (saved in the wrong
    encoding); a rebuild starts at once and fails: Kaniko log, build ``Failed``,
    ``BackoffLimitExceeded``; the previous revision keeps serving.
    Clears: deploying changed source.  Does not: redeploying the same source.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any, Literal, get_args

from pydantic import BaseModel

from platform_core.cluster.twin import deployments, fault_kinds, pods
from platform_core.cluster.twin.core import TwinCore
from platform_core.cluster.twin.state import Fault
from platform_core.errors import InvalidInput, NotFound

FaultKind = Literal[
    "crash_loop",
    "oom_kill",
    "memory_leak",
    "cpu_spike",
    "latency_spike",
    "error_spike",
    "pending_pods",
    "failing_cronjob",
    "function_build_failure",
]
FAULT_KINDS: tuple[str, ...] = get_args(FaultKind)


class FaultInfo(BaseModel):
    """What was injected and whether it still hurts."""

    id: str
    kind: FaultKind
    workspace: str
    namespace: str
    target: str
    params: dict[str, Any]
    injected_at: datetime
    active: bool
    remedied_at: datetime | None = None
    remedied_by: str | None = None
    cleared_at: datetime | None = None


def inject(
    core: TwinCore, workspace: str, namespace: str, target: str, kind: str, params: dict[str, Any]
) -> FaultInfo:
    if kind not in FAULT_KINDS:
        raise InvalidInput(f"unknown fault kind {kind!r}; expected one of {', '.join(FAULT_KINDS)}")
    defaults = fault_kinds.DEFAULTS[kind]
    unknown = sorted(set(params) - set(defaults))
    if unknown:
        raise InvalidInput(f"unknown parameter(s) for {kind}: {', '.join(unknown)}")
    ws, ns = core.namespace(workspace, namespace)
    fault = Fault(
        id=f"fault-{len(core.state.faults) + 1:04d}",
        kind=kind,
        workspace=ws.id,
        namespace=ns.name,
        target=target,
        params={**defaults, **params},
        injected_at=core.t,
    )
    if kind in {"crash_loop", "pending_pods"}:
        _check_cause(kind, fault.params["cause"])
    core.state.faults[fault.id] = fault  # before injecting: new pods look their effects up here
    try:
        fault_kinds.INJECTORS[kind](core, ws, ns, fault)
    except Exception:
        del core.state.faults[fault.id]
        raise
    return info(core, fault)


def _check_cause(kind: str, cause: object) -> None:
    causes = {"crash_loop": ("bad_image", "bad_command"), "pending_pods": ("quota", "capacity")}
    if cause not in causes[kind]:
        raise InvalidInput(f"{kind} cause must be one of {', '.join(causes[kind])}")


def evaluate(core: TwinCore, fault: Fault) -> None:
    """Re-check symptoms; record when and by what the fault stopped hurting."""
    if fault.cleared_at is not None:
        return
    hurting = fault_kinds.SYMPTOMATIC[fault.kind](core, fault)
    if fault.active and not hurting:
        fault.active = False
        fault.remedied_at = core.t
        key = f"{fault.workspace}/{fault.namespace}/{fault.target}"
        fault.remedied_by = core.state.notes.get(key, "recovered")
    elif hurting and not fault.active:
        fault.active, fault.remedied_at, fault.remedied_by = True, None, None


def evaluate_all(core: TwinCore) -> None:
    for fault in core.state.faults.values():
        evaluate(core, fault)


def clear(core: TwinCore, fault_id: str) -> FaultInfo:
    """Operator undo: remove the fault's cause (for eval resets)."""
    fault = core.state.faults.get(fault_id)
    if fault is None:
        raise NotFound(f"fault {fault_id!r} not found")
    if fault.cleared_at is None:
        fault.cleared_at = core.t
        if fault.active:
            fault.active, fault.remedied_at, fault.remedied_by = False, core.t, "cleared"
        _undo(core, fault)
    return info(core, fault)


def _undo(core: TwinCore, fault: Fault) -> None:
    found = core.find(fault.workspace, fault.namespace)
    if found is None:
        return
    ws, ns = found
    if fault.kind == "cpu_spike":
        fault.window_end = min(fault.window_end or core.t, core.t)
    elif fault.kind == "pending_pods":
        if fault.params["cause"] == "quota":
            ns.quota = fault.params.get("previous_quota")
        for node in ws.nodes:
            node.reserved_mem = 0
        for app in list(ns.apps.values()):
            app.blocked = ""
            deployments.reconcile(core, ws, ns, app)
        pods.retry_unschedulable(core, ws)
    target = ns.apps.get(fault.target)
    if target is not None:
        fault_kinds.refresh_effects(core, ns, target)


def info(core: TwinCore, fault: Fault) -> FaultInfo:
    params = {k: v for k, v in fault.params.items() if k != "working_set_bytes"}
    return FaultInfo(
        id=fault.id,
        kind=fault.kind,
        workspace=fault.workspace,
        namespace=fault.namespace,
        target=fault.target,
        params=params,
        injected_at=core.dt(fault.injected_at),
        active=fault.active,
        remedied_at=core.dt(fault.remedied_at) if fault.remedied_at is not None else None,
        remedied_by=fault.remedied_by,
        cleared_at=core.dt(fault.cleared_at) if fault.cleared_at is not None else None,
    )
