"""Opaque secrets (refresh tokens, API keys, invitation tokens) and how they are stored.

Only an HMAC-SHA256 of a secret (keyed with ``AIOPS_SECRET_KEY``) is stored. The secrets carry
256 bits of randomness, so a fast keyed hash is enough; a database leak alone does not let
anyone use them.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets


def new_secret(prefix: str, *, nbytes: int = 32) -> str:
    return f"{prefix}_{secrets.token_urlsafe(nbytes)}"


def secret_hash(key: str, value: str) -> str:
    return hmac.new(key.encode(), value.encode(), hashlib.sha256).hexdigest()
