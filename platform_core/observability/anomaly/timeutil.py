"""Timestamp normalisation for the detectors.

Detectors accept whatever the caller has (a ``datetime``, an ISO-8601 string, epoch seconds or
nothing) and only need two things from it: a ``datetime`` to report "since when" and the phase
of the day in [0, 1), because daily seasonality is the one periodicity almost every platform
metric shares (traffic, CPU, latency all follow the working day).
"""

from __future__ import annotations

import math
from datetime import UTC, datetime

TimestampLike = datetime | str | float | int | None

SECONDS_PER_DAY = 86400.0


def to_datetime(timestamp: TimestampLike) -> datetime | None:
    """Parse a timestamp; ``None`` stays ``None``. Epoch numbers are taken as UTC seconds."""
    if timestamp is None:
        return None
    if isinstance(timestamp, datetime):
        return timestamp
    if isinstance(timestamp, int | float):
        if not math.isfinite(float(timestamp)):
            raise ValueError(f"timestamp {timestamp!r} is not finite")
        return datetime.fromtimestamp(float(timestamp), tz=UTC)
    text = timestamp.strip()
    if text.endswith("Z"):
        text = text[:-1] + "+00:00"
    return datetime.fromisoformat(text)


def day_phase(moment: datetime | None) -> float | None:
    """Fraction of the day elapsed at ``moment`` (wall-clock of its own timezone)."""
    if moment is None:
        return None
    seconds = moment.hour * 3600 + moment.minute * 60 + moment.second + moment.microsecond / 1e6
    return seconds / SECONDS_PER_DAY
