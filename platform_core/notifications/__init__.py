"""Notification channels: where an organization hears about incidents."""
