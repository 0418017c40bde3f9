"""A fake Kubernetes API server (host cluster + vClusters), Prometheus and Knative ingress.

See ``world.FakeKube`` for what it serves and how tests drive it; the other modules are its
parts: ``api`` (REST surface), ``ingress`` (Prometheus, Knative routes), ``store`` (objects and
write rules), ``patching`` (patch formats, selectors), ``gateway`` (connecting
``KubernetesGateway`` to it), and the controllers ``operator`` (vClusters), ``workloads``
(Deployments, ReplicaSets, HPA, quotas, GC), ``kubelet`` (scheduling, containers, logs),
``batch`` (CronJobs, Jobs), ``knative`` (Kaniko, registry, Knative Serving) and ``metrics``
(usage, Prometheus).
"""

from tests.support.fake_kube.world import DEFAULT_START, FakeKube, Fault, Recorded, resource

__all__ = ["DEFAULT_START", "FakeKube", "Fault", "Recorded", "resource"]
