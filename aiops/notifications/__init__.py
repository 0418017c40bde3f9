"""Notifications about incidents: channels, messages, rendering and delivery.

``channels`` (where: Slack webhook, Slack bot, signed webhook, e-mail), ``messages`` (what:
one ``Notification`` per event), ``rendering`` (how it looks in each medium, templates in
``templates/``), ``signing`` (the webhook signature scheme and ``verify_signature`` for
receivers), ``delivery`` (``Notifier``: retries, never raises), ``mail`` (SMTP).

    async with Notifier() as notifier:
        results = await notifier.send_all(channels, notification)
"""

from __future__ import annotations

from aiops.notifications.channels import (
    Channel,
    ChannelKind,
    EmailChannel,
    SlackBotChannel,
    SlackWebhookChannel,
    WebhookChannel,
    parse_channel,
)
from aiops.notifications.delivery import Notifier
from aiops.notifications.messages import EventKind, Links, Notification, Severity
from aiops.notifications.results import DeliveryResult
from aiops.notifications.signing import verify_signature

__all__ = [
    "Channel",
    "ChannelKind",
    "DeliveryResult",
    "EmailChannel",
    "EventKind",
    "Links",
    "Notification",
    "Notifier",
    "Severity",
    "SlackBotChannel",
    "SlackWebhookChannel",
    "WebhookChannel",
    "parse_channel",
    "verify_signature",
]
