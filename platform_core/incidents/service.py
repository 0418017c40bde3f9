"""Opening, updating and closing incidents, and reading them with the caller's rights.

Times come from the caller (the cluster's clock for detections and actions), so a timeline on
the platform twin reads in virtual time like the metrics it was found in.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Literal, get_args

from sqlalchemy import and_, func, or_, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from platform_core.errors import Conflict, NotFound
from platform_core.incidents.models import Incident, IncidentEvent
from platform_core.rbac.authorize import Resource, authorize, require
from platform_core.rbac.subject import Subject
from platform_core.tenancy.models import Organization, Project, Workspace
from platform_core.tenancy.repository import path_of, project_parents, workspace_resource

IncidentStatus = Literal[
    "open", "remediating", "awaiting_approval", "verifying", "escalated", "resolved"
]
STATUSES: tuple[str, ...] = get_args(IncidentStatus)
CLOSED: frozenset[str] = frozenset({"resolved"})
Severity = Literal["info", "warning", "critical"]
SEVERITY_ORDER: tuple[str, ...] = get_args(Severity)
EventKind = Literal[
    "detected",
    "finding",
    "action_proposed",
    "action_applied",
    "action_failed",
    "approval_requested",
    "approval_decided",
    "verification",
    "escalated",
    "resolved",
    "reopened",
    "notified",
    "note",
]


@dataclass(frozen=True)
class Place:
    """Where an incident happens: a workspace, a project in it, maybe one application."""

    organization_id: uuid.UUID
    workspace_id: uuid.UUID
    project_id: uuid.UUID | None
    project: str | None
    application: str | None

    @property
    def fingerprint(self) -> str:
        return f"{self.workspace_id}/{self.project or '-'}/{self.application or '-'}"


@dataclass(frozen=True)
class Report:
    """What a detector or an alert says about a place now."""

    place: Place
    source: Literal["detector", "alertmanager"]
    title: str
    severity: Severity
    summary: str
    signals: tuple[str, ...]
    details: dict[str, Any] = field(default_factory=dict)
    fingerprint: str | None = None  # defaults to the place's


def _stronger(a: str, b: str) -> str:
    return a if SEVERITY_ORDER.index(a) >= SEVERITY_ORDER.index(b) else b


def add_event(
    session: AsyncSession,
    incident: Incident,
    kind: EventKind,
    summary: str,
    at: datetime,
    data: dict[str, Any] | None = None,
) -> IncidentEvent:
    event = IncidentEvent(
        incident_id=incident.id, kind=kind, summary=summary[:4000], at=at, data=data or {}
    )
    session.add(event)
    return event


async def find_open(
    session: AsyncSession, organization_id: uuid.UUID, fingerprint: str
) -> Incident | None:
    return await session.scalar(
        select(Incident).where(
            Incident.organization_id == organization_id, Incident.open_key == fingerprint
        )
    )


async def report(session: AsyncSession, found: Report, now: datetime) -> tuple[Incident, bool]:
    """Open an incident for ``found``, or update the open one of the same problem.

    Returns the incident and whether it was opened now. The timeline gets a ``detected`` entry
    when the incident opens and whenever a signal it had not seen appears, not on every tick.
    Two replicas reporting the same problem at once end with one incident: the loser of the
    unique ``open_key`` race reloads the winner's row.
    """
    fingerprint = found.fingerprint or found.place.fingerprint
    incident = await find_open(session, found.place.organization_id, fingerprint)
    if incident is None:
        incident = await _open(session, found, fingerprint, now)
        if incident is not None:
            return incident, True
        incident = await find_open(session, found.place.organization_id, fingerprint)
        if incident is None:
            raise Conflict("the incident changed concurrently; report again")
    new = [s for s in found.signals if s not in incident.signals]
    incident.last_detected_at = now
    incident.severity = _stronger(incident.severity, found.severity)
    if new:
        incident.signals = [*incident.signals, *new]
        add_event(session, incident, "detected", found.summary, now, found.details)
    await session.flush()
    return incident, False


async def _open(
    session: AsyncSession, found: Report, fingerprint: str, now: datetime
) -> Incident | None:
    place = found.place
    incident = Incident(
        id=uuid.uuid4(),
        organization_id=place.organization_id,
        workspace_id=place.workspace_id,
        project_id=place.project_id,
        project=place.project,
        application=place.application,
        source=found.source,
        fingerprint=fingerprint,
        open_key=fingerprint,
        status="open",
        severity=found.severity,
        title=found.title[:300],
        summary=found.summary,
        signals=list(found.signals),
        opened_at=now,
        last_detected_at=now,
    )
    try:
        async with session.begin_nested():
            session.add(incident)
            await session.flush()
    except IntegrityError:
        return None
    add_event(session, incident, "detected", found.summary, now, found.details)
    await session.flush()
    return incident


def set_status(
    session: AsyncSession,
    incident: Incident,
    status: IncidentStatus,
    at: datetime,
    summary: str,
    data: dict[str, Any] | None = None,
) -> None:
    """Move the incident on; resolving frees its fingerprint for a future incident."""
    incident.status = status
    if status in CLOSED:
        incident.open_key = None
        incident.resolved_at = at
        incident.approval_id = None
        add_event(session, incident, "resolved", summary, at, data)
    elif status == "escalated":
        add_event(session, incident, "escalated", summary, at, data)


# --------------------------------------------------------------------------- reading


@dataclass(frozen=True)
class IncidentFilter:
    status: str | None = None  # one status, or "active" for everything not resolved
    workspace_id: uuid.UUID | None = None
    application: str | None = None
    limit: int = 50
    before: datetime | None = None
    before_id: uuid.UUID | None = None  # with ``before``: the last incident of the previous page


async def _resources(
    session: AsyncSession, org: Organization, incidents: list[Incident]
) -> dict[uuid.UUID, Resource]:
    """The RBAC resource of each incident (its project path when it has a project)."""
    workspaces = {
        w.id: w
        for w in await session.scalars(
            select(Workspace).where(Workspace.id.in_({i.workspace_id for i in incidents}))
        )
    }
    parents: dict[uuid.UUID, dict[uuid.UUID, uuid.UUID | None]] = {}
    out: dict[uuid.UUID, Resource] = {}
    for incident in incidents:
        workspace = workspaces.get(incident.workspace_id)
        if workspace is None:
            continue
        base = workspace_resource(org, workspace, kind="incident")
        path: tuple[uuid.UUID, ...] = ()
        if incident.project_id is not None:
            if workspace.id not in parents:
                parents[workspace.id] = await project_parents(session, workspace)
            path = path_of(incident.project_id, parents[workspace.id])
        out[incident.id] = Resource(
            kind="incident",
            organization_id=org.id,
            workspace_id=workspace.id,
            project_path=path,
            id=str(incident.id),
            organization_active=base.organization_active,
        )
    return out


async def list_incidents(
    session: AsyncSession, subject: Subject, org: Organization, filters: IncidentFilter
) -> list[Incident]:
    """Newest first, only those the subject may read."""
    query = select(Incident).where(Incident.organization_id == org.id)
    if filters.status == "active":
        query = query.where(Incident.status != "resolved")
    elif filters.status is not None:
        query = query.where(Incident.status == filters.status)
    if filters.workspace_id is not None:
        query = query.where(Incident.workspace_id == filters.workspace_id)
    if filters.application is not None:
        query = query.where(Incident.application == filters.application)
    if filters.before is not None and filters.before_id is not None:
        query = query.where(
            or_(
                Incident.opened_at < filters.before,
                and_(Incident.opened_at == filters.before, Incident.id < filters.before_id),
            )
        )
    elif filters.before is not None:
        query = query.where(Incident.opened_at < filters.before)
    query = query.order_by(Incident.opened_at.desc(), Incident.id.desc()).limit(filters.limit * 4)
    rows = list(await session.scalars(query))
    resources = await _resources(session, org, rows)
    visible = [
        i
        for i in rows
        if i.id in resources and authorize(subject, "incident.read", resources[i.id])
    ]
    return visible[: filters.limit]


async def get_incident(
    session: AsyncSession, subject: Subject, org: Organization, incident_id: uuid.UUID
) -> tuple[Incident, Resource]:
    incident = await session.get(Incident, incident_id)
    if incident is None or incident.organization_id != org.id:
        raise NotFound("incident not found")
    resource = (await _resources(session, org, [incident])).get(incident.id)
    if resource is None:
        raise NotFound("incident not found")
    require(subject, "incident.read", resource, read_action="incident.read")
    return incident, resource


async def timeline(session: AsyncSession, incident_id: uuid.UUID) -> list[IncidentEvent]:
    return list(
        await session.scalars(
            select(IncidentEvent)
            .where(IncidentEvent.incident_id == incident_id)
            .order_by(IncidentEvent.at, IncidentEvent.id)
        )
    )


async def actions_since(
    session: AsyncSession, organization_id: uuid.UUID, fingerprint: str, since: datetime
) -> list[datetime]:
    """When actions were applied to this place since ``since`` (for rate limits, cooldowns)."""
    rows = await session.scalars(
        select(IncidentEvent.at)
        .join(Incident, Incident.id == IncidentEvent.incident_id)
        .where(
            Incident.organization_id == organization_id,
            Incident.fingerprint == fingerprint,
            IncidentEvent.kind == "action_applied",
            IncidentEvent.at >= since,
        )
        .order_by(IncidentEvent.at)
    )
    return list(rows)


async def count_active(session: AsyncSession, organization_id: uuid.UUID) -> int:
    return int(
        await session.scalar(
            select(func.count())
            .select_from(Incident)
            .where(Incident.organization_id == organization_id, Incident.status != "resolved")
        )
        or 0
    )


async def project_of(session: AsyncSession, workspace_id: uuid.UUID, name: str) -> Project | None:
    return await session.scalar(
        select(Project).where(Project.workspace_id == workspace_id, Project.name == name)
    )
