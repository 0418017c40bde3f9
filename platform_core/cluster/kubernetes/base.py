"""State shared by every part of the gateway: the host API, the workspace clients, the clock.

A workspace's objects live in its vCluster, so everything inside a workspace goes through a
second ``ApiClient`` built from the kubeconfig vcluster exports (``vcluster.kubeconfig_secret``).
Those clients are cached per workspace and keyed by the ``VirtualCluster``'s uid, so a workspace
that is deleted and provisioned again gets a fresh client instead of the old credentials.

Before each operation inside a workspace the ``VirtualCluster`` is read from the host (one small
GET): that is what turns "suspended" into ``Conflict`` and "still provisioning" into
``Unavailable`` instead of a connection error against a stopped API server, and it keeps several
service replicas consistent without any shared cache.
"""

from __future__ import annotations

import asyncio
import base64
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

import httpx

from platform_core.cluster.kubernetes import vcluster
from platform_core.cluster.kubernetes.client import Kube, RetryPolicy, Timeouts
from platform_core.cluster.kubernetes.client import api_client_from_kubeconfig as _from_kubeconfig
from platform_core.cluster.kubernetes.objects import meta, owned_by, revision, status
from platform_core.errors import Conflict, NotFound, Unavailable

Obj = dict[str, Any]
Clock = Callable[[], datetime]
OBSERVE_POLL = 0.1


def wall_clock() -> datetime:
    return datetime.now(UTC)


class GatewayBase:
    """The host cluster, the per-workspace clients and the helpers every operation uses."""

    def __init__(
        self,
        api_client: Any,
        *,
        prometheus_url: str | None = None,
        clock: Clock | None = None,
        timeouts: Timeouts = Timeouts(),
        retry: RetryPolicy = RetryPolicy(),
        http: httpx.AsyncClient | None = None,
        observe_timeout: float = 10.0,
    ) -> None:
        self._timeouts = timeouts
        self._retry = retry
        self._host = Kube(api_client, name="host cluster", timeouts=timeouts, retry=retry)
        self._clusters: dict[str, tuple[str, Kube]] = {}
        self._clock: Clock = clock or wall_clock
        self._prometheus_url = prometheus_url.rstrip("/") if prometheus_url else None
        self._http = http or httpx.AsyncClient()
        self._own_http = http is None
        self._observe_timeout = observe_timeout

    async def now(self) -> datetime:
        """Wall time on a real cluster; tests inject the fake API server's clock."""
        return self._clock().astimezone(UTC)

    async def aclose(self) -> None:
        """Close the HTTP pools of the host and workspace clients."""
        for _, kube in self._clusters.values():
            kube.close()
        self._clusters.clear()
        self._host.close()
        if self._own_http:
            await self._http.aclose()

    # ------------------------------------------------------------------ workspace access

    async def _read_vcluster(self, workspace: str) -> Obj | None:
        if not workspace or len(workspace) > vcluster.MAX_WORKSPACE_ID:
            return None
        return await self._host.maybe(
            self._host.custom.get_namespaced_custom_object,
            vcluster.GROUP,
            vcluster.VERSION,
            vcluster.host_namespace(workspace),
            vcluster.PLURAL,
            workspace,
        )

    async def _cluster(self, workspace: str) -> Kube:
        """The workspace's API, if it answers; otherwise the error a client would see."""
        cr = await self._read_vcluster(workspace)
        if cr is None:
            raise NotFound(f"workspace {workspace!r} not found")
        phase = vcluster.phase_of(cr)
        if phase == "provisioning":
            raise Unavailable(f"workspace {workspace!r} is still provisioning; try again shortly")
        if phase == "suspended":
            raise Conflict(f"workspace {workspace!r} is suspended; resume it first")
        if phase == "terminating":
            raise Conflict(f"workspace {workspace!r} is being deleted")
        uid = str(meta(cr).get("uid", ""))
        cached = self._clusters.get(workspace)
        if cached is not None and cached[0] == uid:
            return cached[1]
        kube = Kube(
            _from_kubeconfig(await self._exported_kubeconfig(workspace)),
            name=f"workspace {workspace}",
            timeouts=self._timeouts,
            retry=self._retry,
        )
        if cached is not None:
            cached[1].close()
        self._clusters[workspace] = (uid, kube)
        return kube

    async def _exported_kubeconfig(self, workspace: str) -> str:
        secret = await self._host.maybe(
            self._host.core.read_namespaced_secret,
            vcluster.kubeconfig_secret(workspace),
            vcluster.host_namespace(workspace),
        )
        encoded = ((secret or {}).get("data") or {}).get(vcluster.KUBECONFIG_KEY)
        if not encoded:
            raise Unavailable(f"workspace {workspace!r} has not exported its kubeconfig yet")
        return base64.b64decode(encoded).decode()

    async def _namespace(self, kube: Kube, namespace: str) -> Obj:
        """The namespace object; ``NotFound`` as the API words it."""
        return await kube.call(kube.core.read_namespace, namespace)

    async def _observed(self, kube: Kube, namespace: str, deployment: Obj) -> Obj:
        """The Deployment once its controller has seen the latest spec (bounded wait).

        Revision numbers and ReplicaSet names are the controller's to assign, so after a change
        the gateway waits - like ``kubectl rollout status`` does first - until
        ``status.observedGeneration`` catches up with ``metadata.generation``. If the controller
        is slower than ``observe_timeout`` the latest state read is returned.
        """
        name = str(meta(deployment).get("name"))
        loop = asyncio.get_running_loop()
        deadline = loop.time() + self._observe_timeout
        current = deployment
        while True:
            generation = int(meta(current).get("generation") or 0)
            if int(status(current).get("observedGeneration") or 0) >= generation:
                return current
            if loop.time() >= deadline:
                return current
            await asyncio.sleep(OBSERVE_POLL)
            current = await kube.call(kube.apps.read_namespaced_deployment, name, namespace)

    async def _replica_sets(self, kube: Kube, namespace: str, deployment: Obj) -> list[Obj]:
        """The Deployment's ReplicaSets (owned by it), oldest revision first."""
        selector = (deployment.get("spec") or {}).get("selector", {}).get("matchLabels") or {}
        query = ",".join(f"{k}={v}" for k, v in sorted(selector.items()))
        items = await kube.items(
            kube.apps.list_namespaced_replica_set, namespace, label_selector=query or None
        )
        owned = [rs for rs in items if owned_by(rs, deployment)]
        return sorted(owned, key=revision)
