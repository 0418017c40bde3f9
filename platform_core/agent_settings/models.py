"""The organization's agent settings (absent row: the service's defaults apply)."""

from __future__ import annotations

import uuid
from datetime import datetime

from sqlalchemy import ForeignKey, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from platform_core.db.base import Base, utcnow


class AgentSettings(Base):
    __tablename__ = "agent_settings"

    organization_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("organizations.id", ondelete="CASCADE"), primary_key=True
    )
    provider: Mapped[str | None] = mapped_column(String(16), default=None)
    model: Mapped[str | None] = mapped_column(String(200), default=None)
    base_url: Mapped[str | None] = mapped_column(String(500), default=None)
    api_key_encrypted: Mapped[str | None] = mapped_column(Text, default=None)
    read_only: Mapped[bool] = mapped_column(default=False)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)
