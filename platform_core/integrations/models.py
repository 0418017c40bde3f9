"""An explicit link from a chat-platform account to a platform user in one organization.

Links are made by a flow the platform user starts while signed in (a one-time code), never by
matching display names or emails: whoever controls a Slack account gets only the rights of the
platform user who linked it.
"""

from __future__ import annotations

import uuid
from datetime import datetime

from sqlalchemy import ForeignKey, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from platform_core.db.base import Base, UUIDPrimaryKey, utcnow


class ChatLink(UUIDPrimaryKey, Base):
    __tablename__ = "chat_links"
    __table_args__ = (UniqueConstraint("provider", "team_id", "external_user_id"),)

    provider: Mapped[str] = mapped_column(String(16))  # "slack"
    team_id: Mapped[str] = mapped_column(String(64))
    external_user_id: Mapped[str] = mapped_column(String(64))
    user_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("users.id", ondelete="CASCADE"), index=True
    )
    organization_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("organizations.id", ondelete="CASCADE"), index=True
    )
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
