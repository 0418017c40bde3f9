"""Anomaly detectors for platform metrics: a univariate streaming detector (one per series)
and a multivariate detector over an application's metric vector. Every verdict is explained
by a :class:`Detection` (metric, observed value, expected range, score, since when).
"""

from platform_core.observability.anomaly.results import Detection
from platform_core.observability.anomaly.streaming import (
    StreamingAnomalyDetector,
    StreamingConfig,
    score_series,
)

__all__ = ["Detection", "StreamingAnomalyDetector", "StreamingConfig", "score_series"]
