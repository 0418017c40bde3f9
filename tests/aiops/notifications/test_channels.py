"""Channel configuration: what is accepted, what is refused (naming the field), what is shown."""

from __future__ import annotations

from typing import Any

import pytest
from pydantic import ValidationError

from aiops.notifications import (
    EmailChannel,
    SlackBotChannel,
    SlackWebhookChannel,
    WebhookChannel,
    parse_channel,
)

SLACK_URL = "https://hooks.slack.com/services/T000/B000/XXXXsecretXXXX"
BOT_TOKEN = "xoxb-1234-5678-secrettoken"
WEBHOOK_SECRET = "whsec-0123456789abcdef"
SMTP_PASSWORD = "smtp-pass-123"


def _error_fields(error: ValidationError) -> set[str]:
    return {".".join(str(part) for part in item["loc"]) for item in error.errors()}


def _invalid(data: dict[str, Any]) -> ValidationError:
    with pytest.raises(ValidationError) as caught:
        parse_channel(data)
    return caught.value


def test_parse_channel_picks_the_model_from_kind() -> None:
    assert isinstance(
        parse_channel({"kind": "slack_webhook", "url": SLACK_URL}), SlackWebhookChannel
    )
    bot = parse_channel({"kind": "slack_bot", "token": BOT_TOKEN, "channel": "#ops"})
    assert isinstance(bot, SlackBotChannel)
    assert bot.api_url == "https://slack.com/api"
    hook = parse_channel(
        {"kind": "webhook", "url": "https://ops.example.com/hooks", "secret": WEBHOOK_SECRET}
    )
    assert isinstance(hook, WebhookChannel)
    mail = parse_channel(
        {
            "kind": "email",
            "to": ["oncall@example.com"],
            "from_address": "aiops@example.com",
            "smtp_host": "smtp.example.com",
        }
    )
    assert isinstance(mail, EmailChannel)
    assert (mail.smtp_port, mail.starttls, mail.use_tls) == (587, True, False)


@pytest.mark.parametrize(
    ("data", "field"),
    [
        ({"kind": "slack_webhook", "url": "ftp://hooks.slack.com/x"}, "slack_webhook.url"),
        ({"kind": "slack_webhook", "url": "https:///no-host"}, "slack_webhook.url"),
        (
            {"kind": "webhook", "url": "javascript:alert(1)", "secret": WEBHOOK_SECRET},
            "webhook.url",
        ),
        (
            {
                "kind": "webhook",
                "url": "https://user:pw@ops.example.com/",
                "secret": WEBHOOK_SECRET,
            },
            "webhook.url",
        ),
        (
            {
                "kind": "webhook",
                "url": "https://ops.example.com/" + "a" * 3000,
                "secret": WEBHOOK_SECRET,
            },
            "webhook.url",
        ),
        (
            {"kind": "webhook", "url": "https://ops.example.com/", "secret": "short"},
            "webhook.secret",
        ),
        ({"kind": "slack_bot", "token": BOT_TOKEN, "channel": ""}, "slack_bot.channel"),
        (
            {"kind": "slack_bot", "token": BOT_TOKEN, "channel": "#ops", "api_url": "slack"},
            "slack_bot.api_url",
        ),
        (
            {
                "kind": "email",
                "to": [],
                "from_address": "a@example.com",
                "smtp_host": "smtp.example.com",
            },
            "email.to",
        ),
        (
            {
                "kind": "email",
                "to": ["not-an-address"],
                "from_address": "a@example.com",
                "smtp_host": "smtp.example.com",
            },
            "email.to.0",
        ),
        (
            {
                "kind": "email",
                "to": ["b@example.com"],
                "from_address": "a@example.com",
                "smtp_host": "smtp://smtp.example.com:25",
            },
            "email.smtp_host",
        ),
        (
            {
                "kind": "email",
                "to": ["b@example.com"],
                "from_address": "a@example.com",
                "smtp_host": "smtp.example.com",
                "smtp_port": 70000,
            },
            "email.smtp_port",
        ),
        (
            {
                "kind": "email",
                "to": ["b@example.com"],
                "from_address": "a@example.com",
                "smtp_host": "smtp.example.com",
                "starttls": True,
                "use_tls": True,
            },
            "email.use_tls",
        ),
        (
            {
                "kind": "email",
                "to": ["b@example.com"],
                "from_address": "a@example.com",
                "smtp_host": "smtp.example.com",
                "password": SMTP_PASSWORD,
            },
            "email.password",
        ),
    ],
)
def test_invalid_settings_name_the_field(data: dict[str, Any], field: str) -> None:
    assert field in _error_fields(_invalid(data))


def test_an_unknown_kind_is_refused_on_kind() -> None:
    error = _invalid({"kind": "pager"})
    assert error.errors()[0]["type"] == "union_tag_invalid"


def test_validation_errors_do_not_echo_secrets() -> None:
    error = _invalid({"kind": "slack_webhook", "url": SLACK_URL + " with a space"})
    assert "XXXXsecretXXXX" not in str(error)
    assert "XXXXsecretXXXX" not in error.json(include_input=False)
    assert error.errors()[0]["loc"] == ("slack_webhook", "url")


def test_implicit_tls_alone_turns_starttls_off() -> None:
    channel = EmailChannel.model_validate(
        {
            "to": ["b@example.com"],
            "from_address": "a@example.com",
            "smtp_host": "smtp.example.com",
            "smtp_port": 465,
            "use_tls": True,
        }
    )
    assert (channel.use_tls, channel.starttls) == (True, False)


def _channels() -> list[Any]:
    return [
        SlackWebhookChannel(url=SLACK_URL),
        SlackBotChannel(token=BOT_TOKEN, channel="C0OPS"),
        WebhookChannel(
            url="https://ops.example.com/hooks?token=querysecret", secret=WEBHOOK_SECRET
        ),
        EmailChannel(
            to=["oncall@example.com"],
            from_address="aiops@example.com",
            smtp_host="smtp.example.com",
            username="alerts",
            password=SMTP_PASSWORD,
        ),
    ]


@pytest.mark.parametrize("channel", _channels(), ids=lambda c: str(c.kind))
def test_secrets_stay_out_of_repr_public_view_and_json(channel: Any) -> None:
    shown = [repr(channel), str(channel), str(channel.public_view()), channel.model_dump_json()]
    for secret in ("XXXXsecretXXXX", "secrettoken", WEBHOOK_SECRET, SMTP_PASSWORD):
        assert not any(secret in text for text in shown), secret


def test_public_view_shows_where_without_how() -> None:
    slack, bot, hook, mail = _channels()
    assert slack.public_view() == {"kind": "slack_webhook", "url": "https://hooks.slack.com/…"}
    assert bot.public_view()["channel"] == "C0OPS"
    assert bot.public_view()["token"] == "********"
    assert (
        hook.public_view()["url"] == "https://ops.example.com/hooks?…"
    )  # a query may hold a token
    assert mail.public_view()["to"] == ["oncall@example.com"]
    assert mail.public_view()["password"] == "********"


def test_to_storage_round_trips_with_the_secrets() -> None:
    for channel in _channels():
        assert parse_channel(channel.to_storage()) == channel
