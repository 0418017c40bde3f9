"""Subscriptions, the metering API and plan limits.

Every later capability that consumes something billable (LLM tokens, tool calls, function
invocations, workspace-hours) calls ``record_usage``; anything that would exceed the plan calls a
``ensure_*`` check first, which refuses with a 402 ``plan_limit_exceeded``.
"""

from __future__ import annotations

import uuid
from datetime import UTC, date, datetime, timedelta

from sqlalchemy import func, select
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.ext.asyncio import AsyncSession

from platform_core.billing.models import Plan, Subscription, UsageRecord
from platform_core.billing.schemas import Meter
from platform_core.db.base import utcnow
from platform_core.errors import NotFound, PlanLimitExceeded
from platform_core.tenancy.models import Project, Workspace

DEFAULT_PLAN = "free"
PERIOD_METERS: dict[str, tuple[Meter, ...]] = {
    "llm_tokens_per_month": ("llm_tokens_in", "llm_tokens_out"),
    "function_invocations_per_month": ("function_invocations",),
}


def month_bounds(moment: datetime) -> tuple[datetime, datetime]:
    start = moment.astimezone(UTC).replace(day=1, hour=0, minute=0, second=0, microsecond=0)
    end = (start + timedelta(days=32)).replace(day=1)
    return start, end


async def create_subscription(
    session: AsyncSession, organization_id: uuid.UUID, plan_id: str = DEFAULT_PLAN
) -> Subscription:
    plan = await session.get(Plan, plan_id)
    if plan is None:
        raise NotFound(f"plan {plan_id!r} not found")
    start, end = month_bounds(utcnow())
    subscription = Subscription(
        organization_id=organization_id,
        plan_id=plan_id,
        current_period_start=start,
        current_period_end=end,
    )
    session.add(subscription)
    await session.flush()
    return subscription


async def subscription_of(session: AsyncSession, organization_id: uuid.UUID) -> Subscription:
    """The organization's subscription, rolled into the current calendar period if due."""
    subscription = await session.scalar(
        select(Subscription).where(Subscription.organization_id == organization_id)
    )
    if subscription is None:
        subscription = await create_subscription(session, organization_id)
    now = utcnow()
    if subscription.current_period_end <= now and subscription.stripe_subscription_id is None:
        start, end = month_bounds(now)
        subscription.current_period_start, subscription.current_period_end = start, end
        if subscription.cancel_at_period_end:
            subscription.status = "canceled"
        await session.flush()
    return subscription


async def plan_of(session: AsyncSession, subscription: Subscription) -> Plan:
    plan = await session.get(Plan, subscription.plan_id)
    if plan is None:  # pragma: no cover - guarded by the foreign key
        raise NotFound("plan not found")
    return plan


async def list_plans(session: AsyncSession) -> list[Plan]:
    """Plans from the smallest to the unlimited one."""
    tiers = (Plan.max_workspaces.is_(None), Plan.max_workspaces, Plan.id)
    return list(await session.scalars(select(Plan).order_by(*tiers)))


async def _active_subscription(
    session: AsyncSession, organization_id: uuid.UUID
) -> tuple[Subscription, Plan]:
    subscription = await subscription_of(session, organization_id)
    if subscription.status != "active":
        raise PlanLimitExceeded(
            f"the organization's subscription is {subscription.status}; "
            "settle billing before creating more resources",
            details={"subscription_status": subscription.status},
        )
    return subscription, await plan_of(session, subscription)


async def _active_plan(session: AsyncSession, organization_id: uuid.UUID) -> Plan:
    return (await _active_subscription(session, organization_id))[1]


async def ensure_can_create_workspace(
    session: AsyncSession, organization_id: uuid.UUID, *, dedicated: bool
) -> None:
    plan = await _active_plan(session, organization_id)
    if dedicated and not plan.allows_dedicated:
        raise PlanLimitExceeded(
            f"the {plan.name} plan does not include dedicated workspaces",
            details={"plan": plan.id},
        )
    if plan.max_workspaces is None:
        return
    count = await session.scalar(
        select(func.count())
        .select_from(Workspace)
        .where(Workspace.organization_id == organization_id, Workspace.status != "terminated")
    )
    if (count or 0) >= plan.max_workspaces:
        raise PlanLimitExceeded(
            f"the {plan.name} plan allows {plan.max_workspaces} workspace(s); "
            "delete one or upgrade the plan",
            details={"plan": plan.id, "limit": plan.max_workspaces, "used": count},
        )


async def ensure_can_create_project(session: AsyncSession, organization_id: uuid.UUID) -> None:
    plan = await _active_plan(session, organization_id)
    if plan.max_projects is None:
        return
    count = await session.scalar(
        select(func.count())
        .select_from(Project)
        .join(Workspace, Workspace.id == Project.workspace_id)
        .where(Project.organization_id == organization_id, Workspace.status != "terminated")
    )
    if (count or 0) >= plan.max_projects:
        raise PlanLimitExceeded(
            f"the {plan.name} plan allows {plan.max_projects} project(s); "
            "delete one or upgrade the plan",
            details={"plan": plan.id, "limit": plan.max_projects, "used": count},
        )


async def ensure_within_quota(
    session: AsyncSession, organization_id: uuid.UUID, limit_name: str, requested: int = 1
) -> None:
    """Refuse if ``requested`` more units would exceed a per-period limit of the plan."""
    subscription, plan = await _active_subscription(session, organization_id)
    limit: int | None = getattr(plan, limit_name)
    if limit is None:
        return
    used = await period_usage(session, subscription, PERIOD_METERS[limit_name])
    if used + requested > limit:
        raise PlanLimitExceeded(
            f"this would exceed the {plan.name} plan's {limit_name.replace('_', ' ')} "
            f"({used} of {limit} used this period)",
            details={"plan": plan.id, "limit": limit, "used": used},
        )


async def record_usage(
    session: AsyncSession,
    organization_id: uuid.UUID,
    meter: Meter,
    quantity: int,
    *,
    at: datetime | None = None,
) -> None:
    """Add ``quantity`` to the organization's meter for the day of ``at`` (default: now)."""
    if quantity < 0:
        raise ValueError("usage quantity cannot be negative")
    if quantity == 0:
        return
    day = (at or utcnow()).astimezone(UTC).date()
    values = {"organization_id": organization_id, "day": day, "meter": meter, "quantity": quantity}
    dialect = session.get_bind().dialect.name
    insert = postgresql.insert if dialect == "postgresql" else sqlite.insert
    statement = insert(UsageRecord).values(**values)
    statement = statement.on_conflict_do_update(
        index_elements=["organization_id", "day", "meter"],
        set_={"quantity": UsageRecord.quantity + statement.excluded.quantity},
    )
    await session.execute(statement)


async def record_usages(
    session: AsyncSession,
    organization_id: uuid.UUID,
    quantities: dict[Meter, int],
    *,
    at: datetime | None = None,
) -> None:
    """Add several meters at once: what a finished agent turn consumed."""
    if any(quantity < 0 for quantity in quantities.values()):
        raise ValueError("usage quantity cannot be negative")
    day = (at or utcnow()).astimezone(UTC).date()
    rows = [
        {"organization_id": organization_id, "day": day, "meter": meter, "quantity": quantity}
        for meter, quantity in quantities.items()
        if quantity > 0
    ]
    if not rows:
        return
    dialect = session.get_bind().dialect.name
    insert = postgresql.insert if dialect == "postgresql" else sqlite.insert
    statement = insert(UsageRecord)
    statement = statement.on_conflict_do_update(
        index_elements=["organization_id", "day", "meter"],
        set_={"quantity": UsageRecord.quantity + statement.excluded.quantity},
    )
    # the rows as parameters (not baked into the statement) keep its compiled form cached
    await session.execute(statement, rows)


async def usage_days(
    session: AsyncSession, organization_id: uuid.UUID, since: date, until: date
) -> list[UsageRecord]:
    rows = await session.scalars(
        select(UsageRecord)
        .where(
            UsageRecord.organization_id == organization_id,
            UsageRecord.day >= since,
            UsageRecord.day <= until,
        )
        .order_by(UsageRecord.day, UsageRecord.meter)
    )
    return list(rows)


async def period_usage(
    session: AsyncSession, subscription: Subscription, meters: tuple[Meter, ...]
) -> int:
    total = await session.scalar(
        select(func.coalesce(func.sum(UsageRecord.quantity), 0)).where(
            UsageRecord.organization_id == subscription.organization_id,
            UsageRecord.meter.in_(meters),
            UsageRecord.day >= subscription.current_period_start.date(),
            UsageRecord.day < subscription.current_period_end.date(),
        )
    )
    return int(total or 0)


def today() -> date:
    return utcnow().date()
