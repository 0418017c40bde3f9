"""Scoring a whole corpus: one detector's per-row scores for many files, every profile.

NAB picks one threshold per detector and profile for the whole corpus, so scoring needs all
files at once. :class:`Corpus` holds the layouts; :func:`evaluate` gives, per profile, the
normalized score at a given threshold and at the swept optimum.
"""

from __future__ import annotations

import csv
import gzip
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from platform_core.observability.nab.data import FloatArray, Profile, window_rows
from platform_core.observability.nab.scoring import (
    FileLayout,
    file_score,
    normalized,
    sweep,
)


@dataclass(frozen=True)
class Corpus:
    """Scoring layouts of a set of files, keyed by ``<category>/<file>.csv``."""

    layouts: Mapping[str, FileLayout]

    @classmethod
    def build(
        cls,
        timestamps: Mapping[str, tuple[str, ...]],
        windows: Mapping[str, list[tuple[str, str]]],
    ) -> Corpus:
        """Map every file's windows to rows; a file absent from the labels has no windows."""
        layouts = {
            name: FileLayout.build(len(ts), window_rows(ts, windows.get(name, [])))
            for name, ts in timestamps.items()
        }
        return cls(layouts)

    @property
    def n_windows(self) -> int:
        """Windows that count (those not wholly inside a probation period)."""
        return sum(len(lay.counted) for lay in self.layouts.values())

    def aligned(
        self, scores: Mapping[str, FloatArray]
    ) -> tuple[list[FloatArray], list[FileLayout]]:
        """Scores and layouts in the same (sorted-name) order; checks every file is present."""
        names = sorted(self.layouts)
        missing = [n for n in names if n not in scores]
        if missing:
            raise KeyError(f"no scores for {missing[:3]}")
        for n in names:
            if len(scores[n]) != self.layouts[n].n_rows:
                raise ValueError(f"{n}: {len(scores[n])} scores for {self.layouts[n].n_rows} rows")
        return [scores[n] for n in names], [self.layouts[n] for n in names]

    def raw_at(self, scores: Mapping[str, FloatArray], profile: Profile, threshold: float) -> float:
        """S(t): the sum of file scores at one corpus threshold."""
        sc, lays = self.aligned(scores)
        return sum(file_score(s, lay, profile, threshold) for s, lay in zip(sc, lays, strict=True))


@dataclass(frozen=True)
class ProfileResult:
    """Raw and normalized score of one profile at one threshold."""

    profile: str
    threshold: float
    raw: float
    normalized: float


def evaluate(
    corpus: Corpus,
    scores: Mapping[str, FloatArray],
    profiles: tuple[Profile, ...],
    *,
    threshold: float | None = None,
) -> dict[str, ProfileResult]:
    """Score every profile at ``threshold`` or, when it is None, at the swept optimum."""
    results: dict[str, ProfileResult] = {}
    for profile in profiles:
        if threshold is None:
            sc, lays = corpus.aligned(scores)
            best = sweep(sc, lays, profile)
            t, raw = best.threshold, best.raw
        else:
            t, raw = threshold, corpus.raw_at(scores, profile, threshold)
        results[profile.name] = ProfileResult(
            profile.name, t, raw, normalized(raw, corpus.n_windows, profile)
        )
    return results


def load_score_table(path: Path) -> dict[str, FloatArray]:
    """Read a ``file,timestamp,anomaly_score`` table (optionally gzipped), rows in order.

    This is the layout of the golden detector outputs shipped with the dataset.
    """
    opener = gzip.open if path.suffix == ".gz" else open
    columns: dict[str, list[float]] = {}
    with opener(path, "rt", newline="") as handle:
        for row in csv.DictReader(handle):
            columns.setdefault(row["file"], []).append(float(row["anomaly_score"]))
    return {name: np.asarray(vals, dtype=np.float64) for name, vals in columns.items()}
