"""forecast_load and recommend_rightsizing on twin history, from the store and from the cluster."""

from __future__ import annotations

from datetime import timedelta

import pytest

from platform_core.cluster.schemas import ResourceList, ResourceRequirements
from platform_core.db import Database
from platform_core.observability.ingest import MetricIngestor
from platform_core.observability.store import MetricStore
from platform_core.observability.twin_bench.runner import World, make_world
from tests.tools.conftest import tool_call
from tools.capacity import ForecastArgs, RightsizingArgs, forecast_load, recommend_rightsizing

OVERSIZED = ResourceRequirements(
    requests=ResourceList(cpu="1", memory="1Gi"), limits=ResourceList(cpu="2", memory="2Gi")
)


@pytest.fixture(scope="module")
async def three_days(metric_store: MetricStore) -> World:
    """web asks for 1 core and 1 GiB per pod but uses about a tenth; 3 days of web in the store."""
    world = await make_world(41, "tool-capacity")
    await world.twin.update_application(world.workspace, "app", "web", resources=OVERSIZED)
    await world.twin.advance(3 * 86400)
    ingest = MetricIngestor(world.twin, metric_store, lookback=timedelta(days=3))
    await ingest.ingest(world.app("web"), world.workspace)
    return world


async def test_forecast_gives_an_interval_and_replicas_per_quarter_hour(
    three_days: World, metric_store: MetricStore, unused_database: Database
) -> None:
    ctx, target = tool_call(three_days, metric_store, unused_database)

    result = await forecast_load.run(ctx, ForecastArgs(application="web"), target)

    assert result.status == "ok"
    assert "3.0 days of history from the metric store" in result.summary
    assert "daily profile" in result.data["model"] and result.data["level"] == 0.9
    forecast = result.data["forecast"]["request_rate"]
    assert len(forecast) == 12  # an hour of 5-minute points
    assert all(low <= mean <= high for _, mean, low, high in forecast)
    history = result.data["history"]["request_rate"]
    assert len(history) == 24 * 12 and history[-1][0] < forecast[0][0]
    plan = result.data["replicas"]
    assert len(plan) == 4 and all(step["replicas"] >= 1 for step in plan)
    capacity = result.data["capacity"]
    assert capacity["cpu_request"] == 1.0 and capacity["cpu_per_request"] > 0
    assert result.data["current_replicas"] == 2
    assert "would do" in result.summary  # a whole core per pod is far more than the load needs


async def test_rightsizing_an_oversized_app_saves_money(
    three_days: World, metric_store: MetricStore, unused_database: Database
) -> None:
    ctx, target = tool_call(three_days, metric_store, unused_database)

    result = await recommend_rightsizing.run(ctx, RightsizingArgs(application="web"), target)

    assert result.status == "ok"
    (web,) = result.data["applications"]
    assert web["current"]["requests"] == {"cpu": "1", "memory": "1Gi"}
    assert web["recommended"]["requests"]["cpu"].endswith("m")
    assert web["recommended"]["requests"]["memory"].endswith("Mi")
    assert web["monthly_saving"] > 10 and result.data["currency"] == "USD"
    assert web["usage_per_pod"]["hours"] == pytest.approx(72, abs=0.5)
    assert result.data["chart"]["categories"] == ["web"]
    assert "saves" in result.summary and "web (2 replica(s))" in result.summary


async def test_a_project_summary_covers_every_application(
    three_days: World, metric_store: MetricStore, unused_database: Database
) -> None:
    ctx, target = tool_call(three_days, metric_store, unused_database)

    result = await recommend_rightsizing.run(ctx, RightsizingArgs(days=2), target)

    assert result.status == "ok"
    names = [a["application"] for a in result.data["applications"]]
    assert names == ["web", "api", "worker"]  # api and worker straight from the cluster
    total = result.data["total"]
    assert total["monthly_saving"] == pytest.approx(
        sum(a["monthly_saving"] for a in result.data["applications"]), abs=0.02
    )
    assert len(result.data["chart"]["series"]) == 2
    assert result.note is not None and "cluster" in result.note
