"""The twin's whole state as plain dataclasses.

Everything the twin knows lives in one ``TwinState`` tree (plus the ``random.Random`` whose state
is copied into it on snapshot), so ``snapshot()`` is a pydantic dump of this tree and
``restore()`` a validation of it. Times are float seconds since the Unix epoch on the virtual
clock; quantities are integers (CPU in millicores, memory in bytes).

Only what cannot be recomputed is stored: metrics and application log lines are derived at query
time from the per-application load parameters, the readiness ``Timeline`` and each container's
``ContainerRun`` records, which keeps an advance of the clock cheap.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

# (time, sequence, kind, workspace, namespace, name, token); see ``core.TwinCore.schedule``.
Timer = tuple[float, int, str, str, str, str, int]


@dataclass(slots=True)
class PodTemplate:
    """The parts of a Deployment's pod template the twin acts on, plus its hash."""

    hash: str
    image: str
    command: list[str] | None
    args: list[str] | None
    env: dict[str, str]
    resources: dict[str, dict[str, str]]
    port: int
    labels: dict[str, str]
    restarted_at: str | None
    cpu_req: int
    cpu_lim: int
    mem_req: int
    mem_lim: int


@dataclass(slots=True)
class ContainerRun:
    """One container instance: memory follows ``min(limit, base + slope * (t - mem_t0))``."""

    start: float
    mem_base: float
    mem_slope: float = 0.0
    mem_t0: float = 0.0
    ready_at: float | None = None
    end: float | None = None
    reason: str = ""
    exit_code: int | None = None


@dataclass(slots=True)
class Pod:
    name: str
    uid: str
    ip: str
    owner_kind: str  # "ReplicaSet" | "Job"
    owner: str
    app: str  # the Deployment or CronJob it belongs to
    image: str
    labels: dict[str, str]
    created: float
    seed: int
    cpu_req: int
    cpu_lim: int
    mem_req: int
    mem_lim: int
    node: str | None = None
    phase: str = "Pending"
    reason: str = "ContainerCreating"  # waiting reason, "" while running
    message: str = ""
    ready: bool = False
    restarts: int = 0
    backoff: float = 0.0
    pull_failures: int = 0
    terminating: bool = False
    gone_at: float | None = None
    token: int = 0
    runs: list[ContainerRun] = field(default_factory=list)
    # Effects decided when the pod is created, from the faults that match its template.
    pull_fails: bool = False
    crashes: bool = False
    mem_slope: float = 0.0
    mem_target: float = 0.0
    lat_add: float = 0.0
    err_add: float = 0.0
    err_msg: str = ""


@dataclass(slots=True)
class ReplicaSet:
    name: str
    hash: str
    revision: int
    replicas: int
    template: PodTemplate
    created: float
    change_cause: str
    pods: list[str] = field(default_factory=list)


@dataclass(slots=True)
class Hpa:
    min_replicas: int
    max_replicas: int
    target: int
    desired: int
    current_util: int | None = None
    last_scale: float | None = None
    recommendations: list[tuple[float, int]] = field(default_factory=list)


@dataclass(slots=True)
class Timeline:
    """Change points of what the load model needs: ready pods and their averaged effects."""

    t: list[float] = field(default_factory=list)
    ready: list[int] = field(default_factory=list)
    cpu_lim: list[float] = field(default_factory=list)
    lat_add: list[float] = field(default_factory=list)
    err_add: list[float] = field(default_factory=list)


@dataclass(slots=True)
class Load:
    """Per-application traffic model parameters, drawn once from the seed."""

    base_rps: float
    cpu_per_req: float  # millicores per request/second
    idle_cpu: float  # millicores per running pod
    base_mem: float  # bytes per pod
    base_latency: float  # ms (p95 at low utilisation)
    base_err: float  # ratio
    phase_h: float  # shift of the daily pattern, hours
    seed: int
    style: str  # "logfmt" | "json" | "combined"


@dataclass(slots=True)
class App:
    name: str
    namespace: str
    labels: dict[str, str]
    created: float
    replicas: int
    template: PodTemplate
    load: Load
    rsets: dict[str, ReplicaSet] = field(default_factory=dict)
    hpa: Hpa | None = None
    ready: int = 0
    timeline: Timeline = field(default_factory=Timeline)
    fault_ids: list[str] = field(default_factory=list)
    conditions: dict[str, tuple[str, str, str, float]] = field(default_factory=dict)
    progress_at: float = 0.0
    blocked: str = ""  # last FailedCreate message while pods cannot be created
    old_pods: list[Pod] = field(default_factory=list)
    # Lines an eval or test planted in the app's log (virtual time, text): every running
    # container of the app prints them, as if written by the workload itself.
    planted_logs: list[tuple[float, str]] = field(default_factory=list)


@dataclass(slots=True)
class Event:
    type: str
    reason: str
    message: str
    kind: str
    name: str
    source: str
    count: int
    first: float
    last: float


@dataclass(slots=True)
class Job:
    name: str
    cronjob: str
    manual: bool
    created: float
    image: str
    command: list[str] | None
    args: list[str] | None
    labels: dict[str, str]
    backoff_limit: int
    deadline: float | None
    cpu_req: int
    cpu_lim: int
    mem_req: int
    mem_lim: int
    status: str = "Running"
    completion: float | None = None
    exit_code: int | None = None
    reason: str | None = None
    attempts: int = 0
    pods: list[str] = field(default_factory=list)
    token: int = 0


@dataclass(slots=True)
class CronJob:
    name: str
    spec: dict[str, Any]
    manifest: dict[str, Any]
    created: float
    next_fire: float | None = None
    last_schedule: float | None = None
    last_success: float | None = None
    token: int = 0
    jobs: list[str] = field(default_factory=list)
    fault_ids: list[str] = field(default_factory=list)


@dataclass(slots=True)
class Build:
    number: int
    job_name: str
    status: str
    image: str
    sha: str
    started: float
    spec: dict[str, Any]
    finished: float | None = None
    message: str = ""
    log: list[str] = field(default_factory=list)


@dataclass(slots=True)
class FnRevision:
    name: str
    image: str
    created: float
    spec: dict[str, Any]
    ready: bool = False


@dataclass(slots=True)
class Function:
    name: str
    created: float
    spec: dict[str, Any]
    builds: list[Build] = field(default_factory=list)
    revisions: list[FnRevision] = field(default_factory=list)
    logs: list[tuple[float, str]] = field(default_factory=list)
    fault_ids: list[str] = field(default_factory=list)


@dataclass(slots=True)
class Namespace:
    name: str
    created: float
    parent: str | None = None
    labels: dict[str, str] = field(default_factory=dict)
    phase: str = "Active"
    quota: dict[str, str] | None = None
    apps: dict[str, App] = field(default_factory=dict)
    pods: dict[str, Pod] = field(default_factory=dict)
    cronjobs: dict[str, CronJob] = field(default_factory=dict)
    jobs: dict[str, Job] = field(default_factory=dict)
    functions: dict[str, Function] = field(default_factory=dict)
    events: dict[str, Event] = field(default_factory=dict)


@dataclass(slots=True)
class Node:
    name: str
    cpu: int
    mem: int
    cpu_used: int = 0
    mem_used: int = 0
    reserved_mem: int = 0
    images: list[str] = field(default_factory=list)


@dataclass(slots=True)
class Workspace:
    id: str
    phase: str
    version: str
    created: float
    phase_since: float
    token: str
    ca: str
    message: str = ""
    nodes: list[Node] = field(default_factory=list)
    namespaces: dict[str, Namespace] = field(default_factory=dict)
    unschedulable: list[tuple[str, str]] = field(default_factory=list)


@dataclass(slots=True)
class Fault:
    id: str
    kind: str
    workspace: str
    namespace: str
    target: str
    params: dict[str, Any]
    injected_at: float
    image: str | None = None
    command: list[str] | None = None
    sha: str | None = None
    window_end: float | None = None
    active: bool = True
    remedied_at: float | None = None
    remedied_by: str | None = None
    cleared_at: float | None = None


@dataclass(slots=True)
class TwinConfig:
    nodes_per_workspace: int
    node_cpu: int
    node_mem: int


@dataclass(slots=True)
class TwinState:
    seed: int
    now: float
    config: TwinConfig
    rng: list[Any] = field(default_factory=list)
    seq: int = 0
    ticks: int = 0
    timers: list[Timer] = field(default_factory=list)
    workspaces: dict[str, Workspace] = field(default_factory=dict)
    faults: dict[str, Fault] = field(default_factory=dict)
    # Last operation on each object ("<ws>/<ns>/<name>" -> text), to explain remedies.
    notes: dict[str, str] = field(default_factory=dict)
