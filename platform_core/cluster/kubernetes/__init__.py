"""The cluster gateway over a real Kubernetes API (host cluster + one vCluster per workspace).

See ``gateway`` for the layout of this package.
"""

from platform_core.cluster.kubernetes.client import RetryPolicy, Timeouts
from platform_core.cluster.kubernetes.gateway import KubernetesGateway

__all__ = ["KubernetesGateway", "RetryPolicy", "Timeouts"]
