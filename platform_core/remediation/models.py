"""A workspace's remediation policy: what the remediation agent may do there on its own.

One row per workspace; no row means remediation is off there (detection and incidents still
happen, every fix waits for a person). ``service_key_id`` is the API key the remediation agent
acts as in that workspace: its rights are a workspace editor's, every action it takes is
audited under it, and revoking it stops remediation at once.
"""

from __future__ import annotations

import uuid
from datetime import datetime

from sqlalchemy import JSON, ForeignKey, String
from sqlalchemy.orm import Mapped, mapped_column

from platform_core.db.base import Base, utcnow


class RemediationPolicy(Base):
    __tablename__ = "remediation_policies"

    workspace_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("workspaces.id", ondelete="CASCADE"), primary_key=True
    )
    organization_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("organizations.id", ondelete="CASCADE"), index=True
    )
    enabled: Mapped[bool] = mapped_column(default=True)
    allowed_actions: Mapped[list[str]] = mapped_column(JSON, default=list)
    applications: Mapped[list[str]] = mapped_column(JSON, default=list)  # empty: every one
    min_replicas: Mapped[int] = mapped_column(default=1)
    max_replicas: Mapped[int] = mapped_column(default=10)
    max_cpu_limit: Mapped[str] = mapped_column(String(16), default="2")
    max_memory_limit: Mapped[str] = mapped_column(String(16), default="2Gi")
    max_actions_per_hour: Mapped[int] = mapped_column(default=3)
    cooldown_minutes: Mapped[int] = mapped_column(default=10)
    verify_minutes: Mapped[int] = mapped_column(default=5)
    escalate_after_minutes: Mapped[int] = mapped_column(default=30)
    service_key_id: Mapped[uuid.UUID | None] = mapped_column(
        ForeignKey("api_keys.id", ondelete="SET NULL"), default=None
    )
    updated_by_id: Mapped[uuid.UUID | None] = mapped_column(
        ForeignKey("users.id", ondelete="SET NULL"), default=None
    )
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)
