"""What a detector tells a person: an explained anomaly verdict for one metric at one time."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime


@dataclass(frozen=True, slots=True)
class Detection:
    """One metric's verdict at one point.

    ``score`` is the alerting score in [0, 1] (new evidence only: repeats of an ongoing episode
    are suppressed to 0); ``raw_score`` is the unsuppressed level of surprise. ``expected_low``
    and ``expected_high`` bound what the detector considered normal here; ``since`` is when the
    current anomalous episode started (None when there is none). ``reason`` says which test
    fired, in words.
    """

    metric: str
    index: int
    timestamp: datetime | None
    observed: float
    expected_low: float
    expected_high: float
    score: float
    raw_score: float
    is_anomaly: bool
    since: datetime | None
    reason: str

    def summary(self) -> str:
        """One human-readable line, e.g. for an incident timeline or a chat answer."""
        when = self.timestamp.isoformat() if self.timestamp else f"#{self.index}"
        state = "ANOMALY" if self.is_anomaly else "normal"
        since = f" since {self.since.isoformat()}" if self.since else ""
        return (
            f"{self.metric} @ {when}: {state}{since} - observed {self.observed:.6g}, "
            f"expected [{self.expected_low:.6g}, {self.expected_high:.6g}], "
            f"score {self.score:.3f} ({self.reason})"
        )
