"""What the Slack bot needs from the service settings.

The settings object may not have the Slack fields yet (they are added centrally), so they are
read with ``getattr`` and a default: the bot is simply off until they exist and are set.
Secrets are unwrapped here, once, and kept out of ``repr``.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from pydantic import SecretStr

DEFAULT_UPDATE_INTERVAL_SECONDS = 1.0


def _text(settings: Any, name: str) -> str | None:
    value = getattr(settings, name, None)
    if isinstance(value, SecretStr):
        value = value.get_secret_value()
    return str(value) if value else None


@dataclass(frozen=True)
class SlackConfig:
    """Tokens and knobs of the bot.

    ``bot_token`` (``xoxb-``) calls the Web API; ``signing_secret`` verifies HTTP requests from
    Slack; ``app_token`` (``xapp-``) opens the Socket Mode connection; ``api_url`` replaces
    ``https://slack.com/api/`` (tests, proxies); ``public_url`` is where people sign in to
    create a link code (used in the link instruction).
    """

    bot_token: str | None = field(default=None, repr=False)
    signing_secret: str | None = field(default=None, repr=False)
    app_token: str | None = field(default=None, repr=False)
    api_url: str | None = None
    public_url: str | None = None
    update_interval_seconds: float = DEFAULT_UPDATE_INTERVAL_SECONDS

    @classmethod
    def from_settings(cls, settings: Any) -> SlackConfig:
        interval = getattr(settings, "slack_update_interval_seconds", None)
        base_url = getattr(settings, "base_url", None)
        return cls(
            bot_token=_text(settings, "slack_bot_token"),
            signing_secret=_text(settings, "slack_signing_secret"),
            app_token=_text(settings, "slack_app_token"),
            api_url=_text(settings, "slack_api_url"),
            public_url=str(base_url) if base_url else None,
            update_interval_seconds=(
                float(interval) if interval is not None else DEFAULT_UPDATE_INTERVAL_SECONDS
            ),
        )

    @property
    def http_ready(self) -> bool:
        """HTTP mode needs the bot token and the signing secret (never runs unverified)."""
        return bool(self.bot_token and self.signing_secret)

    @property
    def socket_ready(self) -> bool:
        return bool(self.bot_token and self.app_token)
