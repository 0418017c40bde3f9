"""Scheduler and kubelet of the fake: what happens to a pod after it is created.

* Scheduling: three nodes (8 CPU, 32Gi each); a pod whose requests fit no node stays ``Pending``
  with one ``FailedScheduling`` warning (``0/3 nodes are available: 3 Insufficient memory...``).
* Start: ``Scheduled`` -> ``Pulling`` -> (2 s) ``Pulled``/``Created``/``Started``; a container with
  a readiness probe becomes ready 5 s after it started. Function images that were never pushed
  stay in ``ErrImagePull``.
* What the container does is decided once, when it starts (``Run``): service containers log an
  access line every 10 s for as long as they run; Job containers follow the twin's interpretation
  of their ``sh -c`` script (``jobscript``) and terminate with its exit code; Kaniko containers
  are emulated by ``knative.kaniko_plan``; Knative containers are real processes (``knative``).
* Logs honour ``container``, ``previous``, ``sinceSeconds``, ``tailLines`` and ``timestamps``, and
  fail with the kubelet's 400 messages (unknown container, waiting to start, no previous).
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

from platform_core.cluster.naming import stable_seed
from platform_core.cluster.quantity import cpu_millis, memory_bytes
from platform_core.cluster.twin import jobscript
from tests.support.fake_kube.store import POD, ApiError, Store, pod_requests, stamp

if TYPE_CHECKING:
    from tests.support.fake_kube.world import FakeKube

Obj = dict[str, Any]
NODES = ("fake-node-a-1", "fake-node-a-2", "fake-node-a-3")
NODE_CPU = 8000
NODE_MEMORY = 32 * 2**30
PULL_SECONDS = 2.0
READY_AFTER = 5.0
LOG_PERIOD = 10.0
KANIKO_PREFIX = "gcr.io/kaniko-project/executor"


@dataclass
class Run:
    """One pod's container as the kubelet runs it (never visible through the API)."""

    kind: str  # "service", "job", "kaniko", "function", or "added" (FakeKube.add_pod)
    store: str
    namespace: str
    pod: str
    container: str
    image: str
    cpu_request: int
    memory_limit: int
    created: float
    scheduled: float | None = None
    started: float | None = None
    ready_at: float | None = None
    duration: float | None = None
    exit_code: int | None = None
    gone: float | None = None
    lines: list[tuple[float, str]] = field(default_factory=list)
    previous: list[tuple[float, str]] | None = None
    restarts: int = 0
    warned: bool = False
    pulling: bool = False
    pull_error: str = ""

    @property
    def finished(self) -> float | None:
        if self.started is None or self.duration is None:
            return None
        return self.started + self.duration

    def running_at(self, t: float) -> bool:
        end = min(x for x in (self.finished, self.gone, math.inf) if x is not None)
        return self.started is not None and self.started <= t < end

    def ready_at_time(self, t: float) -> bool:
        return self.running_at(t) and self.ready_at is not None and self.ready_at <= t


def _format_log_time(t: float) -> str:
    moment = datetime.fromtimestamp(t, UTC)
    return moment.strftime("%Y-%m-%dT%H:%M:%S.") + f"{moment.microsecond:06d}000Z"


class Kubelet:
    def __init__(self, world: FakeKube) -> None:
        self.world = world
        self.runs: dict[str, Run] = {}

    def reset(self) -> None:
        self.runs.clear()

    def run_of(self, pod: Obj) -> Run:
        uid = pod["metadata"]["uid"]
        run = self.runs.get(uid)
        if run is None:
            container = pod["spec"]["containers"][0]
            resources = container.get("resources") or {}
            kind = "service"
            if any(r.get("kind") == "Job" for r in pod["metadata"].get("ownerReferences") or []):
                kind = "job"
            if str(container.get("image", "")).startswith(KANIKO_PREFIX):
                kind = "kaniko"
            if "serving.knative.dev/revision" in (pod["metadata"].get("labels") or {}):
                kind = "function"
            run = Run(
                kind=kind,
                store="",
                namespace=pod["metadata"]["namespace"],
                pod=pod["metadata"]["name"],
                container=container["name"],
                image=str(container.get("image", "")),
                cpu_request=cpu_millis(str((resources.get("requests") or {}).get("cpu", "100m"))),
                memory_limit=memory_bytes(
                    str((resources.get("limits") or {}).get("memory", "256Mi"))
                ),
                created=self.world.t,
            )
            self.runs[uid] = run
        return run

    def forget(self, pod: Obj) -> None:
        run = self.runs.get(pod["metadata"]["uid"])
        if run is not None and run.gone is None:
            run.gone = self.world.t
            self.world.knative.stop_process(pod["metadata"]["uid"])

    # ------------------------------------------------------------------ sync

    def sync(self, store: Store) -> None:
        for pod in store.list(POD):
            run = self.run_of(pod)
            run.store = store.name
            if pod.get("status", {}).get("phase") in {"Succeeded", "Failed"}:
                continue
            if run.scheduled is None:
                self._schedule(store, pod, run)
            if run.scheduled is not None:
                self._start(store, pod, run)
            store.put(POD, self._status(pod, run))

    def _free(self, store: Store, node: str) -> tuple[int, int]:
        cpu, memory = NODE_CPU, NODE_MEMORY
        for pod in store.list(POD):
            if pod["spec"].get("nodeName") == node and pod.get("status", {}).get("phase") not in {
                "Succeeded",
                "Failed",
            }:
                wants = pod_requests(pod)
                cpu -= wants["requests.cpu"]
                memory -= wants["requests.memory"]
        return cpu, memory

    def _schedule(self, store: Store, pod: Obj, run: Run) -> None:
        wants = pod_requests(pod)
        reasons: dict[str, int] = {}
        for node in NODES:
            cpu, memory = self._free(store, node)
            if wants["requests.cpu"] <= cpu and wants["requests.memory"] <= memory:
                pod["spec"]["nodeName"] = node
                run.scheduled = self.world.t
                meta = pod["metadata"]
                store.event(
                    pod,
                    "Scheduled",
                    f"Successfully assigned {meta['namespace']}/{meta['name']} to {node}",
                    source="default-scheduler",
                )
                return
            if wants["requests.cpu"] > cpu:
                reasons["Insufficient cpu"] = reasons.get("Insufficient cpu", 0) + 1
            if wants["requests.memory"] > memory:
                reasons["Insufficient memory"] = reasons.get("Insufficient memory", 0) + 1
        if not run.warned:
            run.warned = True
            total = len(NODES)
            detail = ", ".join(f"{n} {reason}" for reason, n in sorted(reasons.items()))
            store.event(
                pod,
                "FailedScheduling",
                f"0/{total} nodes are available: {detail}. preemption: 0/{total} nodes are "
                f"available: {total} No preemption victims found for incoming pod.",
                warning=True,
                source="default-scheduler",
            )

    def _start(self, store: Store, pod: Obj, run: Run) -> None:
        if run.started is not None or run.pull_error or run.scheduled is None:
            return
        if not run.pulling:
            run.pulling = True
            store.event(pod, "Pulling", f'Pulling image "{run.image}"')
        if self.world.t < run.scheduled + PULL_SECONDS:
            return
        if run.kind == "function" and not self.world.knative.image_pushed(run.image):
            run.pull_error = f'failed to pull and unpack image "{run.image}": not found'
            store.event(pod, "Failed", f"Failed to pull image: {run.pull_error}", warning=True)
            return
        store.event(pod, "Pulled", f'Successfully pulled image "{run.image}" in 1.9s')
        store.event(pod, "Created", f"Created container {run.container}")
        store.event(pod, "Started", f"Started container {run.container}")
        run.started = run.scheduled + PULL_SECONDS
        container = pod["spec"]["containers"][0]
        run.ready_at = run.started + (READY_AFTER if container.get("readinessProbe") else 0.0)
        if run.kind == "job":
            seed = stable_seed(run.pod, run.namespace)
            plan = jobscript.plan(
                container.get("command"), container.get("args"), seed=seed, start=run.started
            )
            run.duration, run.exit_code = plan.duration, plan.exit_code
            run.lines += [(run.started + dt, text) for dt, text in plan.lines]
            run.ready_at = run.started
        elif run.kind == "kaniko":
            plan_k = self.world.knative.kaniko_plan(store, pod, run.started)
            run.duration, run.exit_code = plan_k.duration, plan_k.exit_code
            run.lines += [(run.started + dt, text) for dt, text in plan_k.lines]
            run.ready_at = run.started
        elif run.kind == "function":
            self.world.knative.start_process(store, pod, run)

    # ------------------------------------------------------------------ status

    def _status(self, pod: Obj, run: Run) -> Obj:
        now = self.world.t
        container = pod["spec"]["containers"][0]
        base: Obj = {
            "name": container["name"],
            "image": container.get("image", ""),
            "imageID": "",
            "restartCount": run.restarts,
            "ready": False,
            "started": False,
        }
        phase, ready = "Pending", False
        finished = run.finished
        if run.pull_error:
            base["state"] = {"waiting": {"reason": "ErrImagePull", "message": run.pull_error}}
        elif run.started is None or run.started > now:
            base["state"] = {"waiting": {"reason": "ContainerCreating"}}
        elif finished is not None and finished <= now:
            code = run.exit_code or 0
            base["state"] = {
                "terminated": {
                    "exitCode": code,
                    "reason": "Completed" if code == 0 else "Error",
                    "startedAt": stamp(run.started),
                    "finishedAt": stamp(finished),
                }
            }
            phase = "Succeeded" if code == 0 else "Failed"
        else:
            ready = run.ready_at is not None and run.ready_at <= now
            base |= {"ready": ready, "started": True}
            base["state"] = {"running": {"startedAt": stamp(run.started)}}
            phase = "Running"
        if run.previous is not None and run.started is not None:
            base["lastState"] = {
                "terminated": {
                    "exitCode": 137,
                    "reason": "OOMKilled",
                    "startedAt": stamp(run.previous[0][0] if run.previous else run.started),
                    "finishedAt": stamp(run.started),
                }
            }
        status: Obj = {
            "phase": phase,
            "conditions": [
                {"type": "PodScheduled", "status": "True" if run.scheduled else "False"},
                {"type": "Ready", "status": "True" if ready else "False"},
            ],
            "containerStatuses": [base] if run.scheduled is not None else [],
            "qosClass": "Burstable",
        }
        if run.scheduled is None:
            status["conditions"][0] |= {"reason": "Unschedulable"}
        else:
            index = sum(ord(c) for c in run.pod) % 250 + 2
            status |= {"hostIP": "10.0.0.1", "podIP": f"10.42.{len(run.pod)}.{index}"}
            status["startTime"] = stamp(run.scheduled)
        pod["status"] = status
        return pod

    # ------------------------------------------------------------------ logs

    def lines(self, run: Run, *, until: float) -> list[tuple[float, str]]:
        """Everything the container printed up to ``until``, oldest first."""
        end = min(x for x in (run.finished, run.gone, until) if x is not None)
        out = [line for line in run.lines if line[0] <= end]
        if run.kind == "service" and run.started is not None:
            count = int((end - run.started) // LOG_PERIOD) + 1 if end >= run.started else 0
            for k in range(count):
                path = f"/api/items/{(k * 7) % 97}"
                out.append((run.started + k * LOG_PERIOD, f"GET {path} 200 {3 + (k * 13) % 40}ms"))
        return sorted(out, key=lambda line: line[0])

    def log_text(self, store: Store, pod: Obj, query: dict[str, str]) -> str:
        name = pod["metadata"]["name"]
        names = [c["name"] for c in pod["spec"]["containers"]]
        container = query.get("container") or names[0]
        if container not in names:
            raise ApiError(400, "BadRequest", f"container {container} is not valid for pod {name}")
        run = self.run_of(pod)
        now = self.world.t
        if query.get("previous") == "true":
            if run.previous is None:
                raise ApiError(
                    400,
                    "BadRequest",
                    f'previous terminated container "{container}" in pod "{name}" not found',
                )
            lines = list(run.previous)
        else:
            if run.started is None or run.started > now:
                reason = "ErrImagePull" if run.pull_error else "ContainerCreating"
                raise ApiError(
                    400,
                    "BadRequest",
                    f'container "{container}" in pod "{name}" is waiting to start: {reason}',
                )
            lines = self.lines(run, until=now)
        if "sinceSeconds" in query:
            since = now - int(query["sinceSeconds"])
            lines = [line for line in lines if line[0] >= since]
        if "tailLines" in query:
            tail = int(query["tailLines"])
            lines = lines[-tail:] if tail else []
        stamps = query.get("timestamps") == "true"
        text = "".join(
            f"{_format_log_time(t)} {message}\n" if stamps else f"{message}\n"
            for t, message in lines
        )
        return text
