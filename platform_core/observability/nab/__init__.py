"""A faithful Numenta Anomaly Benchmark (NAB v1.1) scorer and the runner that measures our
detectors with it. See the dataset's ``SCORING.md`` for the rules implemented in ``scoring``.
"""

from platform_core.observability.nab.corpus import Corpus, ProfileResult, evaluate
from platform_core.observability.nab.data import Profile, load_profiles, load_windows
from platform_core.observability.nab.runner import NabReport, run_nab_benchmark

__all__ = [
    "Corpus",
    "NabReport",
    "Profile",
    "ProfileResult",
    "evaluate",
    "load_profiles",
    "load_windows",
    "run_nab_benchmark",
]
