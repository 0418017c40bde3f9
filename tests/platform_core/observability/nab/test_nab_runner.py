"""The benchmark runner on a small synthetic NAB-style corpus, the CLI, and the real corpus."""

from __future__ import annotations

import csv
import json
import math
from datetime import datetime, timedelta
from pathlib import Path

import numpy as np
import pytest

from platform_core.observability.anomaly.streaming import score_series
from platform_core.observability.nab.cli import main
from platform_core.observability.nab.corpus import Corpus, evaluate
from platform_core.observability.nab.data import load_profiles, load_series, load_windows
from platform_core.observability.nab.runner import run_nab_benchmark

START = datetime(2024, 3, 1)


def _ts(i: int) -> str:
    return (START + timedelta(minutes=5 * i)).strftime("%Y-%m-%d %H:%M:%S")


def _write_series(path: Path, values: np.ndarray) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("w", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(["timestamp", "value"])
        for i, v in enumerate(values):
            writer.writerow([_ts(i), f"{v:.4f}"])


def _window(a: int, b: int) -> list[str]:
    return [_ts(a) + ".000000", _ts(b) + ".000000"]


@pytest.fixture
def mini_nab(tmp_path: Path) -> Path:
    """Two categories, three files, two labelled anomalies, NAB's folder layout."""
    rng = np.random.default_rng(3)
    n = 900
    daily = 10 * np.sin(2 * np.pi * np.arange(n) / 288)
    spike = 50 + daily + rng.normal(0, 1, n)
    spike[700] = 140.0
    quiet = 50 + daily + rng.normal(0, 1, n)
    shift = 20 + rng.normal(0, 0.5, n)
    shift[600:] += 15.0
    root = tmp_path / "nab"
    _write_series(root / "data" / "catA" / "spike.csv", spike)
    _write_series(root / "data" / "catA" / "quiet.csv", quiet)
    _write_series(root / "data" / "catB" / "shift.csv", shift)
    labels = {
        "catA/spike.csv": [_window(660, 740)],
        "catA/quiet.csv": [],
        "catB/shift.csv": [_window(560, 640)],
    }
    (root / "labels").mkdir()
    (root / "labels" / "combined_windows.json").write_text(json.dumps(labels))
    profiles = {
        "standard": {"CostMatrix": {"tpWeight": 1.0, "fnWeight": 1.0, "fpWeight": 0.11}},
        "strict": {"CostMatrix": {"tpWeight": 1.0, "fnWeight": 1.0, "fpWeight": 1.0}},
    }
    (root / "config").mkdir()
    (root / "config" / "profiles.json").write_text(json.dumps(profiles))
    return root


def test_runner_writes_scores_and_report(mini_nab: Path, tmp_path: Path) -> None:
    out = tmp_path / "run" / "results.json"
    calls: list[tuple[int, int, str]] = []
    report = run_nab_benchmark(
        mini_nab / "data",
        mini_nab / "labels" / "combined_windows.json",
        out,
        progress=lambda d, t, name: calls.append((d, t, name)),
    )
    assert [c[:2] for c in calls] == [(1, 3), (2, 3), (3, 3)]
    assert (report.files, report.points, report.windows) == (3, 2700, 2)
    # profiles.json was found next to the labels (../config) and used as is
    assert set(report.optimized) == set(report.fixed) == {"standard", "strict"}
    assert report.fixed_threshold == 0.5
    assert report.throughput_points_per_s > 0
    # both planted anomalies are found at the corpus-optimal threshold, without false alarms
    assert report.categories["catA"].detected_windows == 1
    assert report.categories["catB"].detected_windows == 1
    assert report.optimized["standard"].normalized > 80.0

    body = json.loads(out.read_text())
    assert body["figures"]["files"] == 3
    assert body["optimized"]["standard"]["normalized"] == pytest.approx(
        report.optimized["standard"].normalized
    )

    written = out.parent / "results" / "catA" / "spike.csv"
    with written.open() as handle:
        rows = list(csv.DictReader(handle))
    source = load_series(mini_nab / "data", "catA/spike.csv")
    assert [r["timestamp"] for r in rows] == list(source.timestamps)
    assert all(0.0 <= float(r["anomaly_score"]) <= 1.0 for r in rows)


def test_written_scores_reproduce_the_report(mini_nab: Path, tmp_path: Path) -> None:
    out = tmp_path / "results.json"
    labels = mini_nab / "labels" / "combined_windows.json"
    report = run_nab_benchmark(mini_nab / "data", labels, out)
    scores, stamps = {}, {}
    for name in ("catA/spike.csv", "catA/quiet.csv", "catB/shift.csv"):
        with (out.parent / "results" / name).open() as handle:
            rows = list(csv.DictReader(handle))
        scores[name] = np.array([float(r["anomaly_score"]) for r in rows])
        stamps[name] = tuple(r["timestamp"] for r in rows)
    corpus = Corpus.build(stamps, load_windows(labels))
    again = evaluate(corpus, scores, load_profiles(mini_nab / "config" / "profiles.json"))
    for name, res in report.optimized.items():
        assert again[name].normalized == pytest.approx(res.normalized, abs=1e-12)


def test_cli_prints_table_then_one_json_line(
    mini_nab: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    code = main(
        [
            "--data", str(mini_nab / "data"),
            "--labels", str(mini_nab / "labels" / "combined_windows.json"),
            "--out", str(tmp_path / "r.json"),
        ]
    )  # fmt: skip
    assert code == 0
    lines = capsys.readouterr().out.strip().splitlines()
    assert lines[2].split()[0] == "profile" and lines[3].split()[0] == "standard"
    figures = json.loads(lines[-1])
    for key in ("standard_score", "reward_low_fp_score", "reward_low_fn_score"):
        assert key in figures
    assert math.isnan(figures["reward_low_fp_score"])  # that profile is not in this config
    assert figures["throughput_points_per_s"] > 0 and figures["wall_s"] > 0


@pytest.mark.slow
def test_full_nab_standard_score_beats_published_record(nab_root: Path, tmp_path: Path) -> None:
    """Regression guard on the real 48-file corpus (about 10 s).

    Published on this subset: Numenta HTM 70.93, ARTime 72.08 (standard profile).
    """
    report = run_nab_benchmark(
        nab_root / "data", nab_root / "labels" / "combined_windows.json", tmp_path / "r.json"
    )
    assert report.points == 206927
    assert report.optimized["standard"].normalized > 72.08
    assert report.fixed["standard"].normalized > 70.0


def test_detector_is_causal_on_a_real_nab_file(nab_root: Path) -> None:
    """Scores of a prefix equal the full run's scores on that prefix (no look-ahead)."""
    series = load_series(nab_root / "data", "realTraffic/speed_7578.csv")
    full = score_series(series.values, series.timestamps)
    for cut in (100, 303, 317, 740, 1000):
        prefix = score_series(series.values[:cut], series.timestamps[:cut])
        np.testing.assert_array_equal(prefix, full[:cut])
