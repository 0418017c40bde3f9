"""How a notification looks: Slack blocks, e-mail, webhook JSON, with hostile text kept inert."""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

import pytest
from pydantic import ValidationError

from aiops.notifications import Links, Notification
from aiops.notifications.rendering import render_email, render_slack, render_webhook
from tests.aiops.notifications.conftest import INCIDENT_URL

Factory = Callable[..., Notification]


def _texts(payload: dict[str, Any]) -> list[str]:
    """Every piece of text in a Slack payload."""
    found: list[str] = [payload["text"]]

    def walk(node: Any) -> None:
        if isinstance(node, dict):
            for key, value in node.items():
                if key == "text" and isinstance(value, str):
                    found.append(value)
                else:
                    walk(value)
        elif isinstance(node, list):
            for item in node:
                walk(item)

    walk(payload["blocks"])
    return found


def test_slack_message_has_header_fields_context_and_a_button(notification: Notification) -> None:
    payload = render_slack(notification)
    kinds = [block["type"] for block in payload["blocks"]]
    assert kinds == ["header", "section", "section", "section", "actions", "context"]
    header = payload["blocks"][0]["text"]
    assert header["type"] == "plain_text"
    assert "Checkout latency is ten times normal" in header["text"]
    fields = " ".join(field["text"] for field in payload["blocks"][2]["fields"])
    for shown in ("Critical", "acme", "production", "shop", "checkout", "inc-42"):
        assert shown in fields
    assert "1812 ms" in payload["blocks"][3]["text"]["text"]
    button = payload["blocks"][4]["elements"][0]
    assert (button["text"]["text"], button["url"]) == ("View incident", INCIDENT_URL)
    assert "2024-05-01 10:42 UTC" in payload["blocks"][5]["elements"][0]["text"]
    assert "Checkout latency" in payload["text"]  # the fallback for notifications


def test_slack_has_no_button_without_a_url(notification_factory: Factory) -> None:
    payload = render_slack(notification_factory(links=Links(), details=()))
    assert [block["type"] for block in payload["blocks"]] == [
        "header",
        "section",
        "section",
        "context",
    ]


def test_an_approval_request_links_to_the_decision(notification_factory: Factory) -> None:
    links = Links(
        incident_url=INCIDENT_URL,
        approval_id="apr-7",
        approval_url="https://aiops.example.com/approvals/apr-7",
    )
    payload = render_slack(notification_factory(event="approval_requested", links=links))
    buttons = payload["blocks"][4]["elements"]
    assert [b["text"]["text"] for b in buttons] == ["Review approval", "View incident"]
    assert buttons[0]["url"].endswith("/approvals/apr-7")
    assert "Approval requested" in payload["blocks"][1]["text"]["text"]


def test_approval_requested_needs_an_approval_id(notification_factory: Factory) -> None:
    with pytest.raises(ValidationError, match="approval_id"):
        notification_factory(event="approval_requested")


def test_untrusted_text_cannot_mention_link_or_break_slack(notification_factory: Factory) -> None:
    hostile = notification_factory(
        application="<!channel> <https://evil.example|click> & co",
        details=("log: <script>alert(1)</script> & <@U123>",),
    )
    payload = render_slack(hostile)
    mrkdwn = [t for t in _texts(payload)[1:] if t]  # all but the fallback
    joined = "\n".join(mrkdwn)
    assert "<!channel>" not in joined and "<@U123>" not in joined and "<https://" not in joined
    assert "&lt;!channel&gt; &lt;https://evil.example|click&gt; &amp; co" in joined
    assert json.loads(json.dumps(payload)) == payload


def test_huge_details_are_capped_to_slack_limits(notification_factory: Factory) -> None:
    long_lines = tuple("x&" * 2000 for _ in range(40))
    payload = render_slack(
        notification_factory(title="T" * 500, summary="s" * 9000, details=long_lines)
    )
    for block in payload["blocks"]:
        if block["type"] == "header":
            assert len(block["text"]["text"]) <= 150
        if block["type"] == "section" and "text" in block:
            assert len(block["text"]["text"]) <= 3000
            assert not block["text"]["text"].rstrip("…").endswith(("&", "&a", "&am", "&amp"))
    details = payload["blocks"][3]["text"]["text"]
    assert details.endswith("…")
    assert len(payload["text"]) <= 3000


def test_email_has_subject_text_and_escaped_html(notification_factory: Factory) -> None:
    email = render_email(notification_factory(application='<b>checkout</b> & "co"'))
    assert email.subject == (
        "[CRITICAL] Incident opened: Checkout latency is ten times normal (acme/production)"
    )
    assert '<b>checkout</b> & "co"' in email.text
    assert "&lt;b&gt;checkout&lt;/b&gt; &amp; &#34;co&#34;" in email.html
    assert "<b>checkout</b>" not in email.html
    assert f'href="{INCIDENT_URL}"' in email.html
    assert "1812 ms" in email.text and "1812 ms" in email.html


def test_an_email_subject_stays_on_one_line(notification_factory: Factory) -> None:
    email = render_email(notification_factory(title="Bad\r\nBcc: victim@example.com\n" + "x" * 400))
    assert "\n" not in email.subject and "\r" not in email.subject
    assert len(email.subject) <= 250


def test_webhook_payload_is_versioned_and_complete(notification: Notification) -> None:
    payload = render_webhook(notification, delivery_id="d-1")
    assert payload == {
        "version": 1,
        "delivery_id": "d-1",
        "event": "incident_opened",
        "occurred_at": "2024-05-01T10:42:00Z",
        "organization": "acme",
        "workspace": "production",
        "project": "shop",
        "application": "checkout",
        "incident": {
            "id": "inc-42",
            "title": "Checkout latency is ten times normal",
            "severity": "critical",
            "summary": "p95 latency of checkout rose sharply after the 10:40 deploy.",
            "details": ["latency_p95 observed 1812 ms, expected 90\u2013160 ms since 10:42"],
            "details_omitted": 0,
            "url": INCIDENT_URL,
        },
        "approval": None,
    }


def test_every_event_renders_everywhere(notification_factory: Factory) -> None:
    from aiops.notifications.messages import EVENTS

    for event in EVENTS:
        links = Links(incident_url=INCIDENT_URL, approval_id="apr-1")
        note = notification_factory(event=event, links=links, project=None, application=None)
        assert render_slack(note)["blocks"]
        assert render_email(note).html
        assert render_webhook(note, delivery_id="d")["event"] == event
