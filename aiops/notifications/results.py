"""What one delivery came to, for the caller, and what one attempt came to, for the retry loop."""

from __future__ import annotations

from dataclasses import dataclass

from aiops.notifications.channels import ChannelKind


@dataclass(frozen=True, slots=True)
class DeliveryResult:
    """The outcome of ``Notifier.send``: never carries a secret, safe to store and show.

    ``status`` is the last HTTP status or SMTP reply code (``None`` when there was no reply);
    ``error`` says why it failed, or what went partly wrong (recipients an SMTP server
    refused while it accepted others); ``target`` is the destination with secrets masked.
    ``attempts`` is 0 when the destination was refused before any request.
    """

    ok: bool
    channel_kind: ChannelKind
    attempts: int
    delivery_id: str
    target: str
    status: int | None = None
    error: str | None = None


@dataclass(frozen=True, slots=True)
class Attempt:
    """One try: whether it worked, and if not whether another try may help (and when)."""

    ok: bool
    retry: bool = False
    status: int | None = None
    error: str | None = None
    retry_after: float | None = None
