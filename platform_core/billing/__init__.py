"""Billing and metering: plans, subscriptions, usage records and plan limits."""
