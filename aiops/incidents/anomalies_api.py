"""``GET .../applications/{application}/anomalies``: an application's metrics, scored.

The same detectors and data as the agent's ``detect_anomalies`` tool, run as the caller (their
rights, their audit trail), shaped for a chart: each metric's points in the window with the
detector's anomaly score per point, and the explained detections.
"""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any

from fastapi import APIRouter, Path, Query
from pydantic import BaseModel, Field

from agents.direct import call_tool
from aiops.http.deps import Caller, Org, ProjectDep, State, WorkspaceDep
from platform_core.errors import InvalidInput, NotFound

router = APIRouter(tags=["incidents"])
PATH = (
    "/api/v1/organizations/{org}/workspaces/{workspace}/projects/{project}"
    "/applications/{application}/anomalies"
)


class ChartSeries(BaseModel):
    metric: str
    unit: str
    points: list[list[Any]] = Field(description="[timestamp, value, anomaly score in 0..1]")


class AnomalyChart(BaseModel):
    application: str
    start: datetime
    end: datetime
    summary: str
    anomalous_now: list[str]
    series: list[ChartSeries]
    detections: list[dict[str, Any]] = Field(
        description="metric, timestamp, observed, expected [low, high], score, since, reason"
    )


@router.get(PATH, name="anomaly.chart", operation_id="getAnomalyChart")
async def anomaly_chart(
    org: Org,
    workspace: WorkspaceDep,
    project: ProjectDep,
    application: Annotated[str, Path(max_length=63)],
    ctx: Caller,
    state: State,
    minutes: Annotated[int, Query(ge=30, le=1440)] = 180,
) -> AnomalyChart:
    """The application's main metrics over the last ``minutes`` with anomaly scores."""
    end = await state.cluster.now()
    result = await call_tool(
        state.runtime,
        call=ctx,
        organization=org,
        name="detect_anomalies",
        arguments={
            "workspace": workspace.name,
            "project": project.name,
            "application": application,
            "minutes": minutes,
        },
        read_only=True,
    )
    if result.status == "error":
        if "not found" in result.summary.lower():
            raise NotFound(result.summary)
        raise InvalidInput(result.summary)
    data = result.data if isinstance(result.data, dict) else {}
    series = [ChartSeries.model_validate(s) for s in data.get("series", [])]
    start = min((datetime.fromisoformat(s.points[0][0]) for s in series if s.points), default=end)
    return AnomalyChart(
        application=application,
        start=start,
        end=end,
        summary=result.summary,
        anomalous_now=list(data.get("anomalous_now", [])),
        series=series,
        detections=list(data.get("anomalies", [])),
    )
