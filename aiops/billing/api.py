"""Billing: the plan catalogue, and an organization's plan, subscription and usage."""

from __future__ import annotations

from datetime import date, timedelta
from typing import Annotated

from fastapi import APIRouter, Query

from aiops.http.deps import Caller, DbSession, Org
from platform_core.billing import service
from platform_core.billing.schemas import (
    METERS,
    LimitUse,
    PlanRead,
    SubscriptionRead,
    UsageDay,
    UsageReport,
)
from platform_core.errors import InvalidInput
from platform_core.rbac.authorize import require
from platform_core.tenancy.repository import org_resource

router = APIRouter(prefix="/api/v1", tags=["billing"])
MAX_USAGE_DAYS = 400


def _require_read(ctx: Caller, org: Org) -> None:
    require(
        ctx.subject, "billing.read", org_resource(org, "billing"), read_action="organization.read"
    )


@router.get("/billing/plans", name="billing.plans", operation_id="listPlans")
async def list_plans(ctx: Caller, session: DbSession) -> list[PlanRead]:
    """Every plan on offer, with its limits."""
    return [PlanRead.model_validate(plan) for plan in await service.list_plans(session)]


@router.get(
    "/organizations/{org}/billing/plan", name="billing.plan", operation_id="getOrganizationPlan"
)
async def get_plan(org: Org, ctx: Caller, session: DbSession) -> PlanRead:
    _require_read(ctx, org)
    subscription = await service.subscription_of(session, org.id)
    return PlanRead.model_validate(await service.plan_of(session, subscription))


@router.get(
    "/organizations/{org}/billing/subscription",
    name="billing.subscription",
    operation_id="getSubscription",
)
async def get_subscription(org: Org, ctx: Caller, session: DbSession) -> SubscriptionRead:
    _require_read(ctx, org)
    subscription = await service.subscription_of(session, org.id)
    plan = await service.plan_of(session, subscription)
    return SubscriptionRead(
        id=subscription.id,
        organization_id=org.id,
        plan=PlanRead.model_validate(plan),
        status=subscription.status,
        current_period_start=subscription.current_period_start,
        current_period_end=subscription.current_period_end,
        cancel_at_period_end=subscription.cancel_at_period_end,
    )


@router.get("/organizations/{org}/billing/usage", name="billing.usage", operation_id="getUsage")
async def get_usage(
    org: Org,
    ctx: Caller,
    session: DbSession,
    since: Annotated[date | None, Query(description="First day (UTC), default 30 days ago")] = None,
    until: Annotated[date | None, Query(description="Last day (UTC), default today")] = None,
) -> UsageReport:
    """Daily usage per meter, totals, and this period's use against the plan's limits."""
    _require_read(ctx, org)
    until = until or service.today()
    since = since or until - timedelta(days=29)
    if since > until:
        raise InvalidInput("'since' must not be after 'until'", details={"field": "since"})
    if (until - since).days > MAX_USAGE_DAYS:
        raise InvalidInput(f"ask for at most {MAX_USAGE_DAYS} days", details={"field": "since"})
    rows = await service.usage_days(session, org.id, since, until)
    totals: dict[str, int] = dict.fromkeys(METERS, 0)
    for row in rows:
        totals[row.meter] = totals.get(row.meter, 0) + row.quantity
    subscription = await service.subscription_of(session, org.id)
    plan = await service.plan_of(session, subscription)
    limits = {
        name: LimitUse(
            used=await service.period_usage(session, subscription, meters),
            limit=getattr(plan, name),
        )
        for name, meters in service.PERIOD_METERS.items()
    }
    return UsageReport(
        organization_id=org.id,
        since=since,
        until=until,
        days=[UsageDay.model_validate(row) for row in rows],
        totals=totals,
        period_start=subscription.current_period_start,
        period_end=subscription.current_period_end,
        limits=limits,
    )
