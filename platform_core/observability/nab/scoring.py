"""The NAB scoring rules (v1.1), by row index, as written in the dataset's ``SCORING.md``.

Each scorable row gets a *value* if it is a detection: inside a window the scaled sigmoid of
its position rewards early detection (the first row of a window earns exactly ``A_TP``); a
window with no detection costs ``A_FN``; each detection outside every window is its own false
positive, cheaper just after a window ends (late but plausible) than far from one. Values are
linear in the profile weights, so :class:`FileLayout` computes the weight-free parts once and
every profile and threshold reuses them.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

from platform_core.observability.nab.data import FloatArray, Profile

IntArray = npt.NDArray[np.int64]

PROBATION_FRACTION = 0.15
PROBATION_MAX_ROWS = 750
NOTHING_THRESHOLD = 1.1
"""Threshold that detects nothing (scores live in [0, 1])."""


def scaled_sigmoid(x: float) -> float:
    """NAB's A(x) = 2 / (1 + e^(5x)) - 1, clamped to -1 beyond x = 3."""
    if x > 3.0:
        return -1.0
    return 2.0 / (1.0 + math.exp(5.0 * x)) - 1.0


def probation_rows(n_rows: int) -> int:
    """Rows before this index are never scored: min(floor(0.15 N), 750)."""
    return min(math.floor(PROBATION_FRACTION * n_rows), PROBATION_MAX_ROWS)


_A_MINUS_ONE = scaled_sigmoid(-1.0)


@dataclass(frozen=True)
class FileLayout:
    """Weight-free scoring geometry of one file's scorable rows (rows ``probation..N-1``).

    ``window_id[j]`` is the index (into ``windows``) of the window holding scorable row
    ``probation + j``, or -1. ``tp_unit`` is the reward of a detection there for ``A_TP = 1``;
    ``fp_unit`` the (negative) value of a detection outside windows for ``A_FP = 1``.
    ``counted`` lists the windows not wholly inside probation (the others contribute nothing).
    """

    n_rows: int
    probation: int
    windows: tuple[tuple[int, int], ...]
    window_id: IntArray
    tp_unit: FloatArray
    fp_unit: FloatArray
    counted: tuple[int, ...]

    @classmethod
    def build(cls, n_rows: int, windows: list[tuple[int, int]]) -> FileLayout:
        """Compute per-row window membership and unit values for a file of ``n_rows`` rows."""
        probation = probation_rows(n_rows)
        ordered = tuple(sorted(windows))
        window_id = np.full(n_rows, -1, dtype=np.int64)
        tp_unit = np.zeros(n_rows, dtype=np.float64)
        fp_unit = np.full(n_rows, -1.0, dtype=np.float64)
        for k, (a, b) in enumerate(ordered):
            width = b - a + 1
            window_id[a : b + 1] = k
            for i in range(a, b + 1):
                tp_unit[i] = scaled_sigmoid(-(b - i + 1) / width) / _A_MINUS_ONE
        _fill_after_window_fp(fp_unit, window_id, ordered)
        counted = tuple(k for k, (_, b) in enumerate(ordered) if b >= probation)
        sl = slice(probation, n_rows)
        return cls(n_rows, probation, ordered, window_id[sl], tp_unit[sl], fp_unit[sl], counted)

    def row_values(self, profile: Profile) -> FloatArray:
        """Value of a detection on each scorable row under ``profile``."""
        inside = self.window_id >= 0
        return np.where(inside, profile.tp_weight * self.tp_unit, profile.fp_weight * self.fp_unit)


def _fill_after_window_fp(
    fp_unit: FloatArray, window_id: IntArray, windows: tuple[tuple[int, int], ...]
) -> None:
    """Outside windows after window k: A((i - b_k) / (w_k - 1)); before any window: -1."""
    for k, (a, b) in enumerate(windows):
        width = b - a + 1
        stop = windows[k + 1][0] if k + 1 < len(windows) else len(fp_unit)
        for i in range(b + 1, stop):
            if window_id[i] < 0:
                fp_unit[i] = scaled_sigmoid((i - b) / (width - 1)) if width > 1 else -1.0


def file_score(scores: FloatArray, layout: FileLayout, profile: Profile, threshold: float) -> float:
    """S_f(t): best detection per counted window (or -A_FN) plus every outside detection."""
    scorable = np.asarray(scores, dtype=np.float64)[layout.probation :]
    detected = scorable >= threshold
    values = layout.row_values(profile)
    total = float(values[detected & (layout.window_id < 0)].sum())
    for k in layout.counted:
        hits = detected & (layout.window_id == k)
        total += float(values[hits].max()) if hits.any() else -profile.fn_weight
    return total


def file_outcome(scores: FloatArray, layout: FileLayout, threshold: float) -> tuple[int, int]:
    """(windows with at least one detection, detections outside every window) at ``threshold``."""
    detected = np.asarray(scores, dtype=np.float64)[layout.probation :] >= threshold
    hits = sum(1 for k in layout.counted if (detected & (layout.window_id == k)).any())
    return hits, int((detected & (layout.window_id < 0)).sum())


@dataclass(frozen=True)
class SweepResult:
    """The corpus-wide best threshold for one profile and its raw score S(t*)."""

    threshold: float
    raw: float


def sweep(scores: list[FloatArray], layouts: list[FileLayout], profile: Profile) -> SweepResult:
    """Find the threshold maximising S(t) over every distinct scorable score, plus 1.1.

    All scorable rows of all files are walked in descending score order: a row inside window
    k lifts that window's part to max(part, v), a row outside adds v. S is recorded at the
    end of each group of equal scores; ties in S keep the higher threshold.
    """
    s_parts, win_parts, v_parts = [], [], []
    n_windows = 0
    for sc, lay in zip(scores, layouts, strict=True):
        s_parts.append(np.asarray(sc, dtype=np.float64)[lay.probation :])
        gid = np.where(lay.window_id >= 0, lay.window_id + n_windows, -1)
        win_parts.append(gid)
        v_parts.append(lay.row_values(profile))
        n_windows += len(lay.windows)
    start = -profile.fn_weight * sum(len(lay.counted) for lay in layouts)
    if not s_parts or sum(len(p) for p in s_parts) == 0:
        return SweepResult(NOTHING_THRESHOLD, start)
    s = np.concatenate(s_parts)
    order = np.argsort(-s, kind="stable")
    s_sorted = s[order]
    win = np.concatenate(win_parts)[order]
    gain = _sweep_gains(np.concatenate(v_parts)[order], win, profile.fn_weight)
    totals = start + np.cumsum(gain)
    group_end = np.flatnonzero(np.append(s_sorted[1:] != s_sorted[:-1], True))
    cand_t = np.concatenate(([NOTHING_THRESHOLD], s_sorted[group_end]))
    cand_s = np.concatenate(([start], totals[group_end]))
    best = int(np.argmax(cand_s))  # first maximum = highest threshold among ties
    return SweepResult(float(cand_t[best]), float(cand_s[best]))


def _sweep_gains(values: FloatArray, win: IntArray, fn_weight: float) -> FloatArray:
    """Per-row change of S when the row becomes a detection, in sweep order."""
    gain = np.where(win < 0, values, 0.0)
    for k in np.unique(win[win >= 0]):
        idx = np.flatnonzero(win == k)
        best = np.maximum.accumulate(np.maximum(values[idx], -fn_weight))
        gain[idx] = np.diff(best, prepend=-fn_weight)
    return gain


def normalized(raw: float, n_windows: int, profile: Profile) -> float:
    """100 * (S - S_null) / (S_perfect - S_null); 0 = never detect, 100 = perfect."""
    null = -profile.fn_weight * n_windows
    perfect = profile.tp_weight * n_windows
    if perfect == null:
        return 0.0
    return 100.0 * (raw - null) / (perfect - null)
