"""PromQL for an application's metrics, written against the usual metric names.

One Prometheus (``AIOPS_PROMETHEUS_URL``) scrapes the host cluster. vcluster runs a workspace's
pods in the vCluster's host namespace under translated names ``<pod>-x-<namespace>-x-<vcluster>``
(its default translation; names longer than 63 characters are hashed by vcluster and are not
found by these queries), so every query selects ``namespace="<host namespace>"`` and
``pod=~"<app>-<hash>-<suffix>-x-<namespace>-x-<workspace>"`` - the pod names of exactly that
Deployment - and answers are translated back with ``virtual_pod``.

=================== ===========================================================================
metric              source and query
=================== ===========================================================================
cpu                 cAdvisor ``container_cpu_usage_seconds_total`` - ``rate`` over 5m, cores
memory              cAdvisor ``container_memory_working_set_bytes`` - bytes
restarts            kube-state-metrics ``kube_pod_container_status_restarts_total``
available_replicas  kube-state-metrics ``kube_pod_status_ready{condition="true"}``
request_rate        the app's ``http_requests_total`` (Prometheus client convention) - req/s
error_rate          ``http_requests_total{code=~"5.."}`` / all of it - a ratio
latency_p95         ``histogram_quantile(0.95, ... http_request_duration_seconds_bucket)`` - ms
=================== ===========================================================================

The first five are sums over pods, so they are queried ``by (pod)`` once and the application's
series is the sum of the pod series (which keeps both consistent); the ratio and the quantile are
not sums and are queried at application level too.
"""

from __future__ import annotations

from platform_core.cluster.schemas import MetricName

RATE_WINDOW = "5m"
SUMMED: tuple[MetricName, ...] = (
    "cpu",
    "memory",
    "request_rate",
    "available_replicas",
    "restarts",
)
MAX_POINTS = 11_000  # Prometheus refuses range queries with more points per series


def host_pod_suffix(namespace: str, workspace: str) -> str:
    return f"-x-{namespace}-x-{workspace}"


def virtual_pod(host_pod: str, namespace: str, workspace: str) -> str:
    """The pod's name inside the vCluster, from the name the host (and Prometheus) sees."""
    return host_pod.removesuffix(host_pod_suffix(namespace, workspace))


def selector(application: str, namespace: str, workspace: str, host_namespace: str) -> str:
    """Label matchers for the pods of one Deployment (names are RFC 1123: no escaping)."""
    pods = f"{application}-[a-z0-9]+-[a-z0-9]{{5}}{host_pod_suffix(namespace, workspace)}"
    return f'namespace="{host_namespace}", pod=~"{pods}"'


def by_pod(metric: MetricName, sel: str) -> str:
    """The per-pod query for ``metric``."""
    containers = f'{sel}, container!="", container!="POD"'
    window = RATE_WINDOW
    if metric == "cpu":
        return f"sum by (pod) (rate(container_cpu_usage_seconds_total{{{containers}}}[{window}]))"
    if metric == "memory":
        return f"sum by (pod) (container_memory_working_set_bytes{{{containers}}})"
    if metric == "restarts":
        return f"sum by (pod) (kube_pod_container_status_restarts_total{{{sel}}})"
    if metric == "available_replicas":
        return f'sum by (pod) (kube_pod_status_ready{{{sel}, condition="true"}})'
    if metric == "request_rate":
        return f"sum by (pod) (rate(http_requests_total{{{sel}}}[{window}]))"
    if metric == "error_rate":
        total = f"sum by (pod) (rate(http_requests_total{{{sel}}}[{window}]))"
        errors = f'sum by (pod) (rate(http_requests_total{{{sel}, code=~"5.."}}[{window}]))'
        return f"({errors} or ({total} * 0)) / {total}"
    return (
        "1000 * histogram_quantile(0.95, sum by (le, pod) "
        f"(rate(http_request_duration_seconds_bucket{{{sel}}}[{window}])))"
    )


def application_level(metric: MetricName, sel: str) -> str:
    """The application-level query of a metric that is not a sum over pods."""
    window = RATE_WINDOW
    if metric == "error_rate":
        total = f"sum(rate(http_requests_total{{{sel}}}[{window}]))"
        errors = f'sum(rate(http_requests_total{{{sel}, code=~"5.."}}[{window}]))'
        return f"({errors} or vector(0)) / {total}"
    if metric == "latency_p95":
        return (
            "1000 * histogram_quantile(0.95, sum by (le) "
            f"(rate(http_request_duration_seconds_bucket{{{sel}}}[{window}])))"
        )
    raise ValueError(f"{metric} is a sum over pods")
