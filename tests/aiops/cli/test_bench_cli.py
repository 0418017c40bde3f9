"""``aiops bench nab`` runs the NAB benchmark on any corpus laid out like NAB's."""

from __future__ import annotations

import json
from datetime import datetime, timedelta
from pathlib import Path

import numpy as np
from typer.testing import CliRunner

from aiops.cli.main import app


def _corpus(root: Path) -> tuple[Path, Path]:
    start = datetime(2024, 3, 1)
    stamps = [(start + timedelta(minutes=5 * i)).strftime("%Y-%m-%d %H:%M:%S") for i in range(600)]
    values = 50 + np.random.default_rng(1).normal(0, 1, 600)
    values[450] = 120
    data = root / "data" / "catA"
    data.mkdir(parents=True)
    rows = ["timestamp,value", *(f"{t},{v:.3f}" for t, v in zip(stamps, values, strict=True))]
    (data / "spike.csv").write_text("\n".join(rows) + "\n")
    labels = root / "combined_windows.json"
    window = [stamps[430] + ".000000", stamps[470] + ".000000"]
    labels.write_text(json.dumps({"catA/spike.csv": [window]}))
    return root / "data", labels


def test_bench_nab_writes_scores_and_ends_with_json_figures(tmp_path: Path) -> None:
    data, labels = _corpus(tmp_path)
    out = tmp_path / "reports" / "results.json"
    result = CliRunner().invoke(
        app, ["bench", "nab", "--data", str(data), "--labels", str(labels), "--out", str(out)]
    )
    assert result.exit_code == 0, result.output
    figures = json.loads(result.stdout.strip().splitlines()[-1])
    assert figures["files"] == 1 and figures["points"] == 600
    assert figures["standard_score"] > 50
    rows = (tmp_path / "reports" / "results" / "catA" / "spike.csv").read_text().splitlines()
    assert rows[0] == "timestamp,value,anomaly_score" and len(rows) == 601
    assert json.loads(out.read_text())
