"""The per-workspace monitoring job: observe every application, report, and move incidents on.

One run (every minute per active workspace): for each project (namespace) and application,
bring its metrics into the store and ask the detectors what is anomalous now, read its health
symptoms from the cluster, then open or update the application's incident and let the workflow
advance it. Incidents of applications that disappeared are closed. A failure with one
application is logged and skipped, never the whole workspace.
"""

from __future__ import annotations

import logging
import uuid
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from aiops.remediation.signals import QUIET, AnomalySource, AppPlace, Observation
from aiops.remediation.workflow import Workflow
from platform_core.cluster.protocol import ClusterGateway
from platform_core.db import Database
from platform_core.errors import DomainError
from platform_core.incidents import service as incidents
from platform_core.incidents.models import Incident
from platform_core.observability.health import (
    check_application,
    check_cronjob,
    check_function,
)
from platform_core.tenancy.models import Organization, Project, Workspace

logger = logging.getLogger(__name__)
CRONJOB, FUNCTION = "cronjob/", "function/"  # how non-application workloads are named


@dataclass
class WorkspaceReport:
    """What one run saw and did (for logs, benchmarks and tests)."""

    applications: int = 0
    unhealthy: list[str] = field(default_factory=list)
    opened: list[uuid.UUID] = field(default_factory=list)
    errors: dict[str, str] = field(default_factory=dict)


@dataclass
class Monitor:
    db: Database
    gateway: ClusterGateway
    workflow: Workflow
    anomalies: AnomalySource | None = None
    symptom_window: timedelta = timedelta(minutes=2)

    async def run_workspace(self, workspace_id: uuid.UUID) -> WorkspaceReport:
        report = WorkspaceReport()
        async with self.db.session() as session:
            workspace = await session.get(Workspace, workspace_id)
            if workspace is None or workspace.status != "active":
                return report
            org = await session.get(Organization, workspace.organization_id)
            if org is None or org.status != "active":
                return report
            projects = list(
                await session.scalars(select(Project).where(Project.workspace_id == workspace.id))
            )
            await session.commit()
        now = await self.gateway.now()
        seen: set[str] = set()
        found: list[tuple[Project, str]] = []
        for project in projects:
            names = await self._applications(workspace, project, report)
            if names is None:
                seen.add(f"{project.name}/*")  # unknown this tick: close nothing there
                continue
            found += [(project, name) for name in names]
        if self.anomalies is not None:
            await self.anomalies.refresh(
                [self._place(org, workspace, p, n) for p, n in found if "/" not in n]
            )
        for project, name in found:
            seen.add(f"{project.name}/{name}")
            await self._one(org, workspace, project, name, now, report)
        await self._other_incidents(org, workspace, seen, now)
        return report

    @staticmethod
    def _place(org: Organization, workspace: Workspace, project: Project, name: str) -> AppPlace:
        return AppPlace(org.id, workspace.id, str(workspace.id), project.name, name)

    async def _applications(
        self, workspace: Workspace, project: Project, report: WorkspaceReport
    ) -> list[str] | None:
        """The workloads to watch: applications, ``cronjob/<name>`` and ``function/<name>``."""
        cluster, namespace = str(workspace.id), project.name
        try:
            apps = await self.gateway.list_applications(cluster, namespace)
            cronjobs = await self.gateway.list_cronjobs(cluster, namespace)
            functions = await self.gateway.list_functions(cluster, namespace)
        except DomainError as exc:
            report.errors[project.name] = str(exc)
            return None
        return (
            [app.name for app in apps]
            + [f"{CRONJOB}{c.name}" for c in cronjobs if not c.suspended]
            + [f"{FUNCTION}{f.name}" for f in functions]
        )

    async def _one(
        self,
        org: Organization,
        workspace: Workspace,
        project: Project,
        name: str,
        now: datetime,
        report: WorkspaceReport,
    ) -> None:
        report.applications += 1
        place = self._place(org, workspace, project, name)
        try:
            seen = await self.observe(place)
            async with self.db.session() as session:
                incident, opened = await self._report(
                    session, org, workspace, project, name, seen, now
                )
                if incident is not None:
                    if opened:
                        report.opened.append(incident.id)
                        await self.workflow.announce(
                            session,
                            incident,
                            "incident_opened",
                            incident.summary,
                            seen.evidence(),
                            now,
                        )
                    await self.workflow.advance(session, org, workspace, incident, seen, now)
                await session.commit()
        except Exception as exc:  # one application's failure must not stop the others
            logger.exception("monitoring %s/%s/%s failed", workspace.name, project.name, name)
            report.errors[f"{project.name}/{name}"] = f"{type(exc).__name__}: {exc}"[:300]
            return
        if seen.unhealthy:
            report.unhealthy.append(f"{project.name}/{name}")

    async def observe(self, place: AppPlace) -> Observation:
        where = (self.gateway, place.cluster_workspace, place.project)
        if place.application.startswith(CRONJOB):
            return Observation(await check_cronjob(*where, place.application[len(CRONJOB) :]))
        if place.application.startswith(FUNCTION):
            return Observation(await check_function(*where, place.application[len(FUNCTION) :]))
        health = await check_application(*where, place.application, window=self.symptom_window)
        anomalies = await self.anomalies.anomalies(place) if self.anomalies else ()
        return Observation(health=health, anomalies=tuple(anomalies))

    async def _report(
        self,
        session: AsyncSession,
        org: Organization,
        workspace: Workspace,
        project: Project,
        name: str,
        seen: Observation,
        now: datetime,
    ) -> tuple[Incident | None, bool]:
        """The application's incident (opened now if something is wrong and none is open)."""
        where = incidents.Place(org.id, workspace.id, project.id, project.name, name)
        if not seen.unhealthy:
            return await incidents.find_open(session, org.id, where.fingerprint), False
        found = incidents.Report(
            place=where,
            source="detector",
            title=seen.title(name),
            severity=seen.severity,  # type: ignore[arg-type]
            summary="; ".join(seen.evidence())[:2000],
            signals=seen.signals,
            details={"evidence": seen.evidence()},
        )
        return await incidents.report(session, found, now)

    async def _other_incidents(
        self, org: Organization, workspace: Workspace, seen: set[str], now: datetime
    ) -> None:
        """Advance the incidents no application was observed for this run.

        Those of a project as a whole (an alert naming no application) move on with what
        Alertmanager says; those of applications that no longer exist are closed.
        """
        async with self.db.session() as session:
            rows: Sequence[Incident] = list(
                await session.scalars(
                    select(Incident).where(
                        Incident.workspace_id == workspace.id, Incident.status != "resolved"
                    )
                )
            )
            for incident in rows:
                if incident.application is None:
                    view: Observation | None = Observation(health=QUIET)
                elif f"{incident.project}/{incident.application}" in seen:
                    continue
                elif f"{incident.project}/*" in seen:
                    continue  # its project could not be listed this run
                else:
                    view = None
                await self.workflow.advance(session, org, workspace, incident, view, now)
            await session.commit()
