"""Human-facing entry point for the NAB benchmark (the only place here that prints).

``main`` backs ``aiops bench nab`` and ``python -m platform_core.observability.nab``: it runs
:func:`run_nab_benchmark`, prints a table, and ends with ONE line holding a JSON object of the
headline figures (keys carry units) so scripts can parse the last line.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from collections.abc import Sequence
from pathlib import Path
from typing import TextIO

from platform_core.observability.nab.runner import NabReport, figures, run_nab_benchmark


def format_report(report: NabReport) -> str:
    """A plain-text table of the report (profiles, categories, speed)."""
    fixed_head = f"fixed@{report.fixed_threshold:g}"
    lines = [
        f"NAB benchmark - detector {report.detector}: {report.files} files, "
        f"{report.points} points, {report.windows} windows",
        "",
        f"{'profile':<22}{'optimized':>11}{'threshold':>11}{fixed_head:>12}",
    ]
    for name, res in report.optimized.items():
        fixed = report.fixed.get(name)
        fixed_txt = f"{fixed.normalized:12.2f}" if fixed else f"{'-':>12}"
        lines.append(f"{name:<22}{res.normalized:11.2f}{res.threshold:11.4f}{fixed_txt}")
    if report.categories:
        lines += [
            "",
            f"{'category (standard)':<26}{'files':>6}{'windows':>8}{'hit':>5}{'FP':>5}{'score':>8}",
        ]
        for cat, cres in report.categories.items():
            score = f"{cres.normalized:8.2f}" if cres.normalized is not None else f"{'-':>8}"
            lines.append(
                f"{cat:<26}{cres.files:6d}{cres.windows:8d}{cres.detected_windows:5d}"
                f"{cres.false_positives:5d}{score}"
            )
    lines += [
        "",
        f"throughput {report.throughput_points_per_s:,.0f} points/s "
        f"(detector {report.detector_seconds:.2f} s, wall {report.wall_seconds:.2f} s)",
        f"per-row scores: {report.results_dir}",
    ]
    if report.unlabelled_files:
        lines.append(f"warning: {len(report.unlabelled_files)} file(s) have no labels entry")
    return "\n".join(lines)


class ProgressBar:
    """Files done, as a bar redrawn in place on a terminal (one line per file otherwise)."""

    def __init__(self, stream: TextIO | None = None, width: int = 30) -> None:
        self.stream = stream or sys.stderr
        self.width = width
        self.started = time.perf_counter()
        self.tty = bool(getattr(self.stream, "isatty", lambda: False)())

    def __call__(self, done: int, total: int, name: str) -> None:
        filled = int(self.width * done / max(total, 1))
        elapsed = time.perf_counter() - self.started
        left = elapsed / max(done, 1) * (total - done)
        bar = "#" * filled + "." * (self.width - filled)
        line = f"[{bar}] {done}/{total} {elapsed:5.1f}s eta {left:5.1f}s  {name}"
        if self.tty:
            self.stream.write("\r\033[K" + line[:160] + ("\n" if done == total else ""))
        else:
            self.stream.write(line + "\n")
        self.stream.flush()


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="aiops bench nab", description=__doc__)
    parser.add_argument("--data", type=Path, required=True, help="folder of <category>/<file>.csv")
    parser.add_argument("--labels", type=Path, required=True, help="combined_windows.json")
    parser.add_argument("--out", type=Path, required=True, help="report JSON path")
    parser.add_argument("--profiles", type=Path, default=None, help="profiles.json")
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Run the benchmark, print the table and the final one-line JSON of figures."""
    args = _parser().parse_args(argv)

    report = run_nab_benchmark(
        args.data, args.labels, args.out, profiles_file=args.profiles, progress=ProgressBar()
    )
    print(format_report(report))
    print(json.dumps(figures(report)))
    return 0
