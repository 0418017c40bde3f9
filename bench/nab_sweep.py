"""Sensitivity of the streaming detector's NAB score to its configuration.

Runs the real detector (``StreamingAnomalyDetector``) over the NAB corpus once per configuration
(one-parameter-at-a-time changes around the default) and prints the three normalized profile
scores at the swept thresholds and the standard score at the fixed 0.5 threshold. It is a
robustness check, not a tuning loop: the default is kept unless a whole neighbourhood is
better.

    .venv/bin/python bench/nab_sweep.py --nab /work/shared/datasets/nab --workers 2
"""

from __future__ import annotations

import argparse
import json
from concurrent.futures import ProcessPoolExecutor
from dataclasses import replace
from pathlib import Path
from typing import Any

from platform_core.observability.anomaly.streaming import StreamingConfig, score_series
from platform_core.observability.nab.corpus import Corpus, evaluate
from platform_core.observability.nab.data import (
    FloatArray,
    discover_files,
    load_profiles,
    load_series,
    load_windows,
)

VARIANTS: dict[str, dict[str, Any]] = {
    "default": {},
    "subsequence_length=1": {"subsequence_length": 1},
    "subsequence_length=3": {"subsequence_length": 3},
    "day_weight=0 (no time of day)": {"day_weight": 0.0},
    "day_weight=0.05": {"day_weight": 0.05},
    "day_weight=0.2": {"day_weight": 0.2},
    "history=3000": {"history": 3000, "calibration_window": 3000},
    "history=4500": {"history": 4500, "calibration_window": 4500},
    "history=8000": {"history": 8000, "calibration_window": 8000},
    "history=10000": {"history": 10000, "calibration_window": 10000},
    "tail_fraction=0.02": {"tail_fraction": 0.02},
    "tail_fraction=0.1": {"tail_fraction": 0.1},
    "max_alpha=8": {"max_alpha": 8.0},
    "range_tolerance=0.01": {"range_tolerance": 0.01},
    "range_tolerance=0.05": {"range_tolerance": 0.05},
    "suppression=50": {"suppression": 50},
    "suppression=200": {"suppression": 200},
    "age_cap=1 (no age term)": {"age_cap": 1.0},
}


def _score_file(args: tuple[Path, str, dict[str, Any]]) -> tuple[str, FloatArray]:
    data_dir, name, overrides = args
    series = load_series(data_dir, name)
    config = replace(StreamingConfig(), **overrides)
    return name, score_series(series.values, series.timestamps, config)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--nab", type=Path, default=Path("/work/shared/datasets/nab"))
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--only", nargs="*", default=None, help="variant names to run")
    args = parser.parse_args()
    data_dir = args.nab / "data"
    names = discover_files(data_dir)
    timestamps = {n: load_series(data_dir, n).timestamps for n in names}
    corpus = Corpus.build(timestamps, load_windows(args.nab / "labels" / "combined_windows.json"))
    profiles = load_profiles(args.nab / "config" / "profiles.json")
    rows = {}
    with ProcessPoolExecutor(args.workers) as pool:
        for label, overrides in VARIANTS.items():
            if args.only and label not in args.only:
                continue
            jobs = [(data_dir, n, overrides) for n in names]
            scores = dict(pool.map(_score_file, jobs))
            swept = evaluate(corpus, scores, profiles)
            fixed = evaluate(corpus, scores, profiles, threshold=0.5)
            rows[label] = {p: round(r.normalized, 2) for p, r in swept.items()}
            rows[label]["standard@0.5"] = round(fixed["standard"].normalized, 2)
            print(f"{label:<28}{json.dumps(rows[label])}", flush=True)


if __name__ == "__main__":
    main()
