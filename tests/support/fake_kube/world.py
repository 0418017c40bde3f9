"""``FakeKube``: a fake host cluster with vClusters, served over real HTTP(S).

Two servers run in background threads on free loopback ports:

* the API server (HTTPS, a fresh CA): the host cluster at ``/`` and each vCluster at
  ``/vclusters/<workspace>`` (``api.py``);
* the "ingress" (plain HTTP): Prometheus' ``/prometheus/api/v1/query_range`` and the Knative
  route ``/knative/<workspace>/<namespace>/<service>/...`` to the functions' processes.

Time is virtual: ``t`` only moves in ``advance(seconds)``, which steps the clock by ``tick``
seconds and runs the controllers at each step. Controllers also run once after every successful
write, as real ones react to watch events within milliseconds; anything that takes time (a
vCluster starting, an image pull, a readiness probe, a Job's script, a build) waits for the
clock.

Test API: ``kubeconfig()``, ``now()``, ``advance()``, ``reset()``, ``store()``/``get()``,
``set_status()``, ``add_pod()``, ``add_log()``, ``requests`` (every request, in order) with
``requests_to()`` and ``requested()`` (wait for one), ``prometheus_queries``, and fault injection
with ``fail_next()`` and ``hang_next()``.
"""

from __future__ import annotations

import asyncio
import base64
import contextlib
import secrets
import shutil
import socket
import tempfile
import threading
import time
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import uvicorn
from starlette.applications import Starlette

from tests.support.fake_kube.api import build_app
from tests.support.fake_kube.batch import Batch
from tests.support.fake_kube.ingress import build_ingress
from tests.support.fake_kube.knative import Knative
from tests.support.fake_kube.kubelet import Kubelet, Run
from tests.support.fake_kube.metrics import Usage
from tests.support.fake_kube.operator import VCLUSTER, Operator
from tests.support.fake_kube.store import BY_KEY, BY_PATH, POD, Resource, Store, stamp
from tests.support.fake_kube.tls import make_tls
from tests.support.fake_kube.workloads import Workloads

Obj = dict[str, Any]
DEFAULT_START = datetime(2025, 1, 6, 9, 0, tzinfo=UTC)


@dataclass(frozen=True)
class Recorded:
    method: str
    path: str
    query: dict[str, str]
    body: Any
    content_type: str


@dataclass
class Fault:
    count: int
    status: int = 500
    reason: str = "InternalError"
    message: str = "injected failure"
    hang: float = 0.0
    method: str | None = None
    path: str | None = None
    retry_after: int | None = None

    def matches(self, method: str, path: str) -> bool:
        return (self.method is None or self.method == method) and (
            self.path is None or self.path in path
        )


def resource(kind: str) -> Resource:
    """``"deployments"``, ``"pods"``, ``"services.serving.knative.dev"``, ... -> its Resource.

    A bare plural is looked up in the core group first, then in the others.
    """
    plural, _, group = kind.partition(".")
    matches = [r for (g, _, p), r in BY_PATH.items() if p == plural and (g == group or not group)]
    matches.sort(key=lambda r: r.group != group)
    if not matches:
        raise KeyError(kind)
    return matches[0]


class _Server:
    def __init__(self, app: Starlette, **ssl: Any) -> None:
        with contextlib.closing(socket.socket()) as probe:
            probe.bind(("127.0.0.1", 0))
            self.port: int = probe.getsockname()[1]
        config = uvicorn.Config(
            app,
            host="127.0.0.1",
            port=self.port,
            log_config=None,
            access_log=False,
            timeout_keep_alive=60,
            timeout_graceful_shutdown=1,
            **ssl,
        )
        self.server = uvicorn.Server(config)
        self.thread = threading.Thread(target=self.server.run, daemon=True)

    def start(self) -> None:
        self.thread.start()
        deadline = time.monotonic() + 15
        while not self.server.started:
            if time.monotonic() > deadline or not self.thread.is_alive():
                raise RuntimeError("the fake server did not start")
            time.sleep(0.01)

    def stop(self) -> None:
        self.server.should_exit = True
        self.thread.join(timeout=10)


class FakeKube:
    """A controller-light fake of the host cluster, its vClusters, Prometheus and Knative."""

    def __init__(self, *, tick: float = 5.0, start: datetime = DEFAULT_START) -> None:
        self.lock = threading.RLock()
        self.tick = tick
        self.start_t = start.timestamp()
        self.t = self.start_t
        self.workdir = Path(tempfile.mkdtemp(prefix="fake-kube-"))
        self.tls = make_tls(self.workdir)
        self.host = Store("host", secrets.token_hex(16), lambda: self.t)
        self.vclusters: dict[str, Store] = {}
        self.requests: list[Recorded] = []
        self.prometheus_queries: list[str] = []
        self.faults: list[Fault] = []
        self.kubelet = Kubelet(self)
        self.workloads = Workloads(self)
        self.batch = Batch(self)
        self.knative = Knative(self)
        self.usage = Usage(self)
        self.operator = Operator(self)
        self._api = _Server(
            build_app(self),
            ssl_certfile=str(self.tls.cert_file),
            ssl_keyfile=str(self.tls.key_file),
        )
        self._ingress = _Server(build_ingress(self))

    # ------------------------------------------------------------------ lifecycle

    def __enter__(self) -> FakeKube:
        self._api.start()
        self._ingress.start()
        self._reset_stores()
        return self

    def __exit__(self, *exc: object) -> None:
        self.knative.reset()
        self._api.stop()
        self._ingress.stop()
        shutil.rmtree(self.workdir, ignore_errors=True)

    def reset(self) -> None:
        """Forget every object, request, fault and process; the clock starts over."""
        with self.lock:
            self.knative.reset()
            self.kubelet.reset()
            self.batch.reset()
            self.t = self.start_t
            self.vclusters.clear()
            self.requests.clear()
            self.prometheus_queries.clear()
            self.faults.clear()
            self._reset_stores()

    def _reset_stores(self) -> None:
        self.host = Store("host", self.host.token, lambda: self.t)
        self.host.create(BY_KEY["/namespaces"], "", {"metadata": {"name": "default"}})

    @property
    def api_url(self) -> str:
        return f"https://127.0.0.1:{self._api.port}"

    @property
    def ingress_url(self) -> str:
        return f"http://127.0.0.1:{self._ingress.port}"

    @property
    def prometheus_url(self) -> str:
        return f"{self.ingress_url}/prometheus"

    def kubeconfig(self) -> Obj:
        """The host cluster's admin kubeconfig."""
        return {
            "apiVersion": "v1",
            "kind": "Config",
            "clusters": [
                {
                    "name": "fake-host",
                    "cluster": {
                        "server": self.api_url,
                        "certificate-authority-data": base64.b64encode(self.tls.ca_pem).decode(),
                    },
                }
            ],
            "users": [{"name": "admin", "user": {"token": self.host.token}}],
            "contexts": [{"name": "fake", "context": {"cluster": "fake-host", "user": "admin"}}],
            "current-context": "fake",
        }

    # ------------------------------------------------------------------ time

    def now(self) -> datetime:
        return datetime.fromtimestamp(self.t, UTC)

    def stamp(self) -> str:
        return stamp(self.t)

    @staticmethod
    def parse(text: str) -> float:
        return datetime.fromisoformat(text.replace("Z", "+00:00")).timestamp()

    def elapsed_since(self, text: str) -> float:
        return self.t - self.parse(text)

    def advance(self, seconds: float) -> None:
        """Let ``seconds`` of virtual time pass, running the controllers every ``tick``."""
        with self.lock:
            target = self.t + seconds
            while self.t < target:
                self.t = min(target, self.t + self.tick)
                self.reconcile()

    def reconcile(self) -> None:
        with self.lock:
            self.operator.sync()
            for store in list(self.vclusters.values()):
                if store.paused:
                    continue
                for _ in range(2):
                    self.workloads.sync_namespaces(store)
                    self.workloads.collect_garbage(store)
                    self.batch.sync_cronjobs(store)
                    self.batch.sync_jobs(store)
                    self.workloads.sync_deployments(store)
                    self.workloads.sync_autoscalers(store)
                    self.workloads.sync_replica_sets(store)
                    self.kubelet.sync(store)
                    self.knative.sync(store)
                self.workloads.sync_deployments(store)
                self.workloads.sync_quotas(store)
            self.workloads.collect_garbage(self.host)

    def after_write(self) -> None:
        self.reconcile()

    def host_namespace_of(self, workspace: str) -> str:
        cr = next((c for c in self.host.list(VCLUSTER) if c["metadata"]["name"] == workspace), None)
        return str(cr["metadata"]["namespace"]) if cr else ""

    # ------------------------------------------------------------------ requests and faults

    def record(self, method: str, path: str, query: dict[str, str], body: Any, ctype: str) -> None:
        with self.lock:
            self.requests.append(Recorded(method, path, query, body, ctype))

    def requests_to(self, method: str, path_part: str) -> list[Recorded]:
        return [r for r in self.requests if r.method == method and path_part in r.path]

    async def requested(self, method: str, path_part: str, *, within: float = 5.0) -> Recorded:
        """Wait (in real time) until the server has received such a request; return it."""
        deadline = time.monotonic() + within
        while not (found := self.requests_to(method, path_part)):  # the server thread appends
            if time.monotonic() > deadline:
                raise AssertionError(f"no {method} request to {path_part!r} within {within}s")
            await asyncio.sleep(0.01)
        return found[-1]

    def take_fault(self, method: str, path: str) -> Fault | None:
        with self.lock:
            for fault in self.faults:
                if fault.count > 0 and fault.matches(method, path):
                    fault.count -= 1
                    return fault
        return None

    def fail_next(
        self,
        count: int = 1,
        *,
        status: int = 500,
        reason: str = "InternalError",
        message: str = "injected failure",
        method: str | None = None,
        path: str | None = None,
        retry_after: int | None = None,
    ) -> None:
        """Answer the next ``count`` matching requests with ``status`` (a ``Status`` body)."""
        self.faults.append(
            Fault(count, status, reason, message, method=method, path=path, retry_after=retry_after)
        )

    def hang_next(
        self, count: int = 1, *, seconds: float, method: str | None = None, path: str | None = None
    ) -> None:
        """Hold the next ``count`` matching requests for ``seconds`` before answering."""
        self.faults.append(Fault(count, hang=seconds, method=method, path=path))

    # ------------------------------------------------------------------ objects

    def store(self, workspace: str | None = None) -> Store:
        return self.host if workspace is None else self.vclusters[workspace]

    def get(
        self, kind: str, namespace: str, name: str, *, workspace: str | None = None
    ) -> Obj | None:
        with self.lock:
            return self.store(workspace).get(resource(kind), namespace, name)

    def objects(
        self, kind: str, namespace: str | None = None, *, workspace: str | None = None
    ) -> list[Obj]:
        with self.lock:
            return self.store(workspace).list(resource(kind), namespace)

    def set_status(
        self,
        kind: str,
        namespace: str,
        name: str,
        status: Obj,
        *,
        workspace: str | None = None,
    ) -> Obj:
        """Merge ``status`` into an object's status, as its controller would write it."""
        with self.lock:
            store = self.store(workspace)
            found = store.require(resource(kind), namespace, name)
            found["status"] = {**(found.get("status") or {}), **status}
            return store.put(resource(kind), found)

    def add_pod(
        self,
        workspace: str,
        namespace: str,
        name: str,
        *,
        image: str = "busybox:1.36",
        labels: dict[str, str] | None = None,
        logs: list[str] | None = None,
        previous_logs: list[str] | None = None,
        restarts: int = 0,
    ) -> Obj:
        """A bare pod (container ``main``) scheduled and running for a minute, with its log.

        ``logs`` are printed one a second from 30 s ago; ``previous_logs`` belong to the
        container's previous run, which was OOM-killed (exit 137) when the current one started.
        """
        with self.lock:
            store = self.store(workspace)
            body = {
                "metadata": {"name": name, "labels": dict(labels or {})},
                "spec": {"containers": [{"name": "main", "image": image}]},
            }
            pod = store.create(POD, namespace, body)
            run = self.kubelet.run_of(pod)
            run.store, run.scheduled, run.started = store.name, self.t - 60, self.t - 58
            run.ready_at, run.restarts, run.pulling = self.t - 58, restarts, True
            run.kind = "added"
            run.lines = [(self.t - 30 + i, text) for i, text in enumerate(logs or [])]
            if previous_logs is not None:
                run.previous = [(self.t - 120 + i, text) for i, text in enumerate(previous_logs)]
            pod["spec"]["nodeName"] = "fake-node-a-1"
            self.reconcile()
            return pod

    def add_log(self, workspace: str, namespace: str, pod: str, text: str) -> None:
        """Make a pod's container print ``text`` now."""
        with self.lock:
            found = self.store(workspace).require(POD, namespace, pod)
            run: Run = self.kubelet.run_of(found)
            run.lines.append((self.t, text))
