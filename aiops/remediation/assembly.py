"""Putting monitoring and remediation together from the service's components.

One ``Remediation`` per service process: the monitor (with the metric store and detectors when
ClickHouse is configured, health symptoms always), the workflow with its own agent runtime
(the service's, with remediation approvals that wait longer than a chat's), the announcer, and
the scheduler that runs one monitoring job per active workspace every
``AIOPS_MONITOR_INTERVAL_SECONDS``.
"""

from __future__ import annotations

import asyncio
import dataclasses
import logging
import uuid
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from redis.asyncio import Redis
from sqlalchemy import select

from agents.approvals import ApprovalStore
from agents.runtime import AgentRuntime
from aiops.notifications.channels import Channel
from aiops.notifications.delivery import Notifier
from aiops.notifications.messages import Notification
from aiops.notifications.results import DeliveryResult
from aiops.remediation.alerts import AlertIntake
from aiops.remediation.monitor import Monitor
from aiops.remediation.notify import Announcer
from aiops.remediation.signals import AnomalySignal, AnomalySource, AppPlace
from aiops.remediation.workflow import Announce, Workflow
from aiops.scheduler.scheduler import Job, JobSource, Scheduler
from platform_core.auth.secrets import SecretBox
from platform_core.clickhouse import ClickHouseUnavailableError
from platform_core.cluster.protocol import ClusterGateway
from platform_core.config import Settings
from platform_core.db import Database
from platform_core.errors import NotFound
from platform_core.incidents.models import Incident
from platform_core.kv import KeySpace
from platform_core.notifications.service import BOX_PURPOSE
from platform_core.observability.ingest import MetricIngestor
from platform_core.observability.monitor import AnomalyMonitor
from platform_core.observability.store import AppKey
from platform_core.tenancy.models import Organization, Project, Workspace

JOB_TIMEOUT_SECONDS = 240.0
logger = logging.getLogger(__name__)


@dataclass
class StoreAnomalies:
    """Anomalies from the metric store: ingest the new minutes, then ask the detectors.

    A metric counts once it has been anomalous for ``confirm`` (two consecutive one-minute
    points by default): a single odd minute is not worth an incident. When the store cannot
    answer, monitoring goes on with health symptoms alone (and says so in the log).
    """

    ingestor: MetricIngestor
    monitor: AnomalyMonitor
    confirm: timedelta = timedelta(minutes=1)

    @staticmethod
    def key(place: AppPlace) -> AppKey:
        return AppKey(
            organization_id=uuid.UUID(str(place.organization_id)),
            workspace_id=uuid.UUID(str(place.workspace_id)),
            project=place.project,
            application=place.application,
        )

    async def refresh(self, places: Sequence[AppPlace]) -> None:
        apps = [(self.key(p), p.cluster_workspace) for p in places]
        try:
            result = await self.ingestor.ingest_many(apps)
        except ClickHouseUnavailableError as exc:
            logger.warning("the metric store is unavailable: %s", exc)
            return
        for key, error in result.failed.items():
            if isinstance(error, NotFound):
                self.ingestor.forget(key)
                self.monitor.forget(key)

    async def anomalies(self, place: AppPlace) -> Sequence[AnomalySignal]:
        try:
            found = await self.monitor.observe(self.key(place))
        except ClickHouseUnavailableError as exc:
            logger.warning("the metric store is unavailable: %s", exc)
            return ()
        signals = []
        for metric in found.anomalous:
            detection = found.latest.get(metric)
            if detection is None or detection.since is None or detection.timestamp is None:
                continue
            if detection.timestamp - detection.since < self.confirm:
                continue
            signals.append(
                AnomalySignal(
                    metric=metric,
                    summary=detection.summary(),
                    score=detection.raw_score,
                    since=detection.since,
                )
            )
        return signals


@dataclass
class Remediation:
    monitor: Monitor
    workflow: Workflow
    scheduler: Scheduler
    alerts: AlertIntake
    notifier: Notifier
    _tasks: set[asyncio.Task[None]] = field(default_factory=set)

    async def send_test(self, channel: Channel, note: Notification) -> DeliveryResult:
        return await self.notifier.send(channel, note)

    def approval_decided(self, approval_id: str) -> None:
        """Record a person's decision on an incident's fix now (in the background: the person's
        answer never waits for it), not only at the next tick."""
        task = asyncio.create_task(self._record_decision(approval_id))
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    async def _record_decision(self, approval_id: str) -> None:
        async with self.monitor.db.session() as session:
            incident = await session.scalar(
                select(Incident).where(
                    Incident.approval_id == approval_id, Incident.status == "awaiting_approval"
                )
            )
            if incident is None:
                return
            now = await self.monitor.gateway.now()
            await self.workflow.check_approval(session, incident, now)
            await session.commit()

    async def drain(self) -> None:
        """Wait for background work: investigations and recorded decisions."""
        await self.alerts.drain()
        while self._tasks:
            await asyncio.gather(*list(self._tasks), return_exceptions=True)

    async def close(self) -> None:
        await self.scheduler.stop()
        await self.drain()
        await self.notifier.aclose()


def remediation_runtime(runtime: AgentRuntime, approvals: ApprovalStore) -> AgentRuntime:
    """The service's runtime, with approvals that wait as long as a remediation needs."""
    return dataclasses.replace(runtime, approvals=approvals)


def monitoring_jobs(db: Database, monitor: Monitor, interval: float) -> JobSource:
    """The job source: one monitoring job per active workspace of an active organization."""

    async def jobs() -> list[Job]:
        async with db.session() as session:
            rows = await session.execute(
                select(Workspace.id, Workspace.organization_id)
                .join(Organization, Organization.id == Workspace.organization_id)
                .where(Workspace.status == "active", Organization.status == "active")
                .where(select(Project.id).where(Project.workspace_id == Workspace.id).exists())
            )
            found = [(row.id, row.organization_id) for row in rows]
        return [
            Job(
                key=f"monitor:{workspace_id}",
                interval_seconds=interval,
                run=_runner(monitor, workspace_id),
                timeout_seconds=JOB_TIMEOUT_SECONDS,
                tenant=str(org_id),
            )
            for workspace_id, org_id in found
        ]

    return jobs


def _runner(monitor: Monitor, workspace_id: uuid.UUID) -> Callable[[datetime], Awaitable[None]]:
    async def run(_: datetime) -> None:
        await monitor.run_workspace(workspace_id)

    return run


def build_remediation(
    settings: Settings,
    *,
    db: Database,
    redis: Redis,
    keyspace: KeySpace,
    gateway: ClusterGateway,
    runtime: AgentRuntime,
    anomalies: AnomalySource | None,
    announce: Announce | None = None,
) -> Remediation:
    approvals = ApprovalStore(
        redis,
        keyspace,
        ttl_seconds=settings.remediation_approval_ttl_minutes * 60,
    )
    notifier = Notifier(allow_private_networks=settings.notify_allow_private_networks)
    if announce is None:
        announce = Announcer(
            notifier=notifier,
            box=SecretBox(settings.secret_key.get_secret_value(), BOX_PURPOSE),
            base_url=settings.base_url,
        )
    workflow = Workflow(
        runtime=remediation_runtime(runtime, approvals),
        approvals=approvals,
        gateway=gateway,
        announce=announce,
    )
    monitor = Monitor(db=db, gateway=gateway, workflow=workflow, anomalies=anomalies)
    scheduler = Scheduler(
        redis,
        keyspace,
        monitoring_jobs(db, monitor, settings.monitor_interval_seconds),
        interval_seconds=settings.monitor_interval_seconds,
        concurrency=settings.scheduler_concurrency,
    )
    alerts = AlertIntake(db=db, gateway=gateway, runtime=runtime, announce=announce)
    return Remediation(
        monitor=monitor, workflow=workflow, scheduler=scheduler, alerts=alerts, notifier=notifier
    )
