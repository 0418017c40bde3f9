"""Billing read models and the closed set of meters."""

from __future__ import annotations

import uuid
from datetime import date, datetime
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

Meter = Literal[
    "llm_tokens_in", "llm_tokens_out", "tool_calls", "workspace_hours", "function_invocations"
]
METERS: tuple[Meter, ...] = (
    "llm_tokens_in",
    "llm_tokens_out",
    "tool_calls",
    "workspace_hours",
    "function_invocations",
)
SubscriptionStatus = Literal["active", "past_due", "canceled"]


class BillingSchema(BaseModel):
    model_config = ConfigDict(from_attributes=True)


class PlanRead(BillingSchema):
    id: str
    name: str
    price_cents_per_month: int
    max_workspaces: int | None = Field(description="None means unlimited")
    max_projects: int | None
    llm_tokens_per_month: int | None
    function_invocations_per_month: int | None
    allows_dedicated: bool


class SubscriptionRead(BillingSchema):
    id: uuid.UUID
    organization_id: uuid.UUID
    plan: PlanRead
    status: SubscriptionStatus
    current_period_start: datetime
    current_period_end: datetime
    cancel_at_period_end: bool


class UsageDay(BillingSchema):
    day: date
    meter: Meter
    quantity: int


class LimitUse(BillingSchema):
    used: int
    limit: int | None


class UsageReport(BillingSchema):
    organization_id: uuid.UUID
    since: date
    until: date
    days: list[UsageDay]
    totals: dict[str, int]
    period_start: datetime
    period_end: datetime
    limits: dict[str, LimitUse] = Field(
        description="This billing period's use against the plan's limits"
    )
