"""``/api/v1/organizations/{org}/audit-log``: the organization's audit trail."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Annotated, Any

from fastapi import APIRouter, Query
from pydantic import BaseModel, ConfigDict

from aiops.http.deps import Caller, DbSession, Org
from platform_core.audit.service import AuditFilter, Outcome, list_records
from platform_core.rbac.authorize import require
from platform_core.tenancy.repository import org_resource

router = APIRouter(prefix="/api/v1/organizations/{org}/audit-log", tags=["audit"])


class AuditRecordRead(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: int
    occurred_at: datetime
    actor_type: str
    actor_id: str | None
    actor_user_id: uuid.UUID | None
    action: str
    target_type: str | None
    target_id: str | None
    outcome: Outcome
    status_code: int | None
    request_id: str | None
    client_ip: str | None
    details: dict[str, Any]


class AuditPage(BaseModel):
    items: list[AuditRecordRead]
    next_cursor: int | None


@router.get("", name="audit.list", operation_id="listAuditRecords")
async def list_audit_records(
    org: Org,
    ctx: Caller,
    session: DbSession,
    actor_id: Annotated[str | None, Query(max_length=64)] = None,
    action: Annotated[
        str | None, Query(max_length=64, description="Exact action, or a prefix like 'workspace.*'")
    ] = None,
    target_type: Annotated[str | None, Query(max_length=32)] = None,
    target_id: Annotated[str | None, Query(max_length=128)] = None,
    outcome: Outcome | None = None,
    since: datetime | None = None,
    until: datetime | None = None,
    limit: Annotated[int, Query(ge=1, le=500)] = 50,
    cursor: Annotated[
        int | None, Query(ge=1, description="next_cursor of the previous page")
    ] = None,
) -> AuditPage:
    """Audit records, newest first, filtered and paginated by cursor."""
    require(ctx.subject, "audit.read", org_resource(org, "audit"), read_action="organization.read")
    filters = AuditFilter(
        actor_id=actor_id,
        action=action,
        target_type=target_type,
        target_id=target_id,
        outcome=outcome,
        since=since,
        until=until,
    )
    rows, next_cursor = await list_records(session, org.id, filters, limit=limit, before_id=cursor)
    return AuditPage(
        items=[AuditRecordRead.model_validate(row) for row in rows], next_cursor=next_cursor
    )
