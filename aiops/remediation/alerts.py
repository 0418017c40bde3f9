"""Alertmanager's webhook: every firing alert becomes an incident and an investigation.

Alertmanager posts groups of alerts (webhook payload version 4). Each alert names its place by
labels: the workspace (``workspace``, ``hexabase_workspace`` or ``vcluster``: name or id), the
project (``project`` or ``namespace``) and optionally the application (``application``, ``app``,
``deployment`` or ``app_kubernetes_io_name``). An alert about an application joins that
application's incident (the detector's and the alert's view of one problem stay together);
others get an incident of their own per alert name and project.

The incident carries ``alert:<alertname>`` as a signal while the alert fires (Alertmanager only
repeats firing alerts every few hours, so absence of news is not recovery); a ``resolved``
notification removes it. The investigation runs in the background as the caller, read-only,
and its findings go to the incident's timeline and to the organization's channels. Alert text
(annotations, label values other than the place) never reaches the agent's instructions.
"""

from __future__ import annotations

import asyncio
import logging
import re
import uuid
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field
from sqlalchemy.ext.asyncio import AsyncSession

from agents.events import FinalEvent
from agents.runtime import AgentRuntime, TurnRequest
from aiops.remediation.workflow import Announce
from platform_core.cluster.protocol import ClusterGateway
from platform_core.context import CallContext
from platform_core.db import Database
from platform_core.errors import InvalidInput
from platform_core.incidents import service as incidents
from platform_core.incidents.models import Incident
from platform_core.rbac.authorize import authorize
from platform_core.tenancy.models import Organization, Workspace
from platform_core.tenancy.repository import find_project, find_workspace, workspace_resource

logger = logging.getLogger(__name__)
WORKSPACE_LABELS = ("workspace", "hexabase_workspace", "vcluster")
PROJECT_LABELS = ("project", "namespace")
APPLICATION_LABELS = ("application", "app", "deployment", "app_kubernetes_io_name")
_SAFE_NAME = re.compile(r"[^A-Za-z0-9_.:-]+")


class AlertmanagerAlert(BaseModel):
    model_config = ConfigDict(extra="ignore")

    status: Literal["firing", "resolved"]
    labels: dict[str, str] = Field(max_length=100)
    annotations: dict[str, str] = Field(default_factory=dict, max_length=100)
    startsAt: datetime | None = None
    endsAt: datetime | None = None
    fingerprint: str | None = Field(default=None, max_length=200)


class AlertmanagerPayload(BaseModel):
    """Alertmanager's webhook body (version 4)."""

    model_config = ConfigDict(extra="ignore")

    version: str = "4"
    status: Literal["firing", "resolved"]
    receiver: str = ""
    alerts: list[AlertmanagerAlert] = Field(min_length=1, max_length=500)


class AlertOutcome(BaseModel):
    index: int
    alertname: str
    status: str
    incident_id: str | None = None
    error: str | None = None


def _label(labels: dict[str, str], names: tuple[str, ...]) -> str | None:
    return next((labels[n] for n in names if labels.get(n)), None)


def alert_name(alert: AlertmanagerAlert) -> str:
    return _SAFE_NAME.sub("_", alert.labels.get("alertname", "alert"))[:100] or "alert"


@dataclass(frozen=True)
class Located:
    workspace: Workspace
    place: incidents.Place


@dataclass
class AlertIntake:
    """Turns a payload into incidents, and runs the investigations in the background."""

    db: Database
    gateway: ClusterGateway
    runtime: AgentRuntime
    announce: Announce
    _tasks: set[asyncio.Task[None]] = field(default_factory=set)

    async def receive(
        self, session: AsyncSession, ctx: CallContext, org: Organization, body: AlertmanagerPayload
    ) -> list[AlertOutcome]:
        now = await self.gateway.now()
        outcomes: list[AlertOutcome] = []
        started: list[tuple[uuid.UUID, Located, str]] = []
        for index, alert in enumerate(body.alerts):
            name = alert_name(alert)
            try:
                located = await self._locate(session, ctx, org, alert)
                incident = await self._apply(session, located, alert, name, now)
            except InvalidInput as exc:
                outcomes.append(AlertOutcome(index=index, alertname=name, status="rejected",
                                             error=str(exc)))  # fmt: skip
                continue
            outcomes.append(
                AlertOutcome(
                    index=index,
                    alertname=name,
                    status=alert.status,
                    incident_id=str(incident.id) if incident else None,
                )
            )
            if incident is not None and alert.status == "firing":
                started.append((incident.id, located, name))
        await session.commit()
        for incident_id, located, name in started:
            self._spawn(self._investigate(ctx, org, incident_id, located, name))
        return outcomes

    async def _locate(
        self, session: AsyncSession, ctx: CallContext, org: Organization, alert: AlertmanagerAlert
    ) -> Located:
        labels = alert.labels
        ws_ref = _label(labels, WORKSPACE_LABELS)
        project_ref = _label(labels, PROJECT_LABELS)
        if not ws_ref or not project_ref:
            raise InvalidInput(
                "the alert must name its workspace and project in labels "
                f"({'/'.join(WORKSPACE_LABELS)} and {'/'.join(PROJECT_LABELS)})",
                details={"field": "labels"},
            )
        workspace = await find_workspace(session, org, ws_ref)
        if workspace is None or not authorize(
            ctx.subject, "alert.ingest", workspace_resource(org, workspace, kind="alert")
        ):
            raise InvalidInput(f"workspace {ws_ref!r} is unknown or not yours to alert on")
        project = await find_project(session, workspace, project_ref)
        if project is None:
            raise InvalidInput(f"project {project_ref!r} does not exist in {workspace.name}")
        application = _label(labels, APPLICATION_LABELS)
        place = incidents.Place(org.id, workspace.id, project.id, project.name, application)
        return Located(workspace, place)

    async def _apply(
        self,
        session: AsyncSession,
        located: Located,
        alert: AlertmanagerAlert,
        name: str,
        now: datetime,
    ) -> Incident | None:
        place = located.place
        fingerprint = place.fingerprint if place.application else f"{place.fingerprint}/{name}"
        signal = f"alert:{name}"
        if alert.status == "resolved":
            incident = await incidents.find_open(session, place.organization_id, fingerprint)
            if incident is not None and signal in incident.signals:
                incident.signals = [s for s in incident.signals if s != signal]
                incident.last_detected_at = now
                incidents.add_event(
                    session, incident, "note", f"Alertmanager: {name} resolved", now
                )
            return incident
        severity = alert.labels.get("severity", "warning")
        found = incidents.Report(
            place=place,
            source="alertmanager",
            title=f"{place.application or place.project}: {name}",
            severity=severity if severity in ("info", "warning", "critical") else "warning",  # type: ignore[arg-type]
            summary=f"Alertmanager: {name} is firing",
            signals=(signal,),
            details={"labels": alert.labels, "annotations": alert.annotations},
            fingerprint=fingerprint,
        )
        incident, opened = await incidents.report(session, found, now)
        if opened:
            await self.announce(session, incident, "incident_opened", found.summary, [], now)
        return incident

    # ------------------------------------------------------------------ investigations

    def _spawn(self, work: Any) -> None:
        task: asyncio.Task[None] = asyncio.create_task(work)
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    async def drain(self) -> None:
        """Wait for the investigations in flight (tests, shutdown)."""
        while self._tasks:
            await asyncio.gather(*list(self._tasks), return_exceptions=True)

    async def _investigate(
        self,
        ctx: CallContext,
        org: Organization,
        incident_id: uuid.UUID,
        located: Located,
        name: str,
    ) -> None:
        place = located.place
        subject = f"application '{place.application}'" if place.application else "a workload"
        message = (
            f"Alertmanager alert {name} is firing for {subject} in project '{place.project}' "
            f"of workspace '{located.workspace.name}'. Investigate why."
        )  # read-only is enforced by the turn, not asked for in words
        request = TurnRequest(
            call=ctx,
            organization=org,
            message=message,
            workspace=located.workspace.name,
            project=place.project,
            read_only=True,
        )
        findings = ""
        try:
            async for event in await self.runtime.chat(request):
                if isinstance(event, FinalEvent):
                    findings = event.text.strip()
        except Exception as exc:  # an investigation failure is reported, not raised
            logger.warning("investigating incident %s failed: %s", incident_id, exc)
            findings = f"the investigation failed: {type(exc).__name__}"
        await self._post(incident_id, findings or "the investigation found nothing to report")

    async def _post(self, incident_id: uuid.UUID, findings: str) -> None:
        now = await self.gateway.now()
        async with self.db.session() as session:
            incident = await session.get(Incident, incident_id)
            if incident is None:
                return
            incidents.add_event(session, incident, "finding", findings[:3000], now)
            await self.announce(
                session, incident, "investigation_finding", findings[:1000], [], now
            )
            await session.commit()
