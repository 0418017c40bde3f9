"""Opaque secrets (refresh tokens, API keys, invitation tokens) and how they are stored.

Secrets the service must use again later (an organization's model API key, a notification
channel's webhook URL) cannot be hashed: ``SecretBox`` encrypts them with a key derived from
``AIOPS_SECRET_KEY`` and a purpose, so one purpose's ciphertext never opens as another's.

Only an HMAC-SHA256 of a secret (keyed with ``AIOPS_SECRET_KEY``) is stored. The secrets carry
256 bits of randomness, so a fast keyed hash is enough; a database leak alone does not let
anyone use them.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import secrets

from cryptography.fernet import Fernet, InvalidToken


def new_secret(prefix: str, *, nbytes: int = 32) -> str:
    return f"{prefix}_{secrets.token_urlsafe(nbytes)}"


def secret_hash(key: str, value: str) -> str:
    return hmac.new(key.encode(), value.encode(), hashlib.sha256).hexdigest()


class SecretBox:
    """Symmetric encryption keyed by the service's secret key and a purpose."""

    def __init__(self, secret_key: str, purpose: str = "agent-settings") -> None:
        digest = hashlib.sha256(f"{purpose}:{secret_key}".encode()).digest()
        self._fernet = Fernet(base64.urlsafe_b64encode(digest))

    def seal(self, value: str) -> str:
        return self._fernet.encrypt(value.encode()).decode()

    def open(self, token: str) -> str | None:
        """The plain value, or None when the secret key changed (unusable, not an error)."""
        try:
            return self._fernet.decrypt(token.encode()).decode()
        except InvalidToken:
            return None
