"""What a notification says, independent of where it goes.

A ``Notification`` is built by the code that knows about the incident (remediation agents,
alert investigations) and rendered per channel by ``aiops.notifications.rendering``. It is
lenient about size on purpose: application names, findings and log excerpts are untrusted and
may be long, and building a notification must not fail because of them. Each renderer escapes
and caps what it shows.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Literal, Self, get_args

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from aiops.notifications.urls import HttpUrlStr

EventKind = Literal[
    "incident_opened",
    "incident_updated",
    "action_taken",
    "approval_requested",
    "incident_resolved",
    "incident_escalated",
    "investigation_finding",
]
Severity = Literal["info", "warning", "critical"]

EVENTS: tuple[EventKind, ...] = get_args(EventKind)

EVENT_LABELS: dict[EventKind, str] = {
    "incident_opened": "Incident opened",
    "incident_updated": "Incident updated",
    "action_taken": "Action taken",
    "approval_requested": "Approval requested",
    "incident_resolved": "Incident resolved",
    "incident_escalated": "Incident escalated",
    "investigation_finding": "Investigation finding",
}


class Links(BaseModel):
    """Where a person goes next: the incident, and for an approval, where to decide."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    incident_url: HttpUrlStr | None = None
    approval_id: str | None = Field(default=None, min_length=1, max_length=200)
    approval_url: HttpUrlStr | None = None


class Notification(BaseModel):
    """One event about one incident.

    ``details`` are lines such as a detection (``latency_p95 observed 1812 ms, expected
    90-160 ms since 10:42``), an action taken or a finding. ``occurred_at`` without a time zone
    is taken as UTC. An ``approval_requested`` notification must name the approval.
    """

    model_config = ConfigDict(frozen=True, extra="forbid")

    event: EventKind
    organization: str = Field(min_length=1)
    workspace: str = Field(min_length=1)
    project: str | None = None
    application: str | None = None
    incident_id: str = Field(min_length=1)
    title: str = Field(min_length=1)
    severity: Severity
    summary: str = ""
    details: tuple[str, ...] = ()
    occurred_at: datetime
    links: Links = Links()

    @field_validator("occurred_at")
    @classmethod
    def _aware(cls, value: datetime) -> datetime:
        return value.replace(tzinfo=UTC) if value.tzinfo is None else value

    @model_validator(mode="after")
    def _approval_is_named(self) -> Self:
        if self.event == "approval_requested" and not self.links.approval_id:
            raise ValueError("an approval_requested notification needs links.approval_id")
        return self

    @property
    def event_label(self) -> str:
        return EVENT_LABELS[self.event]


__all__ = ["EVENTS", "EVENT_LABELS", "EventKind", "Links", "Notification", "Severity"]
