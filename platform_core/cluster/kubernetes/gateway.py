"""``KubernetesGateway``: the ``ClusterGateway`` protocol over the official ``kubernetes`` client.

The operations are split by subject into mixins, each a small module: ``workspaces`` (the
``VirtualCluster`` CR on the host; see ``vcluster``), ``namespaces``, ``apps`` (Deployments),
``observe`` (pods, logs, events), ``metrics`` (Prometheus / metrics.k8s.io), ``batch``
(CronJobs) and ``functions`` (Kaniko + Knative). ``base`` holds what they share: the host
client, the per-workspace clients built from each vCluster's exported kubeconfig, the clock.
``client`` wraps every call with timeouts, retries and error mapping.

Construct it from settings (``AIOPS_KUBECONFIG`` or the in-cluster service account, and
``AIOPS_PROMETHEUS_URL``) or, in tests, from an ``ApiClient`` directly.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from platform_core.cluster.kubernetes.client import (
    RetryPolicy,
    Timeouts,
    api_client_from_file,
    in_cluster_api_client,
)
from platform_core.cluster.kubernetes.functions import FunctionOps
from platform_core.config import Settings

if TYPE_CHECKING:
    from platform_core.cluster.protocol import ClusterGateway


class KubernetesGateway(FunctionOps):
    """Workspaces as vClusters on a host cluster, and everything inside them."""

    @classmethod
    def from_settings(cls, settings: Settings, **options: Any) -> KubernetesGateway:
        """A gateway for the configured kubeconfig file, else the in-cluster service account."""
        if settings.kubeconfig is not None:
            api_client = api_client_from_file(settings.kubeconfig)
        else:
            api_client = in_cluster_api_client()
        return cls(api_client, prometheus_url=settings.prometheus_url, **options)


__all__ = ["KubernetesGateway", "RetryPolicy", "Timeouts"]

if TYPE_CHECKING:

    def _implements_the_protocol(gateway: KubernetesGateway) -> ClusterGateway:
        return gateway  # mypy checks every signature against ClusterGateway here
