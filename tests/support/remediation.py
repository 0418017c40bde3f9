"""Driving monitoring and remediation in tests: a policy, a monitor, ticks of virtual time."""

from __future__ import annotations

from typing import Any

from sqlalchemy import select

from aiops.remediation.monitor import Monitor, WorkspaceReport
from aiops.state import AppState
from platform_core.cluster.twin.cluster import SimulatedCluster
from platform_core.context import CallContext
from platform_core.incidents.models import Incident, IncidentEvent
from platform_core.remediation import service as policies
from platform_core.remediation.schemas import RemediationPolicyWrite
from tests.support.agent import context
from tests.support.tenants import Tenant


async def set_policy(state: AppState, tenant: Tenant, **fields: Any) -> None:
    ctx: CallContext = await context(state, tenant["owner"])
    async with state.db.session() as session:
        await policies.put_policy(
            session,
            ctx,
            tenant.org,
            tenant.workspace,
            RemediationPolicyWrite(**fields),
            state.auth.api_keys,
        )
        await session.commit()


def twin(state: AppState) -> SimulatedCluster:
    assert isinstance(state.gateway, SimulatedCluster)
    return state.gateway


async def tick(
    state: AppState, monitor: Monitor, tenant: Tenant, minutes: int = 1
) -> WorkspaceReport:
    """Let ``minutes`` of virtual time pass, then run the workspace's monitoring job."""
    await twin(state).advance(60 * minutes)
    return await monitor.run_workspace(tenant.workspace.id)


async def incidents_of(state: AppState, tenant: Tenant) -> list[Incident]:
    async with state.db.session() as session:
        rows = await session.scalars(
            select(Incident)
            .where(Incident.organization_id == tenant.org.id)
            .order_by(Incident.opened_at)
        )
        return list(rows)


async def timeline_of(state: AppState, incident: Incident) -> list[IncidentEvent]:
    async with state.db.session() as session:
        rows = await session.scalars(
            select(IncidentEvent)
            .where(IncidentEvent.incident_id == incident.id)
            .order_by(IncidentEvent.id)
        )
        return list(rows)
