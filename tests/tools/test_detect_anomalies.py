"""detect_anomalies: the monitor's detectors over the metric store, or over the cluster."""

from __future__ import annotations

from datetime import timedelta

import pytest

from platform_core.db import Database
from platform_core.observability.ingest import MetricIngestor
from platform_core.observability.store import MetricStore
from platform_core.observability.twin_bench.runner import World, make_world
from tests.tools.conftest import tool_call
from tools.observability import MAIN_METRICS, AnomalyArgs, detect_anomalies


@pytest.fixture(scope="module")
async def faulty(metric_store: MetricStore) -> World:
    """26 h of history for api in the store, then an error spike for its last 3 minutes."""
    world = await make_world(31, "tool-anomalies")
    await world.twin.advance(26 * 3600)
    world.twin.inject_fault(world.workspace, "app", "api", "error_spike")
    await world.twin.advance(3 * 60)
    ingest = MetricIngestor(world.twin, metric_store, lookback=timedelta(hours=27))
    await ingest.ingest(world.app("api"), world.workspace)
    return world


async def test_an_error_spike_is_explained_from_the_metric_store(
    faulty: World, metric_store: MetricStore, unused_database: Database
) -> None:
    ctx, target = tool_call(faulty, metric_store, unused_database)

    result = await detect_anomalies.run(ctx, AnomalyArgs(application="api", minutes=60), target)

    assert result.status == "ok"
    assert "from the metric store" in result.summary
    assert "error_rate" in result.summary and "expected" in result.summary
    errors = [a for a in result.data["anomalies"] if a["metric"] == "error_rate"]
    assert errors and errors[0]["observed"] > errors[0]["expected"][1]
    assert errors[0]["since"] is not None and errors[0]["reason"]
    series = {s["metric"]: s for s in result.data["series"]}
    assert set(series) == set(MAIN_METRICS)
    points = series["error_rate"]["points"]
    assert 58 <= len(points) <= 61  # the last hour, a point a minute
    assert result.data["point_format"] == ["timestamp", "value", "anomaly_score"]
    assert max(score for _, _, score in points[-3:]) >= 0.5
    assert max(score for _, _, score in points[:-4]) < 0.5


async def test_without_stored_data_the_cluster_answers(
    faulty: World, metric_store: MetricStore, unused_database: Database
) -> None:
    ctx, target = tool_call(faulty, metric_store, unused_database)
    args = AnomalyArgs(application="web", minutes=60)

    result = await detect_anomalies.run(ctx, args, target)
    direct = await detect_anomalies.run(tool_call(faulty, None, unused_database)[0], args, target)

    assert result.status == direct.status == "no_data"  # healthy
    assert "from the cluster" in result.summary
    assert result.note is not None and "no data" in result.note
    assert direct.note is None
    assert result.data["series"] == direct.data["series"]
    assert len(result.data["series"][0]["points"]) >= 58
