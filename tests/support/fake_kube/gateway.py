"""Connecting ``KubernetesGateway`` to a running ``FakeKube`` (shared by the cluster tests)."""

from __future__ import annotations

from typing import Any

from platform_core.cluster.kubernetes import KubernetesGateway, RetryPolicy
from platform_core.cluster.kubernetes.client import api_client_from_kubeconfig
from tests.support.fake_kube.world import FakeKube

FAST_RETRIES = RetryPolicy(attempts=3, base_delay=0.01, max_delay=0.05)


def connect(fake: FakeKube, **options: Any) -> KubernetesGateway:
    """A gateway on the fake's host kubeconfig, its Prometheus and its clock (fast retries)."""
    settings: dict[str, Any] = {
        "prometheus_url": fake.prometheus_url,
        "clock": fake.now,
        "retry": FAST_RETRIES,
    }
    settings.update(options)
    return KubernetesGateway(api_client_from_kubeconfig(fake.kubeconfig()), **settings)


async def active_workspace(fake: FakeKube, gateway: KubernetesGateway, name: str = "ws-1") -> str:
    """Provision ``name`` and let the fake's vCluster operator bring it up."""
    await gateway.provision_workspace(name)
    fake.advance(35)
    status = await gateway.get_workspace(name)
    assert status.phase == "active", status
    return name
