"""Billing usage of the organization."""

from __future__ import annotations

from datetime import timedelta

from pydantic import Field

from platform_core.billing import service as billing
from platform_core.billing.schemas import METERS
from tools.base import ToolArgs, ToolContext, tool
from tools.results import ToolResult
from tools.targets import Target


class UsageArgs(ToolArgs):
    days: int = Field(default=30, ge=1, le=366, description="How many days back")


@tool(risk="read", permission="billing.read", scope="organization")
async def get_usage(ctx: ToolContext, args: UsageArgs, target: Target | None) -> ToolResult:
    """The organization's metered usage (LLM tokens, tool calls, workspace-hours, function
    invocations) over the last days, and this period's use against the plan's limits."""
    until = billing.today()
    since = until - timedelta(days=args.days - 1)
    async with ctx.db.session() as session:
        rows = await billing.usage_days(session, ctx.organization.id, since, until)
        subscription = await billing.subscription_of(session, ctx.organization.id)
        plan = await billing.plan_of(session, subscription)
        limits = {
            name: (await billing.period_usage(session, subscription, meters), getattr(plan, name))
            for name, meters in billing.PERIOD_METERS.items()
        }
        await session.commit()
    totals = dict.fromkeys(METERS, 0)
    for row in rows:
        totals[row.meter] += row.quantity  # type: ignore[index]
    lines = [f"- {meter}: {amount:,}" for meter, amount in totals.items()]
    lines += [
        f"- this period {name.replace('_', ' ')}: {used:,} of {limit:,}"
        if limit
        else f"- this period {name.replace('_', ' ')}: {used:,} (unlimited)"
        for name, (used, limit) in limits.items()
    ]
    return ToolResult.ok(
        f"usage of {ctx.organization.name} from {since} to {until} (plan {plan.name}):\n"
        + "\n".join(lines),
        {
            "totals": totals,
            "plan": plan.id,
            "limits": {k: {"used": u, "limit": lim} for k, (u, lim) in limits.items()},
        },
    )
