"""The platform's vCluster operator, as the fake host cluster runs it.

For each ``virtualclusters.workspaces.hexabase.io`` object:

* it adds its finalizer and reports ``Deploying`` until the control plane is "up" (30 s after
  creation); then a new vCluster API server exists (``/vclusters/<name>`` on the fake, with the
  ``default`` and ``kube-*`` namespaces), the Secret ``vc-<name>`` holds its kubeconfig (HTTPS
  server URL, the CA, a token of its own) and the status is ``Running`` with ``Ready=True``;
* ``spec.suspended`` pauses it like ``vcluster pause``: every pod is stopped and its API answers
  503 until resumed (``Paused``); resuming restarts it (``Running``) and the controllers recreate
  the pods;
* on deletion it tears the vCluster down (10 s), removes the kubeconfig Secret and its finalizer.
"""

from __future__ import annotations

import base64
import secrets
from typing import TYPE_CHECKING, Any

import yaml

from tests.support.fake_kube.store import BY_KEY, NAMESPACE, POD, Store
from tests.support.fake_kube.workloads import set_condition

if TYPE_CHECKING:
    from tests.support.fake_kube.world import FakeKube

Obj = dict[str, Any]
VCLUSTER = BY_KEY["workspaces.hexabase.io/virtualclusters"]
SECRET = BY_KEY["/secrets"]
FINALIZER = "workspaces.hexabase.io/teardown"
STARTUP_SECONDS = 30.0
TEARDOWN_SECONDS = 10.0
INITIAL_NAMESPACES = ("default", "kube-system", "kube-public", "kube-node-lease")


class Operator:
    def __init__(self, world: FakeKube) -> None:
        self.world = world

    def sync(self) -> None:
        host = self.world.host
        for cr in host.list(VCLUSTER):
            meta = cr["metadata"]
            name = meta["name"]
            if meta.get("deletionTimestamp"):
                if self.world.elapsed_since(meta["deletionTimestamp"]) >= TEARDOWN_SECONDS:
                    self._teardown(host, cr)
                continue
            finalizers = meta.setdefault("finalizers", [])
            if FINALIZER not in finalizers:
                finalizers.append(FINALIZER)
            status = cr.setdefault("status", {})
            store = self.world.vclusters.get(name)
            if store is None:
                if self.world.elapsed_since(meta["creationTimestamp"]) < STARTUP_SECONDS:
                    status |= {"phase": "Deploying", "message": "creating vCluster control plane"}
                else:
                    self._start(host, cr)
            elif cr["spec"].get("suspended") and not store.paused:
                self._pause(store)
                status |= {"phase": "Paused", "message": "vCluster scaled to zero"}
            elif not cr["spec"].get("suspended") and store.paused:
                store.paused = False
                status |= {"phase": "Running", "message": "vCluster running"}
            host.put(VCLUSTER, cr)

    def _start(self, host: Store, cr: Obj) -> None:
        name, namespace = cr["metadata"]["name"], cr["metadata"]["namespace"]
        store = Store(name, secrets.token_hex(16), lambda: self.world.t)
        for ns in INITIAL_NAMESPACES:
            store.create(NAMESPACE, "", {"metadata": {"name": ns}})
        self.world.vclusters[name] = store
        server = f"{self.world.api_url}/vclusters/{name}"
        config = {
            "apiVersion": "v1",
            "kind": "Config",
            "clusters": [
                {
                    "name": f"vcluster-{name}",
                    "cluster": {
                        "server": server,
                        "certificate-authority-data": base64.b64encode(
                            self.world.tls.ca_pem
                        ).decode(),
                    },
                }
            ],
            "users": [{"name": f"vcluster-{name}-admin", "user": {"token": store.token}}],
            "contexts": [
                {
                    "name": f"vcluster-{name}",
                    "context": {"cluster": f"vcluster-{name}", "user": f"vcluster-{name}-admin"},
                }
            ],
            "current-context": f"vcluster-{name}",
        }
        text = yaml.safe_dump(config, sort_keys=False)
        secret = {
            "metadata": {"name": f"vc-{name}", "labels": {"vcluster.loft.sh/exported": "true"}},
            "type": "Opaque",
            "data": {"config": base64.b64encode(text.encode()).decode()},
        }
        if host.get(SECRET, namespace, f"vc-{name}") is None:
            host.create(SECRET, namespace, secret)
        now = self.world.stamp()
        cr["status"] |= {"phase": "Running", "message": "vCluster running", "apiServer": server}
        set_condition(cr, "Ready", "True", "Running", "vCluster API server is ready", now)

    def _pause(self, store: Store) -> None:
        for pod in store.list(POD):
            self.world.kubelet.forget(pod)
            store.remove(POD, pod)
        store.paused = True

    def _teardown(self, host: Store, cr: Obj) -> None:
        name, namespace = cr["metadata"]["name"], cr["metadata"]["namespace"]
        store = self.world.vclusters.pop(name, None)
        if store is not None:
            for pod in store.list(POD):
                self.world.kubelet.forget(pod)
        secret = host.get(SECRET, namespace, f"vc-{name}")
        if secret is not None:
            host.remove(SECRET, secret)
        cr["metadata"]["finalizers"] = [
            f for f in cr["metadata"].get("finalizers", []) if f != FINALIZER
        ]
        host.remove(VCLUSTER, cr)
