"""Typed requests and answers of the cluster gateway.

The models are Kubernetes-shaped on purpose: a gateway over the real API fills them from
Deployment/ReplicaSet/Pod/Event/CronJob/Job/Knative objects and Prometheus range queries, the twin
fills them from its simulated objects, and callers cannot tell which one answered. Quantities stay
Kubernetes strings (``"250m"``, ``"512Mi"``); timestamps are timezone-aware UTC ``datetime``.

Specs (what a caller sends) forbid unknown fields and validate names and quantities, so a bad
request fails before it reaches a cluster. Status models (what comes back) are plain data.
"""

from __future__ import annotations

import re
from datetime import datetime
from typing import Annotated, Literal

from pydantic import AfterValidator, BaseModel, ConfigDict, Field, model_validator

from platform_core.cluster.cron import parse_cron
from platform_core.cluster.naming import validate_dns_label
from platform_core.cluster.quantity import cpu_millis, memory_bytes, validate_cpu, validate_memory

CpuQuantity = Annotated[str, AfterValidator(validate_cpu)]
MemoryQuantity = Annotated[str, AfterValidator(validate_memory)]
DnsLabel = Annotated[str, AfterValidator(validate_dns_label)]
CronJobName = Annotated[str, AfterValidator(lambda v: validate_dns_label(v, max_length=52))]

WorkspacePhase = Literal["provisioning", "active", "suspended", "terminating", "terminated"]
NamespacePhase = Literal["Active", "Terminating"]
PodPhase = Literal["Pending", "Running", "Succeeded", "Failed", "Unknown"]
ContainerStateName = Literal["waiting", "running", "terminated"]
EventType = Literal["Normal", "Warning"]
ConcurrencyPolicy = Literal["Allow", "Forbid", "Replace"]
JobStatus = Literal["Running", "Succeeded", "Failed"]
BuildStatus = Literal["Running", "Succeeded", "Failed"]
FunctionPhase = Literal["Building", "BuildFailed", "Deploying", "Ready"]
FunctionErrorKind = Literal[
    "timeout", "memory_limit", "sandbox_violation", "exception", "crashed", "bad_response"
]
MetricName = Literal[
    "cpu", "memory", "request_rate", "latency_p95", "error_rate", "available_replicas", "restarts"
]
METRIC_UNITS: dict[MetricName, str] = {
    "cpu": "cores",
    "memory": "bytes",
    "request_rate": "requests_per_second",
    "latency_p95": "milliseconds",
    "error_rate": "ratio",
    "available_replicas": "count",
    "restarts": "count",
}

_ENV_NAME = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")
_IMAGE = re.compile(
    r"^[a-z0-9]([a-z0-9._/:-]*[a-z0-9])?(:[\w][\w.-]{0,127})?(@sha256:[0-9a-f]{64})?$"
)


def _validate_env(env: dict[str, str]) -> dict[str, str]:
    for key in env:
        if _ENV_NAME.match(key) is None:
            raise ValueError(f"invalid environment variable name {key!r}")
    return env


def _validate_image(image: str) -> str:
    if _IMAGE.match(image) is None:
        raise ValueError(f"invalid image reference {image!r}")
    return image


def _validate_schedule(schedule: str) -> str:
    parse_cron(schedule)
    return schedule


EnvVars = Annotated[dict[str, str], AfterValidator(_validate_env)]
Image = Annotated[str, AfterValidator(_validate_image)]
Schedule = Annotated[str, AfterValidator(_validate_schedule)]


class _Spec(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


# --------------------------------------------------------------------------- workspaces


class WorkspaceStatus(BaseModel):
    """A workspace's vCluster as the platform sees it."""

    workspace: str
    phase: WorkspacePhase
    kubernetes_version: str
    api_server: str
    created_at: datetime
    phase_since: datetime
    message: str = ""


# --------------------------------------------------------------------------- namespaces


class ResourceQuotaSpec(_Spec):
    """Hard limits of a project. ``cpu``/``memory`` cap both requests and limits."""

    cpu: CpuQuantity | None = None
    memory: MemoryQuantity | None = None
    storage: MemoryQuantity | None = None
    pods: int | None = Field(default=None, ge=0)


class ResourceQuotaStatus(BaseModel):
    """The ResourceQuota object: ``hard`` and ``used`` keyed like Kubernetes (``limits.cpu``)."""

    name: str
    hard: dict[str, str]
    used: dict[str, str]


class NamespaceInfo(BaseModel):
    """A project: one namespace inside the workspace's vCluster."""

    name: str
    phase: NamespacePhase
    parent: str | None = None
    children: list[str] = Field(default_factory=list)
    labels: dict[str, str] = Field(default_factory=dict)
    quota: ResourceQuotaStatus | None = None
    created_at: datetime


# --------------------------------------------------------------------------- applications


class ResourceList(_Spec):
    cpu: CpuQuantity
    memory: MemoryQuantity


class ResourceRequirements(_Spec):
    """Container requests and limits; requests may not exceed limits."""

    requests: ResourceList = ResourceList(cpu="100m", memory="128Mi")
    limits: ResourceList = ResourceList(cpu="500m", memory="256Mi")

    @model_validator(mode="after")
    def _requests_within_limits(self) -> ResourceRequirements:
        if cpu_millis(self.requests.cpu) > cpu_millis(self.limits.cpu):
            raise ValueError("cpu request exceeds cpu limit")
        if memory_bytes(self.requests.memory) > memory_bytes(self.limits.memory):
            raise ValueError("memory request exceeds memory limit")
        return self


class ApplicationSpec(_Spec):
    """A Deployment (plus its Service) created from a container image."""

    name: DnsLabel
    image: Image
    replicas: int = Field(default=1, ge=0, le=200)
    env: EnvVars = Field(default_factory=dict)
    resources: ResourceRequirements = ResourceRequirements()
    port: int = Field(default=8080, ge=1, le=65535)
    command: list[str] | None = None
    args: list[str] | None = None
    labels: dict[str, str] = Field(default_factory=dict)


class Condition(BaseModel):
    type: str
    status: Literal["True", "False", "Unknown"]
    reason: str
    message: str
    last_transition: datetime


class AutoscalingStatus(BaseModel):
    """A HorizontalPodAutoscaler on CPU utilisation (percent of request)."""

    min_replicas: int
    max_replicas: int
    target_cpu_utilization: int
    current_cpu_utilization: int | None = None
    desired_replicas: int
    last_scale_time: datetime | None = None


class Application(BaseModel):
    """Deployment status, as ``kubectl get deploy -o yaml`` would show it."""

    name: str
    namespace: str
    image: str
    replicas: int
    ready_replicas: int
    updated_replicas: int
    available_replicas: int
    unavailable_replicas: int
    revision: int
    current_replica_set: str
    env: dict[str, str]
    resources: ResourceRequirements
    port: int
    command: list[str] | None
    args: list[str] | None
    labels: dict[str, str]
    conditions: list[Condition]
    autoscaling: AutoscalingStatus | None = None
    created_at: datetime


class Revision(BaseModel):
    """One entry of ``kubectl rollout history``: a ReplicaSet and its pod template."""

    revision: int
    replica_set: str
    pod_template_hash: str
    image: str
    command: list[str] | None
    args: list[str] | None
    resources: ResourceRequirements
    env: dict[str, str]
    change_cause: str
    created_at: datetime
    replicas: int
    current: bool


# --------------------------------------------------------------------------- pods, logs, events


class TerminationInfo(BaseModel):
    reason: str
    exit_code: int
    started_at: datetime | None
    finished_at: datetime
    message: str = ""


class ContainerStatus(BaseModel):
    name: str
    image: str
    ready: bool
    restart_count: int
    state: ContainerStateName
    reason: str | None = None
    message: str | None = None
    started_at: datetime | None = None
    exit_code: int | None = None
    last_termination: TerminationInfo | None = None


class PodInfo(BaseModel):
    """A pod; ``status`` is what the STATUS column of ``kubectl get pods`` prints."""

    name: str
    namespace: str
    phase: PodPhase
    status: str
    ready: bool
    restarts: int
    node: str | None
    ip: str | None
    owner_kind: str
    owner_name: str
    labels: dict[str, str]
    created_at: datetime
    containers: list[ContainerStatus]
    last_termination_reason: str | None = None


class LogLine(BaseModel):
    timestamp: datetime
    message: str


class PodLogs(BaseModel):
    pod: str
    container: str
    previous: bool
    lines: list[LogLine]


class ObjectReference(BaseModel):
    kind: str
    name: str
    namespace: str


class ClusterEvent(BaseModel):
    """A (deduplicated) Kubernetes Event."""

    type: EventType
    reason: str
    message: str
    involved_object: ObjectReference
    source: str
    count: int
    first_timestamp: datetime
    last_timestamp: datetime


# --------------------------------------------------------------------------- metrics


class MetricPoint(BaseModel):
    timestamp: datetime
    value: float


class MetricSeries(BaseModel):
    """One range-query result. ``pod`` is ``None`` for application-level aggregates."""

    metric: MetricName
    unit: str
    pod: str | None = None
    points: list[MetricPoint]


class ApplicationMetrics(BaseModel):
    application: str
    namespace: str
    start: datetime
    end: datetime
    step_seconds: int
    series: list[MetricSeries]

    def get(self, metric: MetricName, pod: str | None = None) -> MetricSeries:
        """The series for ``metric`` (and ``pod``), or a ``KeyError``."""
        for series in self.series:
            if series.metric == metric and series.pod == pod:
                return series
        raise KeyError(f"no series {metric!r} for pod {pod!r}")


# --------------------------------------------------------------------------- cronjobs


class CronJobSpec(_Spec):
    """A CronJob; either ``image`` or ``from_application`` (copy that app's pod template)."""

    name: CronJobName
    schedule: Schedule
    image: Image | None = None
    from_application: DnsLabel | None = None
    command: list[str] | None = None
    args: list[str] | None = None
    env: EnvVars = Field(default_factory=dict)
    resources: ResourceRequirements | None = None
    concurrency_policy: ConcurrencyPolicy = "Allow"
    suspend: bool = False
    backoff_limit: int = Field(default=2, ge=0, le=10)
    active_deadline_seconds: int | None = Field(default=None, ge=1)
    successful_jobs_history_limit: int = Field(default=3, ge=0, le=50)
    failed_jobs_history_limit: int = Field(default=1, ge=0, le=50)

    @model_validator(mode="after")
    def _one_source(self) -> CronJobSpec:
        if (self.image is None) == (self.from_application is None):
            raise ValueError("give exactly one of 'image' or 'from_application'")
        return self


class CronJobInfo(BaseModel):
    name: str
    namespace: str
    schedule: str
    image: str
    command: list[str] | None
    args: list[str] | None
    from_application: str | None
    concurrency_policy: ConcurrencyPolicy
    suspended: bool
    active_jobs: list[str]
    last_schedule_time: datetime | None = None
    last_successful_time: datetime | None = None
    next_schedule_time: datetime | None = None
    created_at: datetime


class JobRun(BaseModel):
    """One Job of a CronJob (scheduled or manual) and how it ended."""

    name: str
    cronjob: str
    manual: bool
    status: JobStatus
    start_time: datetime
    completion_time: datetime | None = None
    exit_code: int | None = None
    attempts: int
    reason: str | None = None
    pods: list[str]
    logs: list[str]


# --------------------------------------------------------------------------- functions


class FunctionSpec(_Spec):
    """Python source defining ``handler`` (``def handle(request: dict) -> dict | str``)."""

    name: Annotated[str, AfterValidator(lambda v: validate_dns_label(v, max_length=40))]
    source: str = Field(min_length=1, max_length=256 * 1024)
    handler: str = Field(default="handle", pattern=r"^[A-Za-z_][A-Za-z0-9_]*$")
    runtime: Literal["python3.11"] = "python3.11"
    env: EnvVars = Field(default_factory=dict)
    timeout_seconds: float = Field(default=10.0, gt=0, le=300)
    memory: MemoryQuantity = "128Mi"
    cpu: CpuQuantity = "250m"
    min_scale: int = Field(default=0, ge=0, le=20)
    max_scale: int = Field(default=3, ge=1, le=50)

    @model_validator(mode="after")
    def _sane(self) -> FunctionSpec:
        if self.min_scale > self.max_scale:
            raise ValueError("min_scale exceeds max_scale")
        if memory_bytes(self.memory) < 64 * 2**20:
            raise ValueError("functions need at least 64Mi of memory")
        return self


class FunctionBuild(BaseModel):
    job_name: str
    status: BuildStatus
    image: str
    source_sha256: str
    started_at: datetime
    finished_at: datetime | None = None
    message: str = ""


class FunctionRevision(BaseModel):
    name: str
    image: str
    created_at: datetime
    ready: bool
    traffic_percent: int


class FunctionInfo(BaseModel):
    name: str
    namespace: str
    phase: FunctionPhase
    url: str
    ready: bool
    latest_revision: str | None
    latest_build: FunctionBuild
    timeout_seconds: float
    memory: str
    cpu: str
    min_scale: int
    max_scale: int
    created_at: datetime


class FunctionRequest(_Spec):
    method: Literal["GET", "POST", "PUT", "PATCH", "DELETE"] = "POST"
    path: str = "/"
    headers: dict[str, str] = Field(default_factory=dict)
    query: dict[str, str] = Field(default_factory=dict)
    body: str = ""


class FunctionResponse(BaseModel):
    """The HTTP answer; ``ok`` is false when the invocation failed (with ``error``)."""

    ok: bool
    status_code: int
    headers: dict[str, str]
    body: str
    duration_ms: float
    revision: str
    error: str | None = None
    error_kind: FunctionErrorKind | None = None
    logs: list[str] = Field(default_factory=list)
