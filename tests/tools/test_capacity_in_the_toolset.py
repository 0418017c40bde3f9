"""The new tools as the agent gets them: offered to a viewer, authorized, run without a store."""

from __future__ import annotations

from aiops.state import AppState
from tests.support.agent import context
from tests.support.tenants import make_tenant
from tools.base import ToolContext
from tools.results import ToolResult
from tools.toolset import PreparedCall, Toolset


async def test_a_viewer_can_forecast_and_rightsize_from_cluster_history(state: AppState) -> None:
    tenant = await make_tenant(state, "capacity", apps=True)
    ctx = ToolContext(
        call=await context(state, tenant["viewer"]),
        organization=tenant.org,
        gateway=state.cluster,
        db=state.db,
        workspace=tenant.workspace.name,
        project="app",
    )
    toolset = Toolset()
    offered = await toolset.offered(ctx, read_only=True)
    names = {t.name for t in offered}
    assert {"forecast_load", "recommend_rightsizing", "detect_anomalies"} <= names

    results: dict[str, ToolResult] = {}
    for name, args in (
        ("forecast_load", {"application": "web"}),
        ("recommend_rightsizing", {}),
        ("detect_anomalies", {"application": "api", "minutes": 30}),
    ):
        prepared = await toolset.prepare(ctx, name, args, offered=offered)
        assert isinstance(prepared, PreparedCall), prepared
        results[name] = await toolset.execute(ctx, prepared)

    forecast = results["forecast_load"]
    assert forecast.status == "ok" and "from the cluster" in forecast.summary
    assert "daily" not in forecast.data["model"]  # an hour of history: no daily profile yet
    rightsizing = results["recommend_rightsizing"]
    assert rightsizing.status == "ok"
    assert [a["application"] for a in rightsizing.data["applications"]] == ["web", "api", "worker"]
    assert "only 1.0 h of usage observed" in rightsizing.summary
    assert results["detect_anomalies"].data["series"]
