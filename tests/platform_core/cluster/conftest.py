"""Fixtures for the cluster gateway tests.

``gateway`` is parametrized over the implementations of ``ClusterGateway``: the twin
(``"simulated"``) and ``KubernetesGateway`` against the fake API server of
``tests.support.fake_kube`` over real HTTPS (``"kubernetes"``). ``test_contract.py`` runs against
both unchanged: the contract tests only use the protocol plus ``settle``/``eventually``, which
advance the twin's virtual clock or the fake's (whose small controllers then do what a cluster's
would in that time). The fake runs once per session and is reset for every test.

Twin-only tests (faults, clock, sandbox) use the ``twin`` fixture instead.
"""

from __future__ import annotations

import asyncio
import itertools
import os
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator
from dataclasses import dataclass
from typing import Any

import pytest

from platform_core.cluster import ApplicationSpec, ClusterGateway, SimulatedCluster
from tests.support.fake_kube import FakeKube
from tests.support.fake_kube.gateway import connect

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


@pytest.fixture(scope="session")
def fake_kube() -> Iterator[FakeKube]:
    """One fake API server (host + vClusters, Prometheus, Knative ingress) for the session."""
    with FakeKube() as fake:
        yield fake


@pytest.fixture(params=["simulated", "kubernetes"])
async def _harness(request: pytest.FixtureRequest) -> AsyncIterator[Harness]:
    if request.param == "simulated":
        twin = SimulatedCluster(seed=SEED + 6)
        yield Harness(gateway=twin, pass_time=twin.advance)
        return
    fake: FakeKube = request.getfixturevalue("fake_kube")
    fake.reset()
    gateway = connect(fake)

    async def pass_time(seconds: float) -> None:
        fake.advance(seconds)  # the fake's controllers run at each tick of virtual time
        await asyncio.sleep(0)

    yield Harness(gateway=gateway, pass_time=pass_time)
    await gateway.aclose()


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
