"""``/api/v1/organizations/{org}/incidents``: what broke, what was done, and how it ended."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Annotated, Literal

from fastapi import APIRouter, Query
from sqlalchemy import select

from aiops.http.deps import Caller, DbSession, Org, State
from aiops.incidents.schemas import (
    IncidentDetail,
    IncidentEventRead,
    IncidentRead,
    IncidentResolve,
)
from platform_core.audit.service import record
from platform_core.errors import Conflict
from platform_core.incidents import service
from platform_core.rbac.authorize import require
from platform_core.tenancy.models import Workspace
from platform_core.tenancy.repository import find_workspace

router = APIRouter(prefix="/api/v1/organizations/{org}/incidents", tags=["incidents"])
StatusFilter = Literal[
    "active", "open", "remediating", "awaiting_approval", "verifying", "escalated", "resolved"
]


async def _names(session: DbSession, ids: set[uuid.UUID]) -> dict[uuid.UUID, str]:
    rows = await session.execute(select(Workspace.id, Workspace.name).where(Workspace.id.in_(ids)))
    return {row.id: row.name for row in rows}


@router.get("", name="incident.list", operation_id="listIncidents")
async def list_incidents(
    org: Org,
    ctx: Caller,
    session: DbSession,
    status: Annotated[StatusFilter | None, Query(description="'active': not resolved")] = None,
    workspace: Annotated[str | None, Query(max_length=63, description="Id or name")] = None,
    application: Annotated[str | None, Query(max_length=63)] = None,
    before: Annotated[
        datetime | None, Query(description="Paging: opened_at of the last incident seen")
    ] = None,
    before_id: Annotated[
        uuid.UUID | None, Query(description="Paging: with before, the last incident's id")
    ] = None,
    limit: Annotated[int, Query(ge=1, le=200)] = 50,
) -> list[IncidentRead]:
    """Incidents you may see, newest first."""
    workspace_id = None
    if workspace is not None:
        found = await find_workspace(session, org, workspace)
        if found is None:
            return []
        workspace_id = found.id
    filters = service.IncidentFilter(
        status=status,
        workspace_id=workspace_id,
        application=application,
        before=before,
        before_id=before_id,
        limit=limit,
    )
    rows = await service.list_incidents(session, ctx.subject, org, filters)
    names = await _names(session, {r.workspace_id for r in rows})
    return [IncidentRead.of(r, names.get(r.workspace_id, "")) for r in rows]


@router.get("/{incident_id}", name="incident.get", operation_id="getIncident")
async def get_incident(
    org: Org, incident_id: uuid.UUID, ctx: Caller, session: DbSession
) -> IncidentDetail:
    """One incident with its timeline: detections, findings, actions, approvals, verification
    and notifications, oldest first."""
    incident, _ = await service.get_incident(session, ctx.subject, org, incident_id)
    names = await _names(session, {incident.workspace_id})
    events = await service.timeline(session, incident.id)
    read = IncidentRead.of(incident, names.get(incident.workspace_id, ""))
    return IncidentDetail(**read.model_dump(), timeline=[IncidentEventRead.of(e) for e in events])


@router.post("/{incident_id}/resolve", name="incident.resolve", operation_id="resolveIncident")
async def resolve_incident(
    org: Org,
    incident_id: uuid.UUID,
    body: IncidentResolve,
    ctx: Caller,
    session: DbSession,
    state: State,
) -> IncidentDetail:
    """Close an incident by hand (someone fixed it). Its application's next problem opens a new
    incident."""
    incident, resource = await service.get_incident(session, ctx.subject, org, incident_id)
    require(ctx.subject, "incident.update", resource, read_action="incident.read")
    if incident.status == "resolved":
        raise Conflict("the incident is already resolved")
    now = await state.cluster.now()
    service.set_status(
        session, incident, "resolved", now, f"resolved by {ctx.subject.display}: {body.note}"
    )
    record(
        session,
        ctx,
        action="incident.resolve",
        organization_id=org.id,
        target_type="incident",
        target_id=incident.id,
        details={"note": body.note},
    )
    await session.flush()
    return await get_incident(org, incident_id, ctx, session)
