"""Incidents and their timelines.

An incident is one problem of one place (an application, or a whole project for an alert that
names no application), found by a detector or reported by Alertmanager. ``fingerprint`` says
which problem it is; while the incident is not closed ``open_key`` holds the fingerprint, and a
unique constraint on it means a second detection of the same problem updates the open incident
instead of opening another (NULLs never collide, so closed incidents keep their history).
"""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

from sqlalchemy import JSON, ForeignKey, Index, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from platform_core.db.base import Base, BigIntPK, UUIDPrimaryKey, utcnow


class Incident(UUIDPrimaryKey, Base):
    __tablename__ = "incidents"
    __table_args__ = (
        UniqueConstraint("organization_id", "open_key"),
        Index("ix_incidents_org_opened", "organization_id", "opened_at"),
    )

    organization_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("organizations.id", ondelete="CASCADE")
    )
    workspace_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("workspaces.id", ondelete="CASCADE"), index=True
    )
    project_id: Mapped[uuid.UUID | None] = mapped_column(
        ForeignKey("projects.id", ondelete="CASCADE"), default=None
    )
    project: Mapped[str | None] = mapped_column(String(63), default=None)
    application: Mapped[str | None] = mapped_column(String(63), default=None)
    source: Mapped[str] = mapped_column(String(16))  # detector | alertmanager
    fingerprint: Mapped[str] = mapped_column(String(200))
    open_key: Mapped[str | None] = mapped_column(String(200), default=None)
    status: Mapped[str] = mapped_column(String(20))
    severity: Mapped[str] = mapped_column(String(10))
    title: Mapped[str] = mapped_column(String(300))
    summary: Mapped[str] = mapped_column(Text, default="")
    signals: Mapped[list[str]] = mapped_column(JSON, default=list)
    session_id: Mapped[str | None] = mapped_column(String(64), default=None)
    approval_id: Mapped[str | None] = mapped_column(String(64), default=None)
    actions: Mapped[int] = mapped_column(default=0)
    opened_at: Mapped[datetime] = mapped_column(default=utcnow)
    last_detected_at: Mapped[datetime] = mapped_column(default=utcnow)
    acted_at: Mapped[datetime | None] = mapped_column(default=None)
    resolved_at: Mapped[datetime | None] = mapped_column(default=None)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)


class IncidentEvent(Base):
    """One entry of an incident's timeline (detections, findings, actions, approvals, ...)."""

    __tablename__ = "incident_events"

    id: Mapped[int] = mapped_column(BigIntPK, primary_key=True, autoincrement=True)
    incident_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("incidents.id", ondelete="CASCADE"), index=True
    )
    at: Mapped[datetime] = mapped_column(default=utcnow)
    kind: Mapped[str] = mapped_column(String(32))
    summary: Mapped[str] = mapped_column(Text)
    data: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
