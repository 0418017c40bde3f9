"""Writing and reading the audit log."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Literal

from sqlalchemy import Select, select
from sqlalchemy.ext.asyncio import AsyncSession

from platform_core.audit.models import AuditRecord
from platform_core.context import CallContext
from platform_core.rbac.subject import Subject

Outcome = Literal["success", "denied", "failed", "error", "pending"]


def outcome_for_status(status_code: int) -> Outcome:
    if status_code < 400:
        return "success"
    if status_code in (401, 403, 404):
        return "denied"
    if status_code < 500:
        return "failed"
    return "error"


def _actor_fields(subject: Subject) -> dict[str, Any]:
    return {
        "actor_type": subject.kind,
        "actor_id": subject.id,
        "actor_user_id": subject.user_id,
    }


def record(
    session: AsyncSession,
    ctx: CallContext,
    *,
    action: str,
    organization_id: uuid.UUID | None,
    target_type: str | None = None,
    target_id: str | uuid.UUID | None = None,
    outcome: Outcome = "success",
    status_code: int | None = None,
    details: dict[str, Any] | None = None,
) -> AuditRecord:
    """Add an audit record to the session (it commits with the change it describes)."""
    entry = AuditRecord(
        organization_id=organization_id,
        action=action,
        target_type=target_type,
        target_id=str(target_id) if target_id is not None else None,
        outcome=outcome,
        status_code=status_code,
        request_id=ctx.request_id,
        client_ip=ctx.client_ip,
        details=details or {},
        **_actor_fields(ctx.subject),
    )
    session.add(entry)
    ctx.audited = True
    return entry


@dataclass(frozen=True)
class AuditFilter:
    actor_id: str | None = None
    action: str | None = None
    target_type: str | None = None
    target_id: str | None = None
    outcome: Outcome | None = None
    since: datetime | None = None
    until: datetime | None = None


def _filtered(organization_id: uuid.UUID, filters: AuditFilter) -> Select[AuditRecord]:
    query = select(AuditRecord).where(AuditRecord.organization_id == organization_id)
    if filters.actor_id:
        query = query.where(AuditRecord.actor_id == filters.actor_id)
    if filters.action:
        if filters.action.endswith(".*"):
            query = query.where(AuditRecord.action.startswith(filters.action[:-1]))
        else:
            query = query.where(AuditRecord.action == filters.action)
    if filters.target_type:
        query = query.where(AuditRecord.target_type == filters.target_type)
    if filters.target_id:
        query = query.where(AuditRecord.target_id == filters.target_id)
    if filters.outcome:
        query = query.where(AuditRecord.outcome == filters.outcome)
    if filters.since:
        query = query.where(AuditRecord.occurred_at >= filters.since)
    if filters.until:
        query = query.where(AuditRecord.occurred_at < filters.until)
    return query


async def list_records(
    session: AsyncSession,
    organization_id: uuid.UUID,
    filters: AuditFilter,
    *,
    limit: int,
    before_id: int | None = None,
) -> tuple[list[AuditRecord], int | None]:
    """Newest first; returns the page and the cursor for the next (older) page."""
    query = _filtered(organization_id, filters)
    if before_id is not None:
        query = query.where(AuditRecord.id < before_id)
    rows = list(await session.scalars(query.order_by(AuditRecord.id.desc()).limit(limit + 1)))
    next_cursor = rows[limit - 1].id if len(rows) > limit else None
    return rows[:limit], next_cursor
