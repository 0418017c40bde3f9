"""What CLI commands share: settings, a database session and the auth service, per command."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass

from sqlalchemy.ext.asyncio import AsyncSession

from aiops.state import AppState
from platform_core.cluster.twin.cluster import SimulatedCluster
from platform_core.config import Settings, get_settings
from platform_core.context import CallContext
from platform_core.demo import DemoTenant, seed_demo, seed_demo_cluster
from platform_core.rbac.subject import Grants, Subject

# The CLI is run by the platform's operators, who act outside any organization's rights.
OPERATOR = Subject(kind="user", id="cli-operator", grants=Grants(), name="operator (CLI)")


@dataclass
class CliRuntime:
    state: AppState
    session: AsyncSession

    @property
    def settings(self) -> Settings:
        return self.state.settings

    def context(self) -> CallContext:
        return CallContext(subject=OPERATOR, request_id="cli")


@asynccontextmanager
async def cli_runtime(settings: Settings | None = None) -> AsyncIterator[CliRuntime]:
    """A runtime whose session commits when the command succeeds."""
    state = AppState.build(settings or get_settings())
    try:
        async with state.db.session() as session:
            yield CliRuntime(state=state, session=session)
            await session.commit()
    finally:
        await state.close()


async def seed_everything(settings: Settings) -> DemoTenant:
    """The demo tenant in the database and, on the twin, its applications (both idempotent)."""
    async with cli_runtime(settings) as rt:
        demo = await seed_demo(rt.session, settings, rt.state.auth.passwords)
    state = AppState.build(settings)
    try:
        await state.start()
        if isinstance(state.gateway, SimulatedCluster):
            await seed_demo_cluster(state.gateway, demo)
    finally:
        await state.close()  # saves the twin
    return demo
