"""Run a detector over a NAB-style corpus, write per-row scores, score every profile.

Used by ``aiops bench nab --data DIR --labels FILE --out results.json``. The corpus is any set
of ``<category>/<file>.csv`` files under ``DIR``; files absent from the labels have no windows.
Each file gets a fresh detector (NAB semantics: one stream per file), the detector sees rows in
file order and its scores are written to ``results/<category>/<file>.csv`` next to ``--out``.

Two result families are reported: NAB's usual one, at the threshold the sweep finds best for
each profile (optimistic: tuned on the labels), and one at a fixed, documented threshold that
is the detector's designed alert level (``DEFAULT_FIXED_THRESHOLD``), which is what a
deployment would actually run with.
"""

from __future__ import annotations

import csv
import json
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass, field, replace
from pathlib import Path
from typing import Any

from platform_core.observability.anomaly.streaming import StreamingConfig, score_series
from platform_core.observability.nab.corpus import Corpus, ProfileResult, evaluate
from platform_core.observability.nab.data import (
    FloatArray,
    NabSeries,
    Profile,
    discover_files,
    load_profiles,
    load_series,
    load_windows,
)
from platform_core.observability.nab.scoring import file_outcome, file_score, normalized

DEFAULT_FIXED_THRESHOLD = 0.5
"""The streaming detector's alert level (``StreamingConfig.alert_threshold``); not tuned per run."""

SeriesScorer = Callable[[NabSeries], FloatArray]
ProgressCallback = Callable[[int, int, str], None]


def streaming_scorer(config: StreamingConfig | None = None) -> SeriesScorer:
    """The default detector: a fresh :class:`StreamingAnomalyDetector` per file."""

    def run(series: NabSeries) -> FloatArray:
        return score_series(series.values, series.timestamps, config)

    return run


@dataclass(frozen=True)
class CategoryResult:
    """Standard-profile outcome of one data category at the corpus-optimal threshold."""

    files: int
    points: int
    windows: int
    detected_windows: int
    false_positives: int
    raw: float
    normalized: float | None


@dataclass(frozen=True)
class NabReport:
    """Everything the benchmark measured; ``to_dict`` is what ``--out`` receives."""

    detector: str
    files: int
    points: int
    windows: int
    optimized: dict[str, ProfileResult]
    fixed_threshold: float
    fixed: dict[str, ProfileResult]
    detector_seconds: float
    wall_seconds: float
    results_dir: str
    categories: dict[str, CategoryResult] = field(default_factory=dict)
    unlabelled_files: list[str] = field(default_factory=list)

    @property
    def throughput_points_per_s(self) -> float:
        """Points scored per second of detector time (I/O and scoring excluded)."""
        return self.points / self.detector_seconds if self.detector_seconds > 0 else 0.0

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready form of the report."""
        body = asdict(self)
        body["throughput_points_per_s"] = self.throughput_points_per_s
        body["figures"] = figures(self)
        return body


def run_nab_benchmark(
    data_dir: Path,
    labels_file: Path,
    out: Path,
    *,
    profiles_file: Path | None = None,
    progress: ProgressCallback | None = None,
    scorer: SeriesScorer | None = None,
    detector_name: str = "hexabase-streaming",
    fixed_threshold: float = DEFAULT_FIXED_THRESHOLD,
) -> NabReport:
    """Score every ``<category>/<file>.csv`` under ``data_dir`` and write the report to ``out``.

    ``profiles_file`` defaults to ``../config/profiles.json`` relative to the labels file (NAB's
    layout), then to the built-in v1.1 profiles. ``progress(done, total, name)`` is called after
    each file. Per-row scores go to ``out.parent / "results"``.
    """
    started = time.perf_counter()
    names = discover_files(data_dir)
    if not names:
        raise FileNotFoundError(f"no <category>/<file>.csv under {data_dir}")
    profiles = load_profiles(_profiles_path(labels_file, profiles_file))
    windows = load_windows(labels_file)
    results_dir = out.parent / "results"
    run = _RunResult.collect(data_dir, names, scorer or streaming_scorer(), results_dir, progress)
    corpus = Corpus.build(run.timestamps, windows)
    optimized = evaluate(corpus, run.scores, profiles)
    report = NabReport(
        detector=detector_name,
        files=len(names),
        points=sum(len(s) for s in run.scores.values()),
        windows=corpus.n_windows,
        optimized=optimized,
        fixed_threshold=fixed_threshold,
        fixed=evaluate(corpus, run.scores, profiles, threshold=fixed_threshold),
        detector_seconds=run.detector_seconds,
        wall_seconds=0.0,
        results_dir=str(results_dir),
        categories=_categories(corpus, run.scores, profiles, optimized),
        unlabelled_files=[n for n in names if n not in windows],
    )
    report = replace(report, wall_seconds=time.perf_counter() - started)
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(report.to_dict(), indent=2) + "\n")
    return report


@dataclass
class _RunResult:
    """Per-file scores and timestamps of one detector run, and the time spent detecting."""

    scores: dict[str, FloatArray]
    timestamps: dict[str, tuple[str, ...]]
    detector_seconds: float

    @classmethod
    def collect(
        cls,
        data_dir: Path,
        names: list[str],
        run: SeriesScorer,
        results_dir: Path,
        progress: ProgressCallback | None,
    ) -> _RunResult:
        """Score each file with a fresh detector, writing its per-row scores as we go."""
        result = cls({}, {}, 0.0)
        for done, name in enumerate(names, start=1):
            series = load_series(data_dir, name)
            tick = time.perf_counter()
            scores = run(series)
            result.detector_seconds += time.perf_counter() - tick
            _write_scores(results_dir / name, series, scores)
            result.scores[name] = scores
            result.timestamps[name] = series.timestamps
            if progress is not None:
                progress(done, len(names), name)
        return result


def _profiles_path(labels_file: Path, profiles_file: Path | None) -> Path | None:
    if profiles_file is not None:
        return profiles_file
    candidate = labels_file.parent.parent / "config" / "profiles.json"
    return candidate if candidate.exists() else None


def _write_scores(path: Path, series: NabSeries, scores: FloatArray) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("w", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(["timestamp", "value", "anomaly_score"])
        for ts, value, score in zip(series.timestamps, series.values, scores, strict=True):
            writer.writerow([ts, repr(float(value)), repr(float(score))])


def _categories(
    corpus: Corpus,
    scores: dict[str, FloatArray],
    profiles: tuple[Profile, ...],
    optimized: dict[str, ProfileResult],
) -> dict[str, CategoryResult]:
    """Per-category standard-profile figures at the corpus-wide optimal threshold."""
    profile = next((p for p in profiles if p.name == "standard"), profiles[0])
    threshold = optimized[profile.name].threshold
    grouped: dict[str, list[str]] = {}
    for name in corpus.layouts:
        grouped.setdefault(name.split("/", 1)[0], []).append(name)
    out: dict[str, CategoryResult] = {}
    for category, names in sorted(grouped.items()):
        lays = [corpus.layouts[n] for n in names]
        raw = sum(file_score(scores[n], corpus.layouts[n], profile, threshold) for n in names)
        outcomes = [file_outcome(scores[n], corpus.layouts[n], threshold) for n in names]
        n_windows = sum(len(lay.counted) for lay in lays)
        out[category] = CategoryResult(
            files=len(names),
            points=sum(lay.n_rows for lay in lays),
            windows=n_windows,
            detected_windows=sum(o[0] for o in outcomes),
            false_positives=sum(o[1] for o in outcomes),
            raw=raw,
            normalized=normalized(raw, n_windows, profile) if n_windows else None,
        )
    return out


def figures(report: NabReport) -> dict[str, float | int]:
    """The headline numbers, keys carrying their units, for one-line machine-readable output."""
    opt, fix = report.optimized, report.fixed

    def pick(results: dict[str, ProfileResult], name: str) -> float:
        return round(results[name].normalized, 3) if name in results else float("nan")

    return {
        "standard_score": pick(opt, "standard"),
        "reward_low_fp_score": pick(opt, "reward_low_FP_rate"),
        "reward_low_fn_score": pick(opt, "reward_low_FN_rate"),
        "standard_fixed_score": pick(fix, "standard"),
        "reward_low_fp_fixed_score": pick(fix, "reward_low_FP_rate"),
        "reward_low_fn_fixed_score": pick(fix, "reward_low_FN_rate"),
        "fixed_threshold": report.fixed_threshold,
        "standard_threshold": round(opt["standard"].threshold, 6) if "standard" in opt else -1.0,
        "files": report.files,
        "points": report.points,
        "throughput_points_per_s": round(report.throughput_points_per_s, 1),
        "detector_s": round(report.detector_seconds, 3),
        "wall_s": round(report.wall_seconds, 3),
    }
