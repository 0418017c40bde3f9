"""The anomaly chart: an application's metrics with the detectors' score at every point."""

from __future__ import annotations

import httpx

from aiops.state import AppState
from tests.support.remediation import twin
from tests.support.tenants import make_tenant

CHART = "/api/v1/organizations/acme/workspaces/acme-ws/projects/app/applications/{app}/anomalies"


async def test_a_latency_spike_shows_as_scored_points_and_an_explained_detection(
    client: httpx.AsyncClient, state: AppState
) -> None:
    tenant = await make_tenant(state, "acme", apps=True)
    twin(state).inject_fault(str(tenant.workspace.id), "app", "api", "latency_spike")
    await twin(state).advance(300)
    answer = await client.get(
        CHART.format(app="api") + "?minutes=60", headers=tenant["viewer"].headers
    )
    assert answer.status_code == 200, answer.text
    chart = answer.json()
    latency = next(s for s in chart["series"] if s["metric"] == "latency_p95")
    assert latency["unit"] == "milliseconds" and len(latency["points"]) >= 50
    assert max(point[2] for point in latency["points"]) >= 0.5
    assert all(0.0 <= point[2] <= 1.0 for s in chart["series"] for point in s["points"])
    found = [d for d in chart["detections"] if d["metric"] == "latency_p95"]
    assert found and found[-1]["observed"] > found[-1]["expected"][1]

    calm = await client.get(CHART.format(app="worker"), headers=tenant["viewer"].headers)
    assert calm.status_code == 200 and calm.json()["detections"] == []


async def test_the_chart_keeps_to_the_callers_rights_and_valid_input(
    client: httpx.AsyncClient, state: AppState
) -> None:
    tenant = await make_tenant(state, "acme", apps=True)
    hidden = await client.get(CHART.format(app="api"), headers=tenant["member"].headers)
    assert hidden.status_code == 404
    missing = await client.get(CHART.format(app="nope"), headers=tenant["viewer"].headers)
    assert missing.status_code in (404, 422)
    assert "nope" in missing.text
    short = await client.get(
        CHART.format(app="api") + "?minutes=5", headers=tenant["viewer"].headers
    )
    assert short.status_code == 422
