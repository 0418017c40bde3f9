"""Loading NAB series, anomaly windows and cost profiles.

NAB scores rows by *position*: the files contain repeated and irregular timestamps, so nothing
here sorts, resamples or de-duplicates. Timestamps are kept as the literal strings of the CSV
because window boundaries are matched to rows by exact timestamp text.
"""

from __future__ import annotations

import csv
import json
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import numpy.typing as npt

FloatArray = npt.NDArray[np.float64]


@dataclass(frozen=True)
class Profile:
    """A NAB cost profile: weights of a true positive, a false positive and a false negative."""

    name: str
    tp_weight: float
    fp_weight: float
    fn_weight: float


STANDARD_PROFILES: tuple[Profile, ...] = (
    Profile("standard", 1.0, 0.11, 1.0),
    Profile("reward_low_FP_rate", 1.0, 0.22, 1.0),
    Profile("reward_low_FN_rate", 1.0, 0.11, 2.0),
)
"""The three NAB v1.1 profiles, used when no ``profiles.json`` is available."""


@dataclass(frozen=True)
class NabSeries:
    """One NAB file: ``name`` is ``<category>/<file>.csv``; rows in CSV order."""

    name: str
    timestamps: tuple[str, ...]
    values: FloatArray

    @property
    def category(self) -> str:
        """The folder the file lives in (NAB's data category)."""
        return self.name.split("/", 1)[0] if "/" in self.name else ""


def discover_files(data_dir: Path) -> list[str]:
    """Return ``<category>/<file>.csv`` names of every CSV one level below ``data_dir``, sorted."""
    return sorted(p.relative_to(data_dir).as_posix() for p in data_dir.glob("*/*.csv"))


def load_series(data_dir: Path, name: str) -> NabSeries:
    """Read a ``timestamp,value`` CSV exactly as stored (no sorting or de-duplication)."""
    timestamps: list[str] = []
    values: list[float] = []
    with (data_dir / name).open(newline="") as handle:
        reader = csv.reader(handle)
        header = next(reader, None)
        if header is None:
            raise ValueError(f"{name}: empty file")
        ts_col, value_col = _column_indices(header, name)
        for row in reader:
            if not row:
                continue
            timestamps.append(row[ts_col].strip())
            values.append(float(row[value_col]))
    return NabSeries(name, tuple(timestamps), np.asarray(values, dtype=np.float64))


def _column_indices(header: list[str], name: str) -> tuple[int, int]:
    """Locate the timestamp and value columns by header name."""
    cols = [h.strip().lower() for h in header]
    try:
        return cols.index("timestamp"), cols.index("value")
    except ValueError as exc:
        raise ValueError(f"{name}: expected 'timestamp' and 'value' columns, got {header}") from exc


def load_windows(labels_file: Path) -> dict[str, list[tuple[str, str]]]:
    """Read ``combined_windows.json``: file name -> list of ``(start, end)`` timestamp strings."""
    raw = json.loads(labels_file.read_text())
    return {name: [(str(w[0]), str(w[1])) for w in wins] for name, wins in raw.items()}


def load_profiles(profiles_file: Path | None) -> tuple[Profile, ...]:
    """Read NAB's ``profiles.json`` (the TN weight is unused); default to the v1.1 profiles."""
    if profiles_file is None:
        return STANDARD_PROFILES
    raw = json.loads(profiles_file.read_text())
    profiles = []
    for name, body in raw.items():
        cost = body["CostMatrix"]
        profiles.append(
            Profile(name, float(cost["tpWeight"]), float(cost["fpWeight"]), float(cost["fnWeight"]))
        )
    return tuple(profiles)


def _strip_fraction(timestamp: str) -> str:
    """NAB window boundaries carry ``.ffffff``; data rows do not. Drop the fraction."""
    return timestamp.strip().split(".", 1)[0]


def window_rows(
    timestamps: tuple[str, ...], windows: list[tuple[str, str]]
) -> list[tuple[int, int]]:
    """Map each window's boundary timestamps to the first row holding exactly that timestamp.

    Returns inclusive ``(first_row, last_row)`` pairs in file order. A boundary that matches no
    row is an error: silently shifting a window would change every score.
    """
    first_row: dict[str, int] = {}
    for i, ts in enumerate(timestamps):
        first_row.setdefault(_strip_fraction(ts), i)
    rows = []
    for start, end in windows:
        a = first_row.get(_strip_fraction(start))
        b = first_row.get(_strip_fraction(end))
        if a is None or b is None:
            raise ValueError(f"window ({start}, {end}) does not match any row timestamp")
        if b < a:
            raise ValueError(f"window ({start}, {end}) ends before it starts")
        rows.append((a, b))
    return sorted(rows)
