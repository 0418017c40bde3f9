"""The cluster behind the service: the simulated twin (default) or Kubernetes.

The twin runs on a virtual clock; inside the service a small task moves that clock with wall
time (scaled by ``AIOPS_TWIN_TIME_SCALE``) and saves the twin's state in the database every
``AIOPS_TWIN_SAVE_INTERVAL_SECONDS`` and at shutdown, so a demo survives a restart.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time

from platform_core.cluster.protocol import ClusterGateway
from platform_core.cluster.store import TwinStore
from platform_core.cluster.twin.cluster import SimulatedCluster
from platform_core.config import Settings
from platform_core.db import Database

logger = logging.getLogger(__name__)
TICK_SECONDS = 1.0


class TwinRunner:
    """Keeps the twin's clock in step with wall time and its state saved."""

    def __init__(self, twin: SimulatedCluster, store: TwinStore, settings: Settings) -> None:
        self.twin = twin
        self.store = store
        self.scale = settings.twin_time_scale
        self.save_every = settings.twin_save_interval_seconds
        self._task: asyncio.Task[None] | None = None

    def start(self) -> None:
        if self._task is None:
            self._task = asyncio.create_task(self._run(), name="twin-clock")

    async def _run(self) -> None:
        last = time.monotonic()
        last_save = last
        while True:
            await asyncio.sleep(TICK_SECONDS)
            now = time.monotonic()
            try:
                await self.twin.advance((now - last) * self.scale)
                if now - last_save >= self.save_every:
                    await self.save()
                    last_save = now
            except Exception:
                logger.exception("the twin's clock tick failed")
            last = now

    async def save(self) -> None:
        await self.store.save(self.twin.snapshot())

    async def stop(self) -> None:
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
            self._task = None
        await self.save()


async def load_twin(settings: Settings, store: TwinStore) -> SimulatedCluster:
    """The saved twin, or a new one for the configured seed."""
    snapshot = await store.load()
    if snapshot is not None:
        try:
            return SimulatedCluster.from_snapshot(snapshot)
        except (ValueError, KeyError, TypeError):
            logger.exception("the saved twin could not be restored; starting a new one")
    return SimulatedCluster(seed=settings.cluster_seed)


def build_kubernetes_gateway(settings: Settings) -> ClusterGateway:
    from platform_core.cluster.kubernetes import KubernetesGateway

    gateway: ClusterGateway = KubernetesGateway.from_settings(settings)
    return gateway


async def build_cluster(
    settings: Settings, db: Database
) -> tuple[ClusterGateway, TwinRunner | None]:
    if settings.cluster == "kubernetes":
        return build_kubernetes_gateway(settings), None
    store = TwinStore(db)
    twin = await load_twin(settings, store)
    return twin, TwinRunner(twin, store, settings)
