"""Fixtures for the cluster gateway tests.

``gateway`` is parametrized over the implementations of ``ClusterGateway``; today only the twin
(``"simulated"``). A Kubernetes implementation adds a ``"kubernetes"`` param to ``_harness`` and
``test_contract.py`` runs against it unchanged: the contract tests only use the protocol plus
``settle``/``eventually``, which advance the twin's virtual clock or, on a real cluster, sleep.

Twin-only tests (faults, clock, sandbox) use the ``twin`` fixture instead.
"""

from __future__ import annotations

import itertools
import os
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass
from typing import Any

import pytest

from platform_core.cluster import ApplicationSpec, ClusterGateway, SimulatedCluster

Probe = Callable[[], Awaitable[bool]]
SEED = int(os.environ.get("TWIN_TEST_SEED", "5"))  # run the suite on other twins with this
_ids = itertools.count(1)


@dataclass
class Harness:
    """A gateway plus a way to let time pass on it."""

    gateway: ClusterGateway
    pass_time: Callable[[float], Awaitable[None]]

    async def eventually(self, probe: Probe, *, within: float, step: float = 5.0) -> None:
        """Let time pass in ``step``s until ``probe()`` is true, failing after ``within``."""
        waited = 0.0
        while not await probe():
            if waited >= within:
                raise AssertionError(f"condition not met within {within}s")
            await self.pass_time(step)
            waited += step


@pytest.fixture(params=["simulated"])
async def _harness(request: pytest.FixtureRequest) -> AsyncIterator[Harness]:
    if request.param == "simulated":
        twin = SimulatedCluster(seed=SEED + 6)
        yield Harness(gateway=twin, pass_time=twin.advance)
    else:  # pragma: no cover - the kubernetes param is added with its gateway
        raise NotImplementedError(request.param)


@pytest.fixture
def gateway(_harness: Harness) -> ClusterGateway:
    return _harness.gateway


@pytest.fixture
def settle(_harness: Harness) -> Callable[[float], Awaitable[None]]:
    """``await settle(seconds)``: let that much (virtual or real) time pass."""
    return _harness.pass_time


@pytest.fixture
def eventually(_harness: Harness) -> Callable[..., Awaitable[None]]:
    """``await eventually(probe, within=...)``: wait until an async predicate holds."""
    return _harness.eventually


@pytest.fixture
async def workspace(gateway: ClusterGateway, _harness: Harness) -> AsyncIterator[str]:
    """A fresh, active workspace; deleted afterwards."""
    name = f"ct-{next(_ids)}"
    await gateway.provision_workspace(name)

    async def active() -> bool:
        return (await gateway.get_workspace(name)).phase == "active"

    await _harness.eventually(active, within=300)
    yield name
    if (await gateway.get_workspace(name)).phase not in {"terminating", "terminated"}:
        await gateway.delete_workspace(name)


AppFactory = Callable[..., Awaitable[str]]


@pytest.fixture
def ready_app(gateway: ClusterGateway, _harness: Harness) -> AppFactory:
    """``await ready_app(workspace, **spec)``: create an application, wait for all replicas."""

    async def create(workspace: str, namespace: str = "default", **spec: Any) -> str:
        fields: dict[str, Any] = {"name": "web", "image": "ghcr.io/acme/web:1.4.2", "replicas": 3}
        fields.update(spec)
        app = ApplicationSpec(**fields)
        await gateway.create_application(workspace, namespace, app)

        async def ready() -> bool:
            status = await gateway.get_application(workspace, namespace, app.name)
            return status.ready_replicas == app.replicas == status.updated_replicas

        await _harness.eventually(ready, within=180)
        return app.name

    return create


# ---------------------------------------------------------------------------- twin-only


@pytest.fixture
async def twin() -> SimulatedCluster:
    """A twin with an active workspace ``ws-1``."""
    cluster = SimulatedCluster(seed=SEED)
    await cluster.provision_workspace("ws-1")
    await cluster.advance(60)
    return cluster


@pytest.fixture
def twin_app(twin: SimulatedCluster) -> AppFactory:
    """``await twin_app(**spec)``: an application in ``ws-1/default``, ready after 60 s."""

    async def create(**spec: Any) -> str:
        fields: dict[str, Any] = {"name": "web", "image": "ghcr.io/acme/web:1.4.2", "replicas": 3}
        fields.update(spec)
        await twin.create_application("ws-1", "default", ApplicationSpec(**fields))
        await twin.advance(60)
        return str(fields["name"])

    return create
