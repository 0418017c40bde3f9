"""``aiops bench ...``: the benchmarks that ship with the service."""

from __future__ import annotations

from pathlib import Path

import typer

bench_app = typer.Typer(help="Benchmarks; each ends with one line of JSON figures.")


@bench_app.callback()
def _group() -> None:
    """Benchmarks of the service's components."""


@bench_app.command("nab")
def nab(
    data: Path = typer.Option(..., help="Folder of <category>/<file>.csv (NAB's layout)"),
    labels: Path = typer.Option(..., help="NAB's combined_windows.json"),
    out: Path = typer.Option(..., help="Report JSON; per-row scores go to a results folder"),
    profiles: Path | None = typer.Option(None, help="NAB profiles.json (cost matrices)"),
) -> None:
    """The anomaly detector on the Numenta Anomaly Benchmark: normalized scores for the three
    profiles (optimized and fixed thresholds) and throughput."""
    from platform_core.observability.nab.cli import main

    argv = ["--data", str(data), "--labels", str(labels), "--out", str(out)]
    if profiles is not None:
        argv += ["--profiles", str(profiles)]
    raise typer.Exit(main(argv))
