"""Deployment and ReplicaSet controllers.

A Deployment keeps one ReplicaSet per distinct pod template (named ``<app>-<pod-template-hash>``
with the hash of ``manifests.pod_template``). Changing the template - a new image, new resources,
``rollout restart`` - makes or reuses a ReplicaSet and gives it the next revision number; rollback
is the same move towards an old template. Rolling updates follow the default strategy
(``maxSurge`` 25 % rounded up, ``maxUnavailable`` 25 % rounded down): the new ReplicaSet grows
while the total stays within the surge, old ones shrink only while enough pods stay available.
So a release whose pods never become ready stalls with the old pods still serving, as on a real
cluster, until its progress deadline (600 s) marks it ``ProgressDeadlineExceeded``.
"""

from __future__ import annotations

import math

from platform_core.cluster.naming import random_suffix, stable_seed
from platform_core.cluster.schemas import ApplicationSpec
from platform_core.cluster.twin import effects, pods, scheduling
from platform_core.cluster.twin.core import TwinCore, handler
from platform_core.cluster.twin.state import App, Namespace, Pod, PodTemplate, ReplicaSet, Workspace
from platform_core.cluster.twin.templates import make_template, new_load

HISTORY_LIMIT = 10
PROGRESS_DEADLINE = 600.0
MAX_TIMELINE = 512
MAX_OLD_PODS = 12
CREATE_RETRY = 30.0


def create_app(core: TwinCore, ws: Workspace, ns: Namespace, spec: ApplicationSpec) -> App:
    tpl = make_template(spec)
    seed = stable_seed(core.state.seed, ws.id, ns.name, spec.name)
    app = App(
        name=spec.name,
        namespace=ns.name,
        labels=dict(spec.labels),
        created=core.t,
        replicas=spec.replicas,
        template=tpl,
        load=new_load(seed, tpl, spec.replicas),
    )
    ns.apps[app.name] = app
    record_timeline(core, ns, app)
    set_template(core, ws, ns, app, tpl, cause="created")
    return app


def set_template(
    core: TwinCore, ws: Workspace, ns: Namespace, app: App, tpl: PodTemplate, *, cause: str
) -> bool:
    """Make ``tpl`` current (a new revision unless it already is) and roll it out."""
    if app.rsets and tpl.hash == app.template.hash:
        return False
    app.template = tpl
    revision = max((rs.revision for rs in app.rsets.values()), default=0) + 1
    rs = app.rsets.get(tpl.hash)
    if rs is None:
        rs = ReplicaSet(
            name=f"{app.name}-{tpl.hash}",
            hash=tpl.hash,
            revision=revision,
            replicas=0,
            template=tpl,
            created=core.t,
            change_cause=cause,
        )
        app.rsets[tpl.hash] = rs
    else:
        app.rsets.pop(tpl.hash)
        app.rsets[tpl.hash] = rs  # keep insertion order = revision order
        rs.revision, rs.change_cause = revision, cause
    app.progress_at = core.t
    _prune_history(app, ns)
    reconcile(core, ws, ns, app)
    return True


def _prune_history(app: App, ns: Namespace) -> None:
    old = [rs for rs in app.rsets.values() if rs.hash != app.template.hash]
    removable = [rs for rs in old if rs.replicas == 0 and not rs.pods]
    while len(old) > HISTORY_LIMIT and removable:
        victim = min(removable, key=lambda rs: rs.revision)
        removable.remove(victim)
        old.remove(victim)
        del app.rsets[victim.hash]


def _ready_in(ns: Namespace, rs: ReplicaSet) -> int:
    return sum(1 for n in rs.pods if (p := ns.pods.get(n)) is not None and p.ready)


def reconcile(core: TwinCore, ws: Workspace, ns: Namespace, app: App) -> None:
    """Drive ReplicaSets towards the Deployment spec (re-entrant calls are coalesced)."""
    key = (ws.id, ns.name, app.name)
    if key in core.busy:
        core.dirty.add(key)
        return
    core.busy.add(key)
    try:
        for _ in range(20):
            core.dirty.discard(key)
            if ws.phase != "active" or ns.apps.get(app.name) is not app:
                return
            _reconcile_once(core, ws, ns, app)
            if key not in core.dirty:
                break
    finally:
        core.busy.discard(key)


def _scale(core: TwinCore, ns: Namespace, app: App, rs: ReplicaSet, replicas: int) -> None:
    if replicas == rs.replicas:
        return
    verb = "up" if replicas > rs.replicas else "down"
    tail = "" if verb == "up" else f" from {rs.replicas}"
    core.event(
        ns,
        "Deployment",
        app.name,
        "ScalingReplicaSet",
        f"Scaled {verb} replica set {rs.name} to {replicas}{tail}",
        source="deployment-controller",
    )
    rs.replicas = replicas


def _reconcile_once(core: TwinCore, ws: Workspace, ns: Namespace, app: App) -> None:
    new = app.rsets[app.template.hash]
    olds = [rs for rs in app.rsets.values() if rs is not new and rs.replicas > 0]
    desired = app.replicas
    if not olds:
        _scale(core, ns, app, new, desired)
    else:
        surge = math.ceil(desired * 0.25)
        unavailable = math.floor(desired * 0.25) or (0 if surge else 1)
        total = sum(rs.replicas for rs in app.rsets.values())
        if total < desired + surge and new.replicas < desired:
            _scale(
                core,
                ns,
                app,
                new,
                new.replicas + min(desired + surge - total, desired - new.replicas),
            )
        _scale_down_old(core, ns, app, new, olds, desired - unavailable)
    for rs in list(app.rsets.values()):
        _sync_replicaset(core, ws, ns, app, rs)
    _update_conditions(core, ns, app, new)


def _scale_down_old(
    core: TwinCore,
    ns: Namespace,
    app: App,
    new: ReplicaSet,
    olds: list[ReplicaSet],
    min_available: int,
) -> None:
    all_count = sum(rs.replicas for rs in app.rsets.values())
    new_unavailable = new.replicas - _ready_in(ns, new)
    budget = all_count - min_available - new_unavailable
    for rs in olds:  # first drop old pods that are not serving anyway
        if budget <= 0:
            return
        unhealthy = rs.replicas - _ready_in(ns, rs)
        cut = min(budget, max(0, unhealthy))
        _scale(core, ns, app, rs, rs.replicas - cut)
        budget -= cut
    available = sum(_ready_in(ns, rs) for rs in app.rsets.values())
    budget = available - min_available
    for rs in olds:
        if budget <= 0:
            return
        cut = min(budget, rs.replicas)
        _scale(core, ns, app, rs, rs.replicas - cut)
        budget -= cut


def _sync_replicaset(
    core: TwinCore, ws: Workspace, ns: Namespace, app: App, rs: ReplicaSet
) -> None:
    live = [p for n in rs.pods if (p := ns.pods.get(n)) is not None and not p.terminating]
    missing = rs.replicas - len(live)
    for _ in range(max(0, missing)):
        if not _create_pod(core, ws, ns, app, rs):
            return
    if missing >= 0:
        if rs.hash == app.template.hash:
            app.blocked = ""
        return
    victims = sorted(
        live, key=lambda p: (p.node is not None, p.phase == "Running", p.ready, -p.created)
    )
    for pod in victims[:-missing]:
        core.event(
            ns,
            "ReplicaSet",
            rs.name,
            "SuccessfulDelete",
            f"Deleted pod: {pod.name}",
            source="replicaset-controller",
        )
        pods.delete_pod(core, ws, ns, pod)


def _create_pod(core: TwinCore, ws: Workspace, ns: Namespace, app: App, rs: ReplicaSet) -> bool:
    name = f"{rs.name}-{random_suffix(core.rng)}"
    while name in ns.pods:
        name = f"{rs.name}-{random_suffix(core.rng)}"
    tpl = rs.template
    pod = Pod(
        name=name,
        uid=core.uid(),
        ip=f"10.42.{core.rng.randrange(256)}.{core.rng.randrange(2, 255)}",
        owner_kind="ReplicaSet",
        owner=rs.name,
        app=app.name,
        image=tpl.image,
        labels={"app": app.name, **tpl.labels, "pod-template-hash": tpl.hash},
        created=core.t,
        seed=stable_seed(app.load.seed, name),
        cpu_req=tpl.cpu_req,
        cpu_lim=tpl.cpu_lim,
        mem_req=tpl.mem_req,
        mem_lim=tpl.mem_lim,
    )
    error = scheduling.admission_error(ns, name, scheduling.pod_requests(pod))
    if error is not None:
        core.event(
            ns,
            "ReplicaSet",
            rs.name,
            "FailedCreate",
            f"Error creating: {error}",
            warning=True,
            source="replicaset-controller",
        )
        if not app.blocked:
            core.schedule(core.t + CREATE_RETRY, "rs.retry", ws.id, ns.name, app.name)
        app.blocked = error
        return False
    effects.apply(pod, effects.template_effects(core, app, tpl))
    rs.pods.append(name)
    core.event(
        ns,
        "ReplicaSet",
        rs.name,
        "SuccessfulCreate",
        f"Created pod: {name}",
        source="replicaset-controller",
    )
    pods.add_pod(core, ws, ns, pod)
    return True


@handler("rs.retry")
def _on_retry(core: TwinCore, ws_id: str, ns_id: str, name: str, token: int) -> None:
    found = core.find(ws_id, ns_id)
    app = found[1].apps.get(name) if found is not None else None
    if found is None or app is None or not app.blocked:
        return
    app.blocked = ""
    reconcile(core, found[0], found[1], app)


def _update_conditions(core: TwinCore, ns: Namespace, app: App, new: ReplicaSet) -> None:
    desired = app.replicas
    min_available = desired - (math.floor(desired * 0.25) or (0 if desired else 1))
    ok = app.ready >= min_available
    _set_condition(
        core,
        app,
        "Available",
        "True" if ok else "False",
        "MinimumReplicasAvailable" if ok else "MinimumReplicasUnavailable",
        "Deployment has minimum availability."
        if ok
        else "Deployment does not have minimum availability.",
    )
    done = (
        new.replicas == desired
        and _ready_in(ns, new) == desired
        and all(rs.replicas == 0 and not rs.pods for rs in app.rsets.values() if rs is not new)
    )
    if done:
        _set_condition(
            core,
            app,
            "Progressing",
            "True",
            "NewReplicaSetAvailable",
            f'ReplicaSet "{new.name}" has successfully progressed.',
        )
    elif core.t - app.progress_at > PROGRESS_DEADLINE:
        _set_condition(
            core,
            app,
            "Progressing",
            "False",
            "ProgressDeadlineExceeded",
            f'ReplicaSet "{new.name}" has timed out progressing.',
        )
    else:
        _set_condition(
            core,
            app,
            "Progressing",
            "True",
            "ReplicaSetUpdated",
            f'ReplicaSet "{new.name}" is progressing.',
        )


def _set_condition(core: TwinCore, app: App, kind: str, status: str, reason: str, msg: str) -> None:
    old = app.conditions.get(kind)
    since = old[3] if old is not None and old[0] == status else core.t
    app.conditions[kind] = (status, reason, msg, since)


def rollout_complete(app: App) -> bool:
    return app.conditions.get("Progressing", ("", "", "", 0.0))[1] == "NewReplicaSetAvailable"


def check_progress(core: TwinCore, ns: Namespace, app: App) -> None:
    """Periodic: mark a stalled rollout as past its deadline."""
    if not rollout_complete(app) and app.template.hash in app.rsets:
        _update_conditions(core, ns, app, app.rsets[app.template.hash])


def record_timeline(core: TwinCore, ns: Namespace, app: App) -> None:
    """Append a change point of ready pods and their averaged effects."""
    ready = [
        p
        for rs in app.rsets.values()
        for n in rs.pods
        if (p := ns.pods.get(n)) is not None and p.ready
    ]
    count = len(ready)
    app.ready = count
    tl = app.timeline
    values = (
        sum(p.cpu_lim for p in ready) / count if count else float(app.template.cpu_lim),
        sum(p.lat_add for p in ready) / count if count else 0.0,
        sum(p.err_add for p in ready) / count if count else 0.0,
    )
    if tl.t and tl.t[-1] == core.t:
        tl.t.pop(), tl.ready.pop(), tl.cpu_lim.pop(), tl.lat_add.pop(), tl.err_add.pop()
    tl.t.append(core.t)
    tl.ready.append(count)
    tl.cpu_lim.append(values[0])
    tl.lat_add.append(values[1])
    tl.err_add.append(values[2])
    if len(tl.t) > MAX_TIMELINE:
        cut = MAX_TIMELINE // 4
        del tl.t[:cut], tl.ready[:cut], tl.cpu_lim[:cut], tl.lat_add[:cut], tl.err_add[:cut]


def _on_pod(core: TwinCore, ws: Workspace, ns: Namespace, pod: Pod, what: str) -> None:
    app = ns.apps.get(pod.app)
    if app is None:
        return
    if what in {"ready", "unready"}:
        record_timeline(core, ns, app)
        if what == "ready" and pod.owner == f"{app.name}-{app.template.hash}":
            app.progress_at = core.t
    elif what == "gone":
        rs = next((r for r in app.rsets.values() if r.name == pod.owner), None)
        if rs is not None and pod.name in rs.pods:
            rs.pods.remove(pod.name)
        app.old_pods = [*app.old_pods[-(MAX_OLD_PODS - 1) :], pod]
    if what != "exit":
        reconcile(core, ws, ns, app)


pods.OWNER_HOOKS["ReplicaSet"] = _on_pod


def delete_app(core: TwinCore, ws: Workspace, ns: Namespace, app: App) -> None:
    del ns.apps[app.name]
    for rs in app.rsets.values():
        for name in list(rs.pods):
            pod = ns.pods.get(name)
            if pod is not None:
                pods.delete_pod(core, ws, ns, pod)


def stop_all(core: TwinCore, ws: Workspace, ns: Namespace) -> None:
    """Workspace suspended or deleted: every pod goes away at once."""
    for pod in list(ns.pods.values()):
        pods.delete_pod(core, ws, ns, pod, grace=False)
        pods.remove_pod(core, ws, ns, pod)
