"""A notification rendered for each medium: e-mail, Slack Block Kit, webhook JSON.

Layouts are Jinja templates in ``templates/`` (HTML ones autoescaped); this module prepares the
values (single-line where a line is expected, capped in length, control characters removed),
escapes Slack mrkdwn, and enforces Slack's block limits on the result, so a hostile application
name or a huge log excerpt can neither break the layout nor ping a channel (``<!channel>``).

Webhook payload (``render_webhook``), version 1. Fields are only ever added within a version::

    {
      "version": 1,
      "delivery_id": "9f1c...",             # also the X-Hexabase-Delivery header
      "event": "incident_opened",           # see messages.EventKind
      "occurred_at": "2024-05-01T10:42:00Z",
      "organization": "acme", "workspace": "prod", "project": "shop" | null,
      "application": "checkout" | null,
      "incident": {
        "id": "inc-42", "title": "...", "severity": "info" | "warning" | "critical",
        "summary": "...", "details": ["...", ...], "details_omitted": 0, "url": "..." | null
      },
      "approval": {"id": "apr-7", "url": "..." | null} | null
    }
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from datetime import UTC
from functools import cache
from pathlib import Path
from typing import Any

from jinja2 import Environment, FileSystemLoader, StrictUndefined, select_autoescape

from aiops.notifications.messages import Notification

TEMPLATES = Path(__file__).with_name("templates")
WEBHOOK_PAYLOAD_VERSION = 1

# Slack Block Kit limits (https://api.slack.com/reference/block-kit).
SLACK_TEXT_LIMIT = 3000
SLACK_HEADER_LIMIT = 150
SLACK_FIELD_LIMIT = 2000
SLACK_MAX_FIELDS = 10
SLACK_BUTTON_TEXT_LIMIT = 75
SLACK_URL_LIMIT = 3000
SLACK_MAX_BLOCKS = 50

EMOJI = {"info": ":large_blue_circle:", "warning": ":warning:", "critical": ":red_circle:"}
RESOLVED_EMOJI = ":white_check_mark:"

_CONTROL = re.compile(r"[\x00-\x08\x0b-\x1f\x7f]")
_PARTIAL_ENTITY = re.compile(r"&[a-z]{0,3}$")


@dataclass(frozen=True)
class Caps:
    """How much of the untrusted text one medium shows."""

    name: int = 200
    title: int = 200
    summary: int = 2000
    line: int = 500
    lines: int = 20


SLACK_CAPS = Caps(title=SLACK_HEADER_LIMIT - 5, summary=2500, line=500, lines=15)
EMAIL_CAPS = Caps(title=200, summary=10_000, line=2000, lines=100)
WEBHOOK_CAPS = Caps(name=500, title=500, summary=10_000, line=4000, lines=200)


@dataclass(frozen=True)
class RenderedEmail:
    subject: str
    text: str
    html: str


def truncate(text: str, limit: int) -> str:
    """``text`` cut to at most ``limit`` characters, ending in an ellipsis when cut."""
    if len(text) <= limit:
        return text
    return text[: limit - 1].rstrip() + "…"


def one_line(text: str | None, limit: int) -> str:
    """Whitespace and control characters collapsed to single spaces, then capped."""
    if not text:
        return ""
    return truncate(" ".join(_CONTROL.sub(" ", text).split()), limit)


def multi_line(text: str, limit: int) -> str:
    """Line breaks kept (normalized), other control characters dropped, then capped."""
    cleaned = text.replace("\r\n", "\n").replace("\r", "\n").replace("\t", "    ")
    return truncate(_CONTROL.sub("", cleaned).strip(), limit)


def escape_mrkdwn(text: str) -> str:
    """Slack's three control characters as entities, so text cannot form links or mentions."""
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def cap_mrkdwn(text: str, limit: int) -> str:
    """``truncate`` for escaped mrkdwn: never leaves half an entity such as ``&am``."""
    if len(text) <= limit:
        return text
    return _PARTIAL_ENTITY.sub("", text[: limit - 1]).rstrip() + "…"


@dataclass(frozen=True)
class _View:
    """The notification as the templates see it: cleaned and capped for one medium."""

    event: str
    event_label: str
    severity: str
    title: str
    summary: str
    organization: str
    workspace: str
    project: str
    application: str
    incident_id: str
    details: tuple[str, ...]
    details_omitted: int
    occurred_at: str
    incident_url: str | None
    approval_id: str | None
    approval_url: str | None


def _view(notification: Notification, caps: Caps) -> _View:
    links = notification.links
    return _View(
        event=notification.event,
        event_label=notification.event_label,
        severity=notification.severity,
        title=one_line(notification.title, caps.title),
        summary=multi_line(notification.summary, caps.summary),
        organization=one_line(notification.organization, caps.name),
        workspace=one_line(notification.workspace, caps.name),
        project=one_line(notification.project, caps.name),
        application=one_line(notification.application, caps.name),
        incident_id=one_line(notification.incident_id, caps.name),
        details=tuple(multi_line(line, caps.line) for line in notification.details[: caps.lines]),
        details_omitted=max(0, len(notification.details) - caps.lines),
        occurred_at=notification.occurred_at.astimezone(UTC).strftime("%Y-%m-%d %H:%M UTC"),
        incident_url=links.incident_url,
        approval_id=one_line(links.approval_id, caps.name) or None,
        approval_url=links.approval_url,
    )


@cache
def _environment() -> Environment:
    environment = Environment(
        loader=FileSystemLoader(TEMPLATES),
        undefined=StrictUndefined,
        autoescape=select_autoescape(enabled_extensions=("html.j2",), default=False),
        trim_blocks=True,
        lstrip_blocks=True,
        keep_trailing_newline=True,
    )
    environment.filters["mrkdwn"] = escape_mrkdwn
    return environment


def _render(name: str, **values: Any) -> str:
    return _environment().get_template(name).render(**values)


def render_email(notification: Notification) -> RenderedEmail:
    """Subject (one line), plain text and HTML bodies of the e-mail."""
    view = _view(notification, EMAIL_CAPS)
    subject = one_line(_render("email_subject.txt.j2", v=view), 250)
    return RenderedEmail(
        subject=subject,
        text=_render("email.txt.j2", v=view),
        html=_render("email.html.j2", v=view),
    )


def render_slack(notification: Notification) -> dict[str, Any]:
    """A ``chat.postMessage`` / incoming-webhook body: Block Kit ``blocks`` and ``text``."""
    view = _view(notification, SLACK_CAPS)
    emoji = RESOLVED_EMOJI if view.event == "incident_resolved" else EMOJI[view.severity]
    payload: dict[str, Any] = json.loads(_render("slack.json.j2", v=view, emoji=emoji))
    return _enforce_slack_limits(payload)


def _enforce_slack_limits(payload: dict[str, Any]) -> dict[str, Any]:
    payload["text"] = cap_mrkdwn(payload["text"], SLACK_TEXT_LIMIT)
    blocks: list[dict[str, Any]] = []
    for block in payload["blocks"]:
        kind = block["type"]
        if kind == "header":
            block["text"]["text"] = truncate(block["text"]["text"], SLACK_HEADER_LIMIT)
        elif kind == "section":
            if "text" in block:
                block["text"]["text"] = cap_mrkdwn(block["text"]["text"], SLACK_TEXT_LIMIT)
            if "fields" in block:
                block["fields"] = [
                    {**field, "text": cap_mrkdwn(field["text"], SLACK_FIELD_LIMIT)}
                    for field in block["fields"][:SLACK_MAX_FIELDS]
                ]
        elif kind == "context":
            for element in block["elements"]:
                element["text"] = cap_mrkdwn(element["text"], SLACK_TEXT_LIMIT)
        elif kind == "actions":
            block["elements"] = [
                {
                    **button,
                    "text": {
                        **button["text"],
                        "text": truncate(button["text"]["text"], SLACK_BUTTON_TEXT_LIMIT),
                    },
                }
                for button in block["elements"]
                if len(button.get("url", "")) <= SLACK_URL_LIMIT
            ]
            if not block["elements"]:
                continue
        blocks.append(block)
    payload["blocks"] = blocks[:SLACK_MAX_BLOCKS]
    return payload


def _capped(value: str | None, limit: int) -> str | None:
    return None if value is None else truncate(value, limit)


def render_webhook(notification: Notification, *, delivery_id: str) -> dict[str, Any]:
    """The signed webhook's JSON body; its shape is documented at the top of this module."""
    caps = WEBHOOK_CAPS
    links = notification.links
    approval = (
        {"id": links.approval_id, "url": links.approval_url}
        if notification.event == "approval_requested" or links.approval_id
        else None
    )
    return {
        "version": WEBHOOK_PAYLOAD_VERSION,
        "delivery_id": delivery_id,
        "event": notification.event,
        "occurred_at": notification.occurred_at.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ"),
        "organization": _capped(notification.organization, caps.name),
        "workspace": _capped(notification.workspace, caps.name),
        "project": _capped(notification.project, caps.name),
        "application": _capped(notification.application, caps.name),
        "incident": {
            "id": truncate(notification.incident_id, caps.name),
            "title": truncate(notification.title, caps.title),
            "severity": notification.severity,
            "summary": truncate(notification.summary, caps.summary),
            "details": [truncate(line, caps.line) for line in notification.details[: caps.lines]],
            "details_omitted": max(0, len(notification.details) - caps.lines),
            "url": links.incident_url,
        },
        "approval": approval,
    }


__all__ = [
    "RenderedEmail",
    "escape_mrkdwn",
    "render_email",
    "render_slack",
    "render_webhook",
    "truncate",
]
