"""Billing usage of the organization."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import timedelta

from pydantic import Field

from platform_core.billing import service as billing
from platform_core.billing.schemas import METERS
from tools.base import ToolArgs, ToolContext, tool
from tools.results import ToolResult
from tools.targets import Target

# How each meter reads in an answer: words rather than identifiers (and "LLM tokens in: 182,000"
# is plainly a count, which nobody - nor the redaction - mistakes for a secret).
METER_LABELS: dict[str, str] = {
    "llm_tokens_in": "LLM tokens in",
    "llm_tokens_out": "LLM tokens out",
    "tool_calls": "tool calls",
    "workspace_hours": "workspace-hours",
    "function_invocations": "function invocations",
}


def usage_lines(
    totals: Mapping[str, int], limits: Mapping[str, tuple[int, int | None]]
) -> list[str]:
    """One line per meter, then this period's use of each plan limit (with the LLM total)."""
    lines = [f"- {METER_LABELS.get(meter, meter)}: {amount:,}" for meter, amount in totals.items()]
    tokens = totals.get("llm_tokens_in", 0) + totals.get("llm_tokens_out", 0)
    lines.append(f"- LLM tokens (in + out): {tokens:,}")
    for name, (used, limit) in limits.items():
        label = name.replace("_", " ").replace("llm", "LLM")
        lines.append(
            f"- this period {label}: {used:,} of {limit:,}"
            if limit
            else f"- this period {label}: {used:,} (unlimited)"
        )
    return lines


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
    totals: dict[str, int] = dict.fromkeys(METERS, 0)
    for row in rows:
        totals[row.meter] += row.quantity
    return ToolResult.ok(
        f"usage of {ctx.organization.name} from {since} to {until} (plan {plan.name}):\n"
        + "\n".join(usage_lines(totals, limits)),
        {
            "totals": totals,
            "plan": plan.id,
            "limits": {k: {"used": u, "limit": lim} for k, (u, lim) in limits.items()},
        },
    )
