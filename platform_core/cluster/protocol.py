"""The cluster gateway: everything the platform asks of a workspace's vCluster.

Two implementations are meant to exist: ``SimulatedCluster`` (the twin in ``twin/``) and a gateway
over the official ``kubernetes`` client. The operations therefore map one-to-one onto Kubernetes
verbs (``kubectl rollout undo``, ``kubectl logs --previous``, ``kubectl create job --from``, a
Prometheus range query, ...) and return the Kubernetes-shaped models of ``schemas``.

Objects are addressed by ``(workspace, namespace, name)``. ``workspace`` is the platform's
workspace identifier; the tenancy layer has already resolved names and checked permissions, so a
gateway knows nothing about users or organizations.

Failures are the domain errors of ``platform_core.errors``:

* ``NotFound`` - the workspace, namespace or object does not exist.
* ``Conflict`` - it exists already, or the state forbids the operation (suspended workspace,
  no previous revision to roll back to, namespace with children, ...).
* ``InvalidInput`` - the request is well-formed but not acceptable (log of a container that has
  not started, a metrics range that is too long, ...).
* ``Unavailable`` - the workspace's API server is not up yet (still provisioning) or a function
  has no ready revision.

Time: ``now()`` is the cluster's clock (wall time on a real cluster, virtual time on the twin).
Relative arguments (``since_seconds``) and defaults (metrics end at ``now()``) use it, so callers
never have to mix their own clock with the cluster's.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import datetime
from typing import Protocol, runtime_checkable

from platform_core.cluster.schemas import (
    Application,
    ApplicationMetrics,
    ApplicationSpec,
    ClusterEvent,
    ConcurrencyPolicy,
    CronJobInfo,
    CronJobSpec,
    EventType,
    FunctionInfo,
    FunctionRequest,
    FunctionResponse,
    FunctionRevision,
    FunctionSpec,
    JobRun,
    LogLine,
    MetricName,
    NamespaceInfo,
    PodInfo,
    PodLogs,
    ResourceQuotaSpec,
    ResourceRequirements,
    Revision,
    WorkspaceStatus,
)


@runtime_checkable
class ClusterGateway(Protocol):
    """Async operations on workspaces (vClusters) and what runs inside them."""

    async def now(self) -> datetime:
        """The cluster's current time (UTC)."""
        ...

    # ------------------------------------------------------------------ workspaces

    async def provision_workspace(
        self, workspace: str, *, kubernetes_version: str | None = None
    ) -> WorkspaceStatus:
        """Create the vCluster; it is ``provisioning`` until its API server is up, then ``active``.

        Raises ``Conflict`` if the workspace exists and is not ``terminated``.
        """
        ...

    async def get_workspace(self, workspace: str) -> WorkspaceStatus:
        """Current phase; a deleted workspace reports ``terminated``."""
        ...

    async def suspend_workspace(self, workspace: str) -> WorkspaceStatus:
        """Scale the vCluster to zero: every pod stops, objects are kept."""
        ...

    async def resume_workspace(self, workspace: str) -> WorkspaceStatus:
        """Wake a suspended vCluster; workloads start again."""
        ...

    async def delete_workspace(self, workspace: str) -> WorkspaceStatus:
        """Start deletion: ``terminating`` now, ``terminated`` once everything is gone."""
        ...

    async def get_kubeconfig(self, workspace: str) -> str:
        """A kubeconfig (YAML text) for the workspace's vCluster API server."""
        ...

    # ------------------------------------------------------------------ namespaces (projects)

    async def create_namespace(
        self,
        workspace: str,
        name: str,
        *,
        quota: ResourceQuotaSpec | None = None,
        parent: str | None = None,
        labels: Mapping[str, str] | None = None,
    ) -> NamespaceInfo:
        """Create a namespace with an optional ResourceQuota, nested under ``parent``."""
        ...

    async def get_namespace(self, workspace: str, name: str) -> NamespaceInfo:
        """The namespace with its quota usage and children."""
        ...

    async def list_namespaces(self, workspace: str) -> list[NamespaceInfo]:
        """All namespaces of the workspace, including ``default``."""
        ...

    async def set_namespace_quota(
        self, workspace: str, name: str, quota: ResourceQuotaSpec
    ) -> NamespaceInfo:
        """Create or replace the namespace's ResourceQuota."""
        ...

    async def delete_namespace(self, workspace: str, name: str, *, cascade: bool = False) -> None:
        """Delete a namespace; ``Conflict`` if it has children unless ``cascade``."""
        ...

    # ------------------------------------------------------------------ applications

    async def create_application(
        self, workspace: str, namespace: str, spec: ApplicationSpec
    ) -> Application:
        """Create a Deployment (revision 1) and start its pods."""
        ...

    async def get_application(self, workspace: str, namespace: str, name: str) -> Application: ...

    async def list_applications(self, workspace: str, namespace: str) -> list[Application]: ...

    async def update_application(
        self,
        workspace: str,
        namespace: str,
        name: str,
        *,
        image: str | None = None,
        env: Mapping[str, str] | None = None,
        resources: ResourceRequirements | None = None,
        command: Sequence[str] | None = None,
        args: Sequence[str] | None = None,
    ) -> Application:
        """Change the pod template; a changed template rolls out as a new revision."""
        ...

    async def scale_application(
        self, workspace: str, namespace: str, name: str, *, replicas: int
    ) -> Application: ...

    async def restart_application(self, workspace: str, namespace: str, name: str) -> Application:
        """``kubectl rollout restart``: a new revision with the same spec, so new pods."""
        ...

    async def rollback_application(
        self, workspace: str, namespace: str, name: str, *, to_revision: int | None = None
    ) -> Application:
        """``kubectl rollout undo``: back to ``to_revision`` or the previous one.

        ``Conflict`` if there is no previous revision, ``NotFound`` for an unknown revision.
        """
        ...

    async def list_revisions(self, workspace: str, namespace: str, name: str) -> list[Revision]:
        """Rollout history, oldest first."""
        ...

    async def set_autoscaling(
        self,
        workspace: str,
        namespace: str,
        name: str,
        *,
        min_replicas: int,
        max_replicas: int,
        target_cpu_utilization: int = 80,
    ) -> Application:
        """Create or replace the HorizontalPodAutoscaler (CPU, percent of request)."""
        ...

    async def remove_autoscaling(
        self, workspace: str, namespace: str, name: str
    ) -> Application: ...

    async def delete_application(self, workspace: str, namespace: str, name: str) -> None: ...

    # ------------------------------------------------------------------ pods, logs, events

    async def list_pods(
        self, workspace: str, namespace: str, *, application: str | None = None
    ) -> list[PodInfo]:
        """Pods of the namespace, or of one application (label ``app=<name>``)."""
        ...

    async def get_logs(
        self,
        workspace: str,
        namespace: str,
        pod: str,
        *,
        container: str | None = None,
        tail_lines: int | None = None,
        since_seconds: int | None = None,
        since_time: datetime | None = None,
        previous: bool = False,
    ) -> PodLogs:
        """Container log lines, oldest first; ``previous`` reads the last terminated container.

        ``since_seconds`` and ``since_time`` are alternatives (``InvalidInput`` if both are given).
        """
        ...

    async def list_events(
        self,
        workspace: str,
        namespace: str,
        *,
        kind: str | None = None,
        name: str | None = None,
        type: EventType | None = None,
    ) -> list[ClusterEvent]:
        """Events of the namespace, oldest ``last_timestamp`` first, filtered by involved object.

        ``name`` matches the involved object's name exactly, or as a prefix followed by ``-`` so
        that ``name="web"`` also returns the events of ReplicaSet ``web-7d9c8b6f5`` and its pods.
        """
        ...

    async def get_metrics(
        self,
        workspace: str,
        namespace: str,
        application: str,
        *,
        start: datetime | None = None,
        end: datetime | None = None,
        step_seconds: int = 60,
        metrics: Sequence[MetricName] | None = None,
        per_pod: bool = False,
    ) -> ApplicationMetrics:
        """Range query; ``end`` defaults to ``now()`` and ``start`` to one hour before ``end``."""
        ...

    # ------------------------------------------------------------------ cronjobs

    async def create_cronjob(
        self, workspace: str, namespace: str, spec: CronJobSpec
    ) -> CronJobInfo: ...

    async def get_cronjob(self, workspace: str, namespace: str, name: str) -> CronJobInfo: ...

    async def list_cronjobs(self, workspace: str, namespace: str) -> list[CronJobInfo]: ...

    async def update_cronjob(
        self,
        workspace: str,
        namespace: str,
        name: str,
        *,
        schedule: str | None = None,
        image: str | None = None,
        command: Sequence[str] | None = None,
        args: Sequence[str] | None = None,
        concurrency_policy: ConcurrencyPolicy | None = None,
    ) -> CronJobInfo: ...

    async def suspend_cronjob(self, workspace: str, namespace: str, name: str) -> CronJobInfo: ...

    async def resume_cronjob(self, workspace: str, namespace: str, name: str) -> CronJobInfo: ...

    async def trigger_cronjob(self, workspace: str, namespace: str, name: str) -> JobRun:
        """``kubectl create job <name>-manual-<unix time> --from=cronjob/<name>``."""
        ...

    async def list_job_runs(self, workspace: str, namespace: str, cronjob: str) -> list[JobRun]:
        """The CronJob's retained Jobs (history limits apply), oldest first."""
        ...

    async def delete_cronjob(self, workspace: str, namespace: str, name: str) -> None: ...

    # ------------------------------------------------------------------ functions

    async def deploy_function(
        self, workspace: str, namespace: str, spec: FunctionSpec
    ) -> FunctionInfo:
        """Build the source with a Kaniko Job, then roll out a Knative Service revision.

        Returns while the build runs (phase ``Building``); poll ``get_function``.
        """
        ...

    async def get_function(self, workspace: str, namespace: str, name: str) -> FunctionInfo: ...

    async def list_functions(self, workspace: str, namespace: str) -> list[FunctionInfo]: ...

    async def list_function_revisions(
        self, workspace: str, namespace: str, name: str
    ) -> list[FunctionRevision]: ...

    async def invoke_function(
        self, workspace: str, namespace: str, name: str, request: FunctionRequest
    ) -> FunctionResponse:
        """Call the function over HTTP. ``Unavailable`` if it has no ready revision."""
        ...

    async def get_function_logs(
        self,
        workspace: str,
        namespace: str,
        name: str,
        *,
        tail_lines: int | None = None,
        build: bool = False,
    ) -> list[LogLine]:
        """Runtime logs of the function, or (``build=True``) the latest build's Kaniko log."""
        ...

    async def delete_function(self, workspace: str, namespace: str, name: str) -> None: ...
