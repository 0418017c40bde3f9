"""Pod lifecycle: Pending -> ContainerCreating -> Running -> Ready, restarts and deletion.

A pod is created by its controller (ReplicaSet or Job) with its *effects* already decided from
the faults that match its template (image pull fails, container crashes, memory grows). From
then on it moves by timers, emitting the kubelet's and scheduler's events:

``Scheduled`` -> ``Pulling``/``Pulled`` (or ``Failed``/``ErrImagePull`` then ``BackOff`` /
``ImagePullBackOff``) -> ``Created``/``Started`` -> ready after the readiness delay. A container
that exits (crash, OOM kill) is restarted after the crash-loop back-off (10 s doubling to 5 min,
reset after 10 minutes of running) with ``Back-off restarting failed container ...``. Job pods run
for the duration their Job planned and end ``Completed`` or ``Error`` without restarting.

Controllers hear about readiness changes, exits and removals through ``OWNER_HOOKS``.
"""

from __future__ import annotations

from collections.abc import Callable

from platform_core.cluster.quantity import format_memory
from platform_core.cluster.twin import scheduling
from platform_core.cluster.twin.core import TwinCore, handler
from platform_core.cluster.twin.model import noise
from platform_core.cluster.twin.state import ContainerRun, Namespace, Pod, Workspace

PodHook = Callable[[TwinCore, Workspace, Namespace, Pod, str], None]
JobPlanner = Callable[[TwinCore, Namespace, Pod], tuple[float, int]]
OWNER_HOOKS: dict[str, PodHook] = {}
JOB_PLANNERS: dict[str, JobPlanner] = {}
MAX_RUNS = 8
MAX_BACKOFF = 300.0
BACKOFF_RESET = 600.0
SCHEDULING_RETRY = 30.0


def _notify(core: TwinCore, ws: Workspace, ns: Namespace, pod: Pod, what: str) -> None:
    hook = OWNER_HOOKS.get(pod.owner_kind)
    if hook is not None:
        hook(core, ws, ns, pod, what)


def _pod(
    core: TwinCore, ws_id: str, ns_id: str, name: str, token: int
) -> tuple[Workspace, Namespace, Pod] | None:
    found = core.find(ws_id, ns_id)
    if found is None:
        return None
    ws, ns = found
    pod = ns.pods.get(name)
    if pod is None or pod.token != token:
        return None
    return ws, ns, pod


def container_name(pod: Pod) -> str:
    return pod.app


def add_pod(core: TwinCore, ws: Workspace, ns: Namespace, pod: Pod) -> None:
    """Register a created (admitted) pod and try to schedule it."""
    ns.pods[pod.name] = pod
    _try_place(core, ws, ns, pod)


def _try_place(core: TwinCore, ws: Workspace, ns: Namespace, pod: Pod) -> None:
    node = scheduling.place(ws, pod)
    if node is None:
        if (ns.name, pod.name) not in ws.unschedulable:
            ws.unschedulable.append((ns.name, pod.name))
        message = scheduling.unschedulable_message(ws, pod)
        core.event(
            ns,
            "Pod",
            pod.name,
            "FailedScheduling",
            message,
            warning=True,
            source="default-scheduler",
        )
        pod.reason, pod.message = "Unschedulable", message
        core.schedule(core.t + SCHEDULING_RETRY, "pod.place", ws.id, ns.name, pod.name, pod.token)
        return
    if (ns.name, pod.name) in ws.unschedulable:
        ws.unschedulable.remove((ns.name, pod.name))
    pod.reason, pod.message = "ContainerCreating", ""
    core.event(
        ns,
        "Pod",
        pod.name,
        "Scheduled",
        f"Successfully assigned {ns.name}/{pod.name} to {node.name}",
        source="default-scheduler",
    )
    cached = pod.image in node.images
    delay = core.rng.uniform(0.2, 0.6) if cached else core.rng.uniform(1.5, 6.0)
    core.schedule(core.t + delay, "pod.pull", ws.id, ns.name, pod.name, pod.token)


@handler("pod.place")
def _on_place(core: TwinCore, ws_id: str, ns_id: str, name: str, token: int) -> None:
    found = _pod(core, ws_id, ns_id, name, token)
    if found is not None and found[2].node is None and not found[2].terminating:
        _try_place(core, *found)


def retry_unschedulable(core: TwinCore, ws: Workspace) -> None:
    """Capacity was freed: give pending pods another scheduling attempt."""
    for ns_name, pod_name in list(ws.unschedulable):
        ns = ws.namespaces.get(ns_name)
        pod = ns.pods.get(pod_name) if ns is not None else None
        if ns is None or pod is None or pod.terminating:
            ws.unschedulable.remove((ns_name, pod_name))
        elif pod.node is None:
            _try_place(core, ws, ns, pod)


@handler("pod.pull")
def _on_pull(core: TwinCore, ws_id: str, ns_id: str, name: str, token: int) -> None:
    found = _pod(core, ws_id, ns_id, name, token)
    if found is None:
        return
    ws, ns, pod = found
    node = next((n for n in ws.nodes if n.name == pod.node), None)
    if node is not None and pod.image in node.images and not pod.pull_fails:
        core.event(
            ns,
            "Pod",
            pod.name,
            "Pulled",
            f'Container image "{pod.image}" already present on machine',
        )
        start_container(core, ws, ns, pod)
        return
    core.event(ns, "Pod", pod.name, "Pulling", f'Pulling image "{pod.image}"')
    if pod.pull_fails:
        _pull_failed(core, ws, ns, pod)
        return
    took = core.rng.uniform(0.8, 5.0)
    size = core.rng.randrange(20_000_000, 250_000_000)
    core.event(
        ns,
        "Pod",
        pod.name,
        "Pulled",
        f'Successfully pulled image "{pod.image}" in {took:.3f}s ({took:.3f}s including '
        f"waiting). Image size: {size} bytes.",
    )
    if node is not None:
        node.images = [*node.images[-49:], pod.image]
    start_container(core, ws, ns, pod)


def _pull_failed(core: TwinCore, ws: Workspace, ns: Namespace, pod: Pod) -> None:
    ref = pod.image if "/" in pod.image.split(":")[0] else f"docker.io/library/{pod.image}"
    core.event(
        ns,
        "Pod",
        pod.name,
        "Failed",
        f'Failed to pull image "{pod.image}": rpc error: code = NotFound desc = failed to '
        f'pull and unpack image "{ref}": failed to resolve reference "{ref}": {ref}: '
        "not found",
        warning=True,
    )
    pod.pull_failures += 1
    if pod.pull_failures == 1:
        pod.reason = "ErrImagePull"
        core.event(ns, "Pod", pod.name, "Failed", "Error: ErrImagePull", warning=True)
    else:
        pod.reason = "ImagePullBackOff"
        core.event(ns, "Pod", pod.name, "BackOff", f'Back-off pulling image "{pod.image}"')
        core.event(ns, "Pod", pod.name, "Failed", "Error: ImagePullBackOff", warning=True)
    pod.message = f'Back-off pulling image "{pod.image}"'
    pod.backoff = min(MAX_BACKOFF, pod.backoff * 2 or 10.0)
    core.schedule(core.t + pod.backoff, "pod.pull", ws.id, ns.name, pod.name, pod.token)


def start_container(core: TwinCore, ws: Workspace, ns: Namespace, pod: Pod) -> None:
    """A container instance begins: Running, with readiness/exit timers as its effects say."""
    t = core.t
    container = container_name(pod)
    core.event(ns, "Pod", pod.name, "Created", f"Created container {container}")
    core.event(ns, "Pod", pod.name, "Started", f"Started container {container}")
    app = ns.apps.get(pod.app) if pod.owner_kind == "ReplicaSet" else None
    base = app.load.base_mem if app is not None else 0.25 * pod.mem_lim
    if pod.mem_target > 0:
        base = pod.mem_target
    wobble = float(noise(pod.seed, t, 7)[()]) if pod.seed else 0.0
    run = ContainerRun(
        start=t, mem_base=base * (1.0 + 0.05 * wobble), mem_slope=pod.mem_slope, mem_t0=t
    )
    pod.runs = [*pod.runs[-(MAX_RUNS - 1) :], run]
    pod.phase, pod.reason, pod.message = "Running", "", ""
    if pod.owner_kind == "Job":
        duration, exit_code = JOB_PLANNERS["Job"](core, ns, pod)
        run.exit_code = exit_code
        core.schedule(t + duration, "pod.exit", ws.id, ns.name, pod.name, pod.token)
    elif pod.crashes:
        core.schedule(
            t + core.rng.uniform(0.5, 2.5), "pod.exit", ws.id, ns.name, pod.name, pod.token
        )
    else:
        core.schedule(
            t + core.rng.uniform(3.0, 8.0), "pod.ready", ws.id, ns.name, pod.name, pod.token
        )
        schedule_oom(core, ws, ns, pod)


def schedule_oom(core: TwinCore, ws: Workspace, ns: Namespace, pod: Pod) -> None:
    """If the running container's memory grows, schedule the OOM kill at the limit."""
    run = pod.runs[-1] if pod.runs else None
    if run is None or run.end is not None or run.mem_slope <= 0:
        return
    headroom = max(0.0, pod.mem_lim - run.mem_base)
    oom_at = max(core.t, run.mem_t0 + headroom / run.mem_slope)
    core.schedule(oom_at, "pod.exit", ws.id, ns.name, pod.name, pod.token)


def memory_at(run: ContainerRun, t: float) -> float:
    """Working set of a container instance at ``t`` (bytes, before the limit applies)."""
    return run.mem_base + run.mem_slope * max(0.0, t - run.mem_t0)


@handler("pod.ready")
def _on_ready(core: TwinCore, ws_id: str, ns_id: str, name: str, token: int) -> None:
    found = _pod(core, ws_id, ns_id, name, token)
    if found is None:
        return
    ws, ns, pod = found
    run = pod.runs[-1] if pod.runs else None
    if run is None or run.end is not None or pod.ready:
        return
    run.ready_at = core.t
    pod.ready = True
    _notify(core, ws, ns, pod, "ready")


@handler("pod.exit")
def _on_exit(core: TwinCore, ws_id: str, ns_id: str, name: str, token: int) -> None:
    found = _pod(core, ws_id, ns_id, name, token)
    if found is None:
        return
    ws, ns, pod = found
    run = pod.runs[-1] if pod.runs else None
    if run is None or run.end is not None:
        return
    if pod.owner_kind == "Job":
        code = run.exit_code or 0
        reason = "Completed" if code == 0 else "Error"
    elif pod.crashes:
        reason, code = "Error", 1
    elif memory_at(run, core.t) >= pod.mem_lim - 1.0:
        reason, code = "OOMKilled", 137
    else:
        return  # a stale OOM timer of an earlier container instance
    run.end, run.reason, run.exit_code = core.t, reason, code
    if pod.ready:
        pod.ready = False
        _notify(core, ws, ns, pod, "unready")
    if pod.owner_kind == "Job":
        pod.phase, pod.reason = ("Succeeded", "Completed") if code == 0 else ("Failed", "Error")
        scheduling.release(ws, pod)
        _notify(core, ws, ns, pod, "exit")
        return
    _crash_loop(core, ws, ns, pod, run)


def _crash_loop(core: TwinCore, ws: Workspace, ns: Namespace, pod: Pod, run: ContainerRun) -> None:
    container = container_name(pod)
    if run.reason == "OOMKilled":
        core.event(
            ns,
            "Pod",
            pod.name,
            "OOMKilled",
            f"Container {container} was OOMKilled (memory limit {format_memory(pod.mem_lim)})",
            warning=True,
        )
    if run.end is not None and run.end - run.start >= BACKOFF_RESET:
        pod.backoff = 0.0
    pod.backoff = min(MAX_BACKOFF, pod.backoff * 2 or 10.0)
    pod.restarts += 1
    pod.reason = "CrashLoopBackOff"
    pod.message = (
        f"back-off {int(pod.backoff)}s restarting failed container={container} "
        f"pod={pod.name}_{ns.name}({pod.uid})"
    )
    core.event(
        ns,
        "Pod",
        pod.name,
        "BackOff",
        f"Back-off restarting failed container {container} in pod {pod.name}_{ns.name}({pod.uid})",
        warning=True,
    )
    core.schedule(core.t + pod.backoff, "pod.restart", ws.id, ns.name, pod.name, pod.token)
    _notify(core, ws, ns, pod, "exit")


@handler("pod.restart")
def _on_restart(core: TwinCore, ws_id: str, ns_id: str, name: str, token: int) -> None:
    found = _pod(core, ws_id, ns_id, name, token)
    if found is None:
        return
    ws, ns, pod = found
    core.event(
        ns, "Pod", pod.name, "Pulled", f'Container image "{pod.image}" already present on machine'
    )
    start_container(core, ws, ns, pod)


def delete_pod(
    core: TwinCore, ws: Workspace, ns: Namespace, pod: Pod, *, grace: bool = True
) -> None:
    """Start graceful termination; the pod disappears when its grace period ends."""
    if pod.terminating:
        return
    pod.terminating = True
    pod.token += 1
    if pod.ready:
        pod.ready = False
        _notify(core, ws, ns, pod, "unready")
    run = pod.runs[-1] if pod.runs else None
    delay = 0.0
    if run is not None and run.end is None:
        delay = core.rng.uniform(0.5, 2.5) if grace else 0.0
        run.end, run.reason, run.exit_code = core.t + delay, "Completed", 0
        core.event(ns, "Pod", pod.name, "Killing", f"Stopping container {container_name(pod)}")
    core.schedule(core.t + delay, "pod.gone", ws.id, ns.name, pod.name, pod.token)


@handler("pod.gone")
def _on_gone(core: TwinCore, ws_id: str, ns_id: str, name: str, token: int) -> None:
    found = _pod(core, ws_id, ns_id, name, token)
    if found is None:
        return
    ws, ns, pod = found
    remove_pod(core, ws, ns, pod)


def remove_pod(core: TwinCore, ws: Workspace, ns: Namespace, pod: Pod) -> None:
    """The pod object is gone: free node and quota, tell the owner, retry pending pods."""
    ns.pods.pop(pod.name, None)
    if pod.node is not None and pod.phase not in {"Succeeded", "Failed"}:
        scheduling.release(ws, pod)
    if (ns.name, pod.name) in ws.unschedulable:
        ws.unschedulable.remove((ns.name, pod.name))
    pod.gone_at = core.t
    pod.token += 1
    _notify(core, ws, ns, pod, "gone")
    if ws.unschedulable:
        retry_unschedulable(core, ws)


def status_text(pod: Pod) -> str:
    """What ``kubectl get pods`` prints in the STATUS column."""
    if pod.terminating:
        return "Terminating"
    if pod.phase == "Succeeded":
        return "Completed"
    if pod.phase == "Failed":
        return "Error"
    if pod.node is None:
        return "Pending"
    return pod.reason or "Running"
