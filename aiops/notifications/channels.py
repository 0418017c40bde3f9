"""Where notifications go: one pydantic model per kind of channel, discriminated on ``kind``.

``parse_channel`` turns stored or submitted JSON into the right model; invalid input raises a
``pydantic.ValidationError`` whose errors name the field (``loc``) and never echo the input, which
may be a token or a secret URL.

Secrets are ``SecretStr``: hidden in ``repr``, in logs and in ``model_dump(mode="json")``.
``public_view()`` is what a person may see of a channel; ``to_storage()`` reveals the secrets
and exists only to persist the channel (encrypt it at rest).

Generic webhooks are signed; the scheme is in ``aiops.notifications.signing``.
"""

from __future__ import annotations

import ipaddress
import re
from typing import Annotated, Any, Literal, TypeAlias

from pydantic import (
    BaseModel,
    ConfigDict,
    EmailStr,
    Field,
    SecretStr,
    TypeAdapter,
    ValidationInfo,
    field_validator,
    model_validator,
)

from aiops.notifications.urls import HttpUrlStr, check_http_url, display_url, masked_url

ChannelKind = Literal["slack_webhook", "slack_bot", "webhook", "email"]

MASK = "********"
MAX_RECIPIENTS = 50
_HOSTNAME = re.compile(
    r"^(?=.{1,253}$)[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?"
    r"(?:\.[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?)*\.?$"
)


def _mask(secret: SecretStr | None) -> str | None:
    return MASK if secret is not None else None


class _Channel(BaseModel):
    model_config = ConfigDict(
        frozen=True,
        extra="forbid",
        str_strip_whitespace=True,
        hide_input_in_errors=True,
    )

    def public_view(self) -> dict[str, Any]:
        """What may be shown to people and written to logs: secrets are masked."""
        raise NotImplementedError

    def to_storage(self) -> dict[str, Any]:
        """Every field with secrets revealed, to persist the channel. Never log or return it."""
        data = self.model_dump(mode="python")
        return {
            key: value.get_secret_value() if isinstance(value, SecretStr) else value
            for key, value in data.items()
        }


class SlackWebhookChannel(_Channel):
    """A Slack incoming webhook. Its URL is the credential, so the whole URL is a secret."""

    kind: Literal["slack_webhook"] = "slack_webhook"
    url: SecretStr = Field(min_length=1)

    @field_validator("url")
    @classmethod
    def _check_url(cls, value: SecretStr) -> SecretStr:
        check_http_url(value.get_secret_value())
        return value

    def public_view(self) -> dict[str, Any]:
        return {"kind": self.kind, "url": masked_url(self.url.get_secret_value())}


class SlackBotChannel(_Channel):
    """``chat.postMessage`` with a bot token (``xoxb-``) into ``channel`` (an id or ``#name``)."""

    kind: Literal["slack_bot"] = "slack_bot"
    token: SecretStr = Field(min_length=1, max_length=512)
    channel: str = Field(min_length=1, max_length=80, pattern=r"^[#@]?[\w.\-]+$")
    api_url: HttpUrlStr = "https://slack.com/api"

    def public_view(self) -> dict[str, Any]:
        return {
            "kind": self.kind,
            "channel": self.channel,
            "api_url": display_url(self.api_url),
            "token": MASK,
        }


class WebhookChannel(_Channel):
    """A JSON POST to any URL, signed with HMAC-SHA256 under ``secret``."""

    kind: Literal["webhook"] = "webhook"
    url: HttpUrlStr
    secret: SecretStr = Field(min_length=16, max_length=256)

    def public_view(self) -> dict[str, Any]:
        return {"kind": self.kind, "url": display_url(self.url), "secret": MASK}


class EmailChannel(_Channel):
    """E-mail through an SMTP server (STARTTLS on 587 by default, or implicit TLS on 465)."""

    kind: Literal["email"] = "email"
    to: list[EmailStr] = Field(min_length=1, max_length=MAX_RECIPIENTS)
    from_address: EmailStr
    smtp_host: str = Field(min_length=1, max_length=253)
    smtp_port: int = Field(default=587, ge=1, le=65535)
    username: str | None = Field(default=None, min_length=1, max_length=256)
    password: SecretStr | None = Field(default=None, min_length=1, max_length=256)
    starttls: bool = True
    use_tls: bool = False

    @model_validator(mode="before")
    @classmethod
    def _implicit_tls_replaces_starttls(cls, data: Any) -> Any:
        # ``use_tls: true`` alone means port-465 style TLS; only an explicit pair is a conflict.
        if isinstance(data, dict) and data.get("use_tls") is True and "starttls" not in data:
            return {**data, "starttls": False}
        return data

    @field_validator("smtp_host")
    @classmethod
    def _check_host(cls, value: str) -> str:
        if not _HOSTNAME.match(value) and not _is_ip_literal(value):
            raise ValueError("must be a host name or an IP address, without scheme or port")
        return value

    @field_validator("password")
    @classmethod
    def _password_needs_username(
        cls, value: SecretStr | None, info: ValidationInfo
    ) -> SecretStr | None:
        if value is not None and not info.data.get("username"):
            raise ValueError("a password needs a username")
        return value

    @field_validator("use_tls")
    @classmethod
    def _one_tls_mode(cls, value: bool, info: ValidationInfo) -> bool:
        if value and info.data.get("starttls"):
            raise ValueError("use either implicit TLS (use_tls) or STARTTLS, not both")
        return value

    def public_view(self) -> dict[str, Any]:
        return {
            "kind": self.kind,
            "to": list(self.to),
            "from_address": self.from_address,
            "smtp_host": self.smtp_host,
            "smtp_port": self.smtp_port,
            "username": self.username,
            "password": _mask(self.password),
            "starttls": self.starttls,
            "use_tls": self.use_tls,
        }


def _is_ip_literal(value: str) -> bool:
    try:
        ipaddress.ip_address(value)
    except ValueError:
        return False
    return True


Channel: TypeAlias = Annotated[
    SlackWebhookChannel | SlackBotChannel | WebhookChannel | EmailChannel,
    Field(discriminator="kind"),
]

_ADAPTER: TypeAdapter[Channel] = TypeAdapter(Channel)


def parse_channel(data: Any) -> Channel:
    """Validate a channel from a mapping (e.g. a stored JSON column or a request body)."""
    return _ADAPTER.validate_python(data)


__all__ = [
    "Channel",
    "ChannelKind",
    "EmailChannel",
    "SlackBotChannel",
    "SlackWebhookChannel",
    "WebhookChannel",
    "parse_channel",
]
