"""Failures between the gateway and the API server: retries, timeouts, error mapping, no leaks."""

from __future__ import annotations

import socket
import time
from collections.abc import AsyncIterator

import pytest

from platform_core.cluster import ApplicationSpec
from platform_core.cluster.kubernetes import KubernetesGateway, RetryPolicy, Timeouts
from platform_core.cluster.kubernetes.client import api_client_from_kubeconfig
from platform_core.errors import (
    Conflict,
    DomainError,
    Forbidden,
    InvalidInput,
    NotFound,
    Unavailable,
)
from tests.support.fake_kube import FakeKube
from tests.support.fake_kube.gateway import FAST_RETRIES, active_workspace, connect

WS = "ws-1"
VC = f"/vclusters/{WS}"
LEAKS = ("ApiException", "HTTPResponse", "HTTPHeaderDict", "Traceback", "urllib3", "Reason:")


@pytest.fixture
def fake(fake_kube: FakeKube) -> FakeKube:
    fake_kube.reset()
    return fake_kube


@pytest.fixture
async def gw(fake: FakeKube) -> AsyncIterator[KubernetesGateway]:
    gateway = connect(fake)
    yield gateway
    await gateway.aclose()


def assert_clean(error: DomainError) -> None:
    """A domain error that carries no trace of the client library."""
    assert error.__cause__ is None and error.__suppress_context__
    text = f"{error} {error.details!r}"
    for leak in LEAKS:
        assert leak not in text, text


async def test_429_and_500_are_retried_until_the_call_succeeds(
    fake: FakeKube, gw: KubernetesGateway
) -> None:
    await active_workspace(fake, gw, WS)
    path = f"{VC}/api/v1/namespaces"
    fake.fail_next(1, status=429, reason="TooManyRequests", message="slow down", retry_after=30)
    fake.fail_next(1, status=500, message="etcd leader changed", path=path)
    before = len(fake.requests)
    started = time.monotonic()
    assert [ns.name for ns in await gw.list_namespaces(WS)] == ["default"]
    assert time.monotonic() - started < 1.0  # Retry-After is honoured only up to max_delay
    calls = [r.path.rsplit("/", 2)[-2:] for r in fake.requests[before:]]
    assert calls == [
        ["virtualclusters", WS],  # the workspace check: 429 ...
        ["virtualclusters", WS],  # ... retried
        ["secrets", f"vc-{WS}"],  # the vCluster's kubeconfig, read once
        ["v1", "namespaces"],  # 500 ...
        ["v1", "namespaces"],  # ... retried
        ["v1", "resourcequotas"],
    ]


async def test_spent_retries_are_unavailable_and_leak_nothing(
    fake: FakeKube, gw: KubernetesGateway
) -> None:
    fake.fail_next(10, status=503, reason="ServiceUnavailable", message="etcd is down")
    with pytest.raises(Unavailable) as caught:
        await gw.get_workspace(WS)
    assert "503" in caught.value.message and "etcd is down" in caught.value.message
    assert_clean(caught.value)
    assert len(fake.requests) == FAST_RETRIES.attempts


async def test_a_hanging_api_server_times_out_as_unavailable(fake: FakeKube) -> None:
    gateway = connect(fake, timeouts=Timeouts(connect=1.0, read=0.3))
    try:
        fake.hang_next(10, seconds=2.0, method="GET")
        started = time.monotonic()
        with pytest.raises(Unavailable, match="timed out") as caught:
            await gateway.get_workspace(WS)
        assert time.monotonic() - started < 1.6  # three attempts of 0.3 s plus short back-off
        assert len(fake.requests) == FAST_RETRIES.attempts  # reads are retried
        assert_clean(caught.value)

        fake.faults.clear()
        fake.hang_next(1, seconds=2.0, method="POST")
        with pytest.raises(Unavailable, match="timed out"):
            await gateway.provision_workspace("ws-2")
        assert len(fake.requests_to("POST", "/api/v1/namespaces")) == 1  # writes are not
    finally:
        await gateway.aclose()


@pytest.mark.parametrize(
    ("status", "reason", "error"),
    [
        (400, "BadRequest", InvalidInput),
        (403, "Forbidden", Forbidden),
        (404, "NotFound", NotFound),
        (409, "Conflict", Conflict),
        (422, "Invalid", InvalidInput),
    ],
)
async def test_api_errors_become_domain_errors_with_the_servers_message(
    fake: FakeKube, gw: KubernetesGateway, status: int, reason: str, error: type[DomainError]
) -> None:
    await active_workspace(fake, gw, WS)
    message = f'deployments.apps "web" answered {reason}'
    path = f"{VC}/apis/apps/v1/namespaces/default/deployments/web"
    fake.fail_next(1, status=status, reason=reason, message=message, path=path)
    with pytest.raises(error) as caught:
        await gw.get_application(WS, "default", "web")
    assert caught.value.message == message
    assert caught.value.details == {"status": status, "reason": reason}
    assert_clean(caught.value)
    assert len(fake.requests_to("GET", path)) == 1  # client errors are not retried


async def test_real_refusals_keep_the_api_servers_words(
    fake: FakeKube, gw: KubernetesGateway
) -> None:
    await active_workspace(fake, gw, WS)
    spec = ApplicationSpec(name="web", image="ghcr.io/acme/web:1.4.2", replicas=1)
    await gw.create_application(WS, "default", spec)
    with pytest.raises(Conflict, match=r'deployments\.apps "web" already exists'):
        await gw.create_application(WS, "default", spec)
    with pytest.raises(NotFound, match=r'deployments\.apps "nope" not found'):
        await gw.get_application(WS, "default", "nope")
    with pytest.raises(NotFound, match='namespaces "nope" not found'):
        await gw.list_pods(WS, "nope")
    await gw.create_namespace(WS, "old")
    await gw.delete_namespace(WS, "old")
    with pytest.raises(Forbidden, match="because it is being terminated"):
        await gw.create_application(WS, "old", spec)
    fake.advance(10)
    [pod] = await gw.list_pods(WS, "default", application="web")
    with pytest.raises(InvalidInput, match=f"container sidecar is not valid for pod {pod.name}"):
        await gw.get_logs(WS, "default", pod.name, container="sidecar")


async def test_an_unreachable_api_server_is_unavailable() -> None:
    with socket.socket() as probe:  # a port nobody listens on
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    config = {
        "apiVersion": "v1",
        "kind": "Config",
        "clusters": [{"name": "c", "cluster": {"server": f"https://127.0.0.1:{port}"}}],
        "users": [{"name": "u", "user": {"token": "t"}}],
        "contexts": [{"name": "x", "context": {"cluster": "c", "user": "u"}}],
        "current-context": "x",
    }
    retry = RetryPolicy(attempts=2, base_delay=0.01, max_delay=0.02)
    gateway = KubernetesGateway(api_client_from_kubeconfig(config), retry=retry)
    try:
        with pytest.raises(Unavailable, match="could not connect") as caught:
            await gateway.get_workspace(WS)
        assert_clean(caught.value)
    finally:
        await gateway.aclose()


async def test_rejected_credentials_are_the_platforms_fault_not_the_callers(
    fake: FakeKube,
) -> None:
    config = fake.kubeconfig()
    config["users"][0]["user"]["token"] = "not-the-token"
    gateway = KubernetesGateway(api_client_from_kubeconfig(config), retry=FAST_RETRIES)
    try:
        with pytest.raises(Unavailable, match="rejected the platform's credentials"):
            await gateway.get_workspace(WS)
    finally:
        await gateway.aclose()


async def test_an_unusable_kubeconfig_is_invalid_input() -> None:
    with pytest.raises(InvalidInput, match="unusable kubeconfig"):
        api_client_from_kubeconfig({"apiVersion": "v1", "kind": "Config", "contexts": []})


async def test_a_server_certificate_the_kubeconfig_does_not_trust_is_refused(
    fake: FakeKube,
) -> None:
    config = fake.kubeconfig()
    del config["clusters"][0]["cluster"]["certificate-authority-data"]
    gateway = KubernetesGateway(api_client_from_kubeconfig(config), retry=FAST_RETRIES)
    try:
        with pytest.raises(Unavailable, match="TLS handshake failed") as caught:
            await gateway.get_workspace(WS)
        assert_clean(caught.value)
        assert fake.requests == []  # nothing was sent to an unverified server
    finally:
        await gateway.aclose()
