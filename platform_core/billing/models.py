"""Billing tables: plans, one subscription per organization, daily usage per meter."""

from __future__ import annotations

import uuid
from datetime import date, datetime

from sqlalchemy import BigInteger, ForeignKey, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from platform_core.db.base import Base, BigIntPK, TimestampMixin, UUIDPrimaryKey


class Plan(Base):
    """A plan's limits; ``None`` means unlimited."""

    __tablename__ = "plans"

    id: Mapped[str] = mapped_column(String(32), primary_key=True)
    name: Mapped[str] = mapped_column(String(100))
    price_cents_per_month: Mapped[int] = mapped_column(default=0)
    max_workspaces: Mapped[int | None] = mapped_column(default=None)
    max_projects: Mapped[int | None] = mapped_column(default=None)
    llm_tokens_per_month: Mapped[int | None] = mapped_column(BigInteger, default=None)
    function_invocations_per_month: Mapped[int | None] = mapped_column(BigInteger, default=None)
    allows_dedicated: Mapped[bool] = mapped_column(default=False)
    stripe_price_id: Mapped[str | None] = mapped_column(String(100), default=None)


class Subscription(UUIDPrimaryKey, TimestampMixin, Base):
    """The organization's plan; the Stripe ids stay empty until Stripe is connected."""

    __tablename__ = "subscriptions"

    organization_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("organizations.id", ondelete="CASCADE"), unique=True
    )
    plan_id: Mapped[str] = mapped_column(ForeignKey("plans.id"))
    status: Mapped[str] = mapped_column(String(16), default="active")
    current_period_start: Mapped[datetime]
    current_period_end: Mapped[datetime]
    cancel_at_period_end: Mapped[bool] = mapped_column(default=False)
    stripe_customer_id: Mapped[str | None] = mapped_column(String(100), default=None)
    stripe_subscription_id: Mapped[str | None] = mapped_column(String(100), default=None)


class UsageRecord(Base):
    """Usage of one meter by one organization on one UTC day."""

    __tablename__ = "usage_records"
    __table_args__ = (UniqueConstraint("organization_id", "day", "meter"),)

    id: Mapped[int] = mapped_column(BigIntPK, primary_key=True, autoincrement=True)
    organization_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("organizations.id", ondelete="CASCADE"), index=True
    )
    day: Mapped[date]
    meter: Mapped[str] = mapped_column(String(32))
    quantity: Mapped[int] = mapped_column(BigInteger, default=0)
