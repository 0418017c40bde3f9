"""Telling people about an incident: every channel of the organization that wants the event.

Each delivery is recorded on the incident's timeline (``notified``, with the channel and, on
failure, why) and on the channel (last delivery, last error), so a broken webhook is visible
where people look. A delivery failure never fails the monitoring run that caused it.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import datetime

from pydantic import ValidationError
from sqlalchemy.ext.asyncio import AsyncSession

from aiops.notifications.channels import Channel, parse_channel
from aiops.notifications.delivery import Notifier
from aiops.notifications.messages import Links, Notification
from platform_core.auth.secrets import SecretBox
from platform_core.incidents import service as incidents
from platform_core.incidents.models import Incident
from platform_core.notifications import service as channels
from platform_core.notifications.models import NotificationChannel
from platform_core.tenancy.models import Organization, Workspace

logger = logging.getLogger(__name__)
MAX_DETAILS = 8


def incident_url(base_url: str, incident: Incident) -> str:
    return f"{base_url.rstrip('/')}/ui/#/incidents/{incident.id}"


@dataclass
class Announcer:
    """The workflow's ``announce``: builds the notification and delivers it."""

    notifier: Notifier
    box: SecretBox
    base_url: str

    async def __call__(
        self,
        session: AsyncSession,
        incident: Incident,
        event: str,
        summary: str,
        details: list[str],
        at: datetime,
    ) -> None:
        targets = await channels.channels_for(
            session, incident.organization_id, incident.workspace_id, event
        )
        if not targets:
            return
        note = await self._notification(session, incident, event, summary, details, at)
        usable: list[tuple[NotificationChannel, Channel]] = []
        for row in targets:
            parsed = self._parse(row)
            if parsed is None:
                channels.note_delivery(row, at, "the stored settings are unreadable or invalid")
                continue
            usable.append((row, parsed))
        results = await self.notifier.send_all([c for _, c in usable], note)
        for (row, _), result in zip(usable, results, strict=True):
            channels.note_delivery(row, at, None if result.ok else result.error)
            text = (
                f"{event} sent to {row.name} ({row.kind})"
                if result.ok
                else f"{event} to {row.name} ({row.kind}) failed: {result.error}"
            )
            incidents.add_event(
                session, incident, "notified", text, at, {"channel_id": str(row.id)}
            )

    def _parse(self, row: NotificationChannel) -> Channel | None:
        plain = channels.open_settings(self.box, row)
        if plain is None:
            return None
        try:
            return parse_channel(plain)
        except ValidationError:
            logger.warning("notification channel %s has invalid settings", row.id)
            return None

    async def _notification(
        self,
        session: AsyncSession,
        incident: Incident,
        event: str,
        summary: str,
        details: list[str],
        at: datetime,
    ) -> Notification:
        org = await session.get(Organization, incident.organization_id)
        workspace = await session.get(Workspace, incident.workspace_id)
        approval = incident.approval_id if event == "approval_requested" else None
        url = incident_url(self.base_url, incident)
        return Notification(
            event=event,
            organization=org.name if org else str(incident.organization_id),
            workspace=workspace.name if workspace else str(incident.workspace_id),
            project=incident.project,
            application=incident.application,
            incident_id=str(incident.id),
            title=incident.title,
            severity=incident.severity,
            summary=summary,
            details=tuple(d for d in details if d)[:MAX_DETAILS],
            occurred_at=at,
            links=Links(
                incident_url=url,
                approval_id=approval,
                approval_url=f"{url}?approval={approval}" if approval else None,
            ),
        )
