"""Human-facing entry point of the twin measurements (the only module here that prints).

Ends with ONE line holding a JSON object of the headline figures, so scripts can parse it.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import tempfile
from collections.abc import Sequence
from typing import Any

from platform_core.observability.store import MetricStore
from platform_core.observability.twin_bench import runner


async def _run(seed: int, quick: bool, url: str) -> dict[str, Any]:
    store = MetricStore.from_url(url)
    figures: dict[str, Any] = {}
    try:
        report = await runner.store_performance(store, seed=seed, copies=3 if quick else 10)
        rate = report.points / report.ingest_seconds
        print(
            f"store: {report.apps} apps, {report.points} points ingested in "
            f"{report.ingest_seconds:.2f} s ({rate:,.0f} points/s)"
        )
        for name, ms in report.read_ms.items():
            print(f"  read {name}: {ms:.1f} ms")
        print(
            f"  monitor: warm-up (24 h replay) {report.observe_warmup_ms:.0f} ms, "
            f"tick {report.observe_tick_ms:.1f} ms"
        )
        figures["ingest_points_per_s"] = round(rate)
        figures["read_ms"] = {k: round(v, 1) for k, v in report.read_ms.items()}
        figures["observe_warmup_ms"] = round(report.observe_warmup_ms)

        hours = 6 if quick else 24
        alarms = await runner.false_alarms(store, seed=seed, hours=hours)
        print(
            f"false alarms, {alarms.apps} healthy apps x {alarms.hours:g} h after 3 h of history "
            f"({alarms.points} points/metric, {alarms.seconds:.0f} s):"
        )
        for name, count in (("gated (default)", alarms.gated), ("ungated", alarms.ungated)):
            print(
                f"  {name}: {count.alarms} alarms, {count.episodes} episodes "
                f"{dict(count.by_metric)}"
            )
        print(f"  anomalous for a minute or more at the latest point: {alarms.confirmed} ticks")
        figures["false_alarms"] = {"gated": alarms.gated.alarms, "ungated": alarms.ungated.alarms}
        figures["false_confirmed_ticks"] = alarms.confirmed
        figures["false_episodes"] = {
            "gated": alarms.gated.episodes,
            "ungated": alarms.ungated.episodes,
        }

        delays: dict[str, Any] = {}
        for history in (27.0, 3.0):
            print(f"detection delay after {history:g} h of history (fault on api, 1-min ticks):")
            for fault, params in runner.FAULTS:
                result = await runner.detection_delay(
                    store, fault, params, seed=seed, history_hours=history
                )
                shown = (
                    f"{result.first_seconds} s via {result.first_metric}"
                    if result.first_seconds is not None
                    else "not detected in 60 min"
                )
                print(f"  {result.fault:<26} {shown}  {result.by_metric}")
                delays[f"{result.fault}@{history:g}h"] = result.first_seconds
        figures["delay_s"] = delays

        for fc in await runner.forecast_accuracy(seed=seed, origins=6 if quick else 24):
            print(
                f"forecast {fc.metric} +{fc.horizon_minutes} min over {fc.origins} origins: "
                f"MAE {fc.mae_model:.4g} vs naive {fc.mae_naive:.4g}; "
                f"{fc.level:.0%} interval covered {fc.coverage:.0%} ({fc.model})"
            )
            figures[f"forecast_mae_{fc.metric}"] = {
                "model": round(fc.mae_model, 4),
                "naive": round(fc.mae_naive, 4),
            }
    finally:
        await store.close()
    return figures


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--quick", action="store_true", help="smaller, faster runs")
    parser.add_argument("--clickhouse-url", help="default: a temporary chDB directory")
    args = parser.parse_args(argv)
    with tempfile.TemporaryDirectory(prefix="twin-bench-") as tmp:
        url = args.clickhouse_url or f"chdb://{tmp}"
        figures = asyncio.run(_run(args.seed, args.quick, url))
    print(json.dumps(figures))
    return 0
