"""Signatures on generic webhook deliveries, and how a receiver checks them.

Every POST to a ``webhook`` channel carries a JSON body (see ``aiops.notifications.rendering``
for its shape) and these headers:

``X-Hexabase-Event``
    The event, e.g. ``incident_opened``.
``X-Hexabase-Delivery``
    A random id for this delivery, identical on every retry of it (and repeated in the body as
    ``delivery_id``): receivers drop a delivery id they have already processed.
``X-Hexabase-Signature``
    ``t=<unix seconds>,v1=<hex HMAC-SHA256>``. The HMAC key is the channel's secret (UTF-8);
    the message is ``f"{t}."`` (ASCII) followed by the raw body bytes exactly as received.
    Each retry is signed afresh, so ``t`` is the time of that attempt.

To verify: parse ``t`` and every ``v1`` from the header, recompute the HMAC over the raw body
(before any JSON parsing), compare in constant time, and refuse a ``t`` more than five minutes
away from your clock so that a captured request cannot be replayed later.
``verify_signature`` does exactly this.
"""

from __future__ import annotations

import hashlib
import hmac
import time
from typing import TypeAlias

from pydantic import SecretStr

SIGNATURE_HEADER = "X-Hexabase-Signature"
EVENT_HEADER = "X-Hexabase-Event"
DELIVERY_HEADER = "X-Hexabase-Delivery"
DEFAULT_TOLERANCE_SECONDS = 300

Secret: TypeAlias = str | bytes | SecretStr


def _key(secret: Secret) -> bytes:
    if isinstance(secret, SecretStr):
        secret = secret.get_secret_value()
    return secret.encode() if isinstance(secret, str) else secret


def compute_signature(secret: Secret, timestamp: int, body: bytes) -> str:
    """The hex HMAC-SHA256 of ``f"{timestamp}."`` + ``body`` under ``secret``."""
    message = f"{timestamp}.".encode() + body
    return hmac.new(_key(secret), message, hashlib.sha256).hexdigest()


def signature_header(secret: Secret, body: bytes, *, timestamp: int | None = None) -> str:
    """The ``X-Hexabase-Signature`` value for ``body``, signed now unless ``timestamp`` is given."""
    moment = int(time.time()) if timestamp is None else timestamp
    return f"t={moment},v1={compute_signature(secret, moment, body)}"


def verify_signature(
    secret: Secret,
    header: str,
    body: bytes,
    now: float | None = None,
    tolerance: int = DEFAULT_TOLERANCE_SECONDS,
) -> bool:
    """Whether ``header`` is a valid, fresh signature of ``body`` under ``secret``.

    ``now`` is the receiver's clock in unix seconds (default: the current time). Several ``v1``
    entries are accepted (any one matching is enough) so a sender can sign with an old and a
    new secret while the secret is rotated. A malformed header is simply invalid.
    """
    timestamp: int | None = None
    candidates: list[str] = []
    for item in header.split(","):
        name, _, value = item.strip().partition("=")
        if name == "t" and value.isdigit():
            timestamp = int(value)
        elif name == "v1" and value:
            candidates.append(value)
    if timestamp is None or not candidates:
        return False
    current = time.time() if now is None else now
    if abs(current - timestamp) > tolerance:
        return False
    expected = compute_signature(secret, timestamp, body)
    return any(hmac.compare_digest(expected, candidate) for candidate in candidates)
