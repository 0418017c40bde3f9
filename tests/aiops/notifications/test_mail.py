"""E-mail through a local SMTP server: what arrives in the inbox, and what failures look like."""

from __future__ import annotations

from collections.abc import Callable

from aiops.notifications import EmailChannel, Notification, Notifier
from tests.aiops.notifications.conftest import INCIDENT_URL
from tests.support.fake_receivers import FakeSmtpServer
from tests.support.server import free_port

Factory = Callable[..., Notification]


def _channel(smtp: FakeSmtpServer, **overrides: object) -> EmailChannel:
    values: dict[str, object] = {
        "to": ["oncall@example.com", "sre@example.com"],
        "from_address": "aiops@example.com",
        "smtp_host": smtp.host,
        "smtp_port": smtp.port,
        "username": "alerts",
        "password": "smtp-pass-123",
        "starttls": False,
    }
    values.update(overrides)
    return EmailChannel.model_validate(values)


async def test_the_email_arrives_with_subject_text_and_escaped_html(
    notifier: Notifier, smtp: FakeSmtpServer, notification_factory: Factory
) -> None:
    notification = notification_factory(application="<img src=x onerror=alert(1)>")
    result = await notifier.send(_channel(smtp), notification)

    assert result.ok and result.attempts == 1 and result.error is None
    (mail,) = smtp.messages
    assert mail.login == ("alerts", "smtp-pass-123")
    assert sorted(mail.rcpt_tos) == ["oncall@example.com", "sre@example.com"]
    message = mail.message
    assert message["Subject"] == (
        "[CRITICAL] Incident opened: Checkout latency is ten times normal (acme/production)"
    )
    assert message["From"] == "aiops@example.com"
    assert message["Auto-Submitted"] == "auto-generated"
    assert message.get_content_type() == "multipart/alternative"
    text_part = message.get_body(("plain",))
    html_part = message.get_body(("html",))
    assert text_part is not None and html_part is not None
    text, html = text_part.get_content(), html_part.get_content()
    assert "1812 ms" in text and INCIDENT_URL in text
    assert "&lt;img src=x onerror=alert(1)&gt;" in html
    assert "<img" not in html
    assert f'href="{INCIDENT_URL}"' in html


async def test_messages_about_one_incident_share_a_thread(
    notifier: Notifier, smtp: FakeSmtpServer, notification_factory: Factory
) -> None:
    await notifier.send(_channel(smtp), notification_factory(event="incident_opened"))
    await notifier.send(_channel(smtp), notification_factory(event="incident_resolved"))

    first, second = (mail.message for mail in smtp.messages)
    assert first["Message-ID"] != second["Message-ID"]
    assert first["References"] == second["References"]


async def test_a_temporary_refusal_is_retried(
    notifier: Notifier, smtp: FakeSmtpServer, notification: Notification
) -> None:
    smtp.data_replies.append("451 4.3.0 try again later")
    result = await notifier.send(_channel(smtp), notification)

    assert result.ok and result.attempts == 2
    assert len(smtp.messages) == 1


async def test_wrong_credentials_fail_without_retry_or_leak(
    notifier: Notifier, smtp: FakeSmtpServer, notification: Notification
) -> None:
    result = await notifier.send(_channel(smtp, password="wrong-password"), notification)

    assert not result.ok and result.attempts == 1
    assert result.status == 535
    assert "wrong-password" not in str(result)
    assert smtp.messages == []


async def test_an_unreachable_smtp_server_fails_without_raising(
    notifier: Notifier, notification: Notification
) -> None:
    channel = EmailChannel(
        to=["oncall@example.com"],
        from_address="aiops@example.com",
        smtp_host="127.0.0.1",
        smtp_port=free_port(),
        starttls=False,
    )
    result = await notifier.send(channel, notification)

    assert not result.ok and result.attempts == 3
    assert result.error is not None
