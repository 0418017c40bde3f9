"""What the incidents API returns."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from pydantic import BaseModel, ConfigDict, Field

from platform_core.incidents.models import Incident, IncidentEvent


class IncidentEventRead(BaseModel):
    at: datetime
    kind: str = Field(description="detected, finding, action_proposed, action_applied, ...")
    summary: str
    data: dict[str, Any]

    @classmethod
    def of(cls, event: IncidentEvent) -> IncidentEventRead:
        return cls(at=event.at, kind=event.kind, summary=event.summary, data=event.data or {})


class IncidentRead(BaseModel):
    id: str
    workspace_id: str
    workspace: str
    project: str | None
    application: str | None
    source: str = Field(description="detector or alertmanager")
    status: str = Field(
        description="open, remediating, awaiting_approval, verifying, escalated or resolved"
    )
    severity: str
    title: str
    summary: str
    signals: list[str]
    actions: int = Field(description="Fixes applied so far")
    approval_id: str | None = Field(description="The fix waiting for a person, if any")
    session_id: str | None = Field(description="The remediation agent's conversation")
    opened_at: datetime
    last_detected_at: datetime
    acted_at: datetime | None
    resolved_at: datetime | None

    @classmethod
    def of(cls, incident: Incident, workspace: str) -> IncidentRead:
        return cls(
            id=str(incident.id),
            workspace_id=str(incident.workspace_id),
            workspace=workspace,
            project=incident.project,
            application=incident.application,
            source=incident.source,
            status=incident.status,
            severity=incident.severity,
            title=incident.title,
            summary=incident.summary,
            signals=list(incident.signals),
            actions=incident.actions,
            approval_id=incident.approval_id,
            session_id=incident.session_id,
            opened_at=incident.opened_at,
            last_detected_at=incident.last_detected_at,
            acted_at=incident.acted_at,
            resolved_at=incident.resolved_at,
        )


class IncidentDetail(IncidentRead):
    timeline: list[IncidentEventRead]


class IncidentResolve(BaseModel):
    model_config = ConfigDict(extra="forbid")

    note: str = Field(min_length=1, max_length=2000, description="What was done, for the record")
