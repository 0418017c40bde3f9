"""Kaniko builds, the image registry and Knative Serving, as far as functions need them.

* Kaniko: a build pod's plan is derived from the Job it belongs to, as the executor would:
  ``--context=dir://<path>`` must be a mounted ConfigMap holding the ``--dockerfile``; the
  Dockerfile's ``RUN python -m py_compile`` step really compiles ``handler.py`` and
  ``runtime.py`` (a syntax error fails the build with Python's message and Kaniko's "error
  building image"); success pushes the context's files to ``--destination`` in the registry when
  the build finishes.
* Knative Serving: each ``spec.template`` of a ``serving.knative.dev/v1`` Service becomes a
  Revision (named by ``template.metadata.name``) with one pod (container ``user-container``);
  once a newer revision is ready the older one scales to zero. The Service's status carries
  ``url``, ``latestCreatedRevisionName``, ``latestReadyRevisionName`` and ``traffic``.
* A revision's pod is a real process: the pushed ``runtime.py`` serving the pushed
  ``handler.py`` on a loopback port (``-I`` isolated mode, the function's ``env``), its output
  captured as the pod's log. The Service URL points at the fake's ingress, which proxies to the
  revision receiving traffic.
"""

from __future__ import annotations

import hashlib
import os
import random
import socket
import subprocess
import sys
import tempfile
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from platform_core.cluster.naming import random_suffix
from tests.support.fake_kube.store import BY_KEY, POD, ApiError, Store
from tests.support.fake_kube.workloads import is_ready, owner_ref, owns, set_condition

if TYPE_CHECKING:
    from tests.support.fake_kube.kubelet import Run
    from tests.support.fake_kube.world import FakeKube

Obj = dict[str, Any]
KSVC = BY_KEY["serving.knative.dev/services"]
REVISION = BY_KEY["serving.knative.dev/revisions"]
CONFIGMAP = BY_KEY["/configmaps"]
SERVICE_LABEL = "serving.knative.dev/service"
REVISION_LABEL = "serving.knative.dev/revision"
GENERATION_LABEL = "serving.knative.dev/configurationGeneration"


@dataclass
class Pushed:
    at: float
    files: dict[str, str]
    digest: str


@dataclass
class Plan:
    duration: float
    exit_code: int
    lines: list[tuple[float, str]] = field(default_factory=list)


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port


class Knative:
    def __init__(self, world: FakeKube) -> None:
        self.world = world
        self.rng = random.Random(31)
        self.registry: dict[str, Pushed] = {}
        self.processes: dict[str, tuple[subprocess.Popen[str], int]] = {}
        self.became_ready: set[str] = set()

    def reset(self) -> None:
        for uid in list(self.processes):
            self.stop_process(uid)
        self.registry.clear()
        self.became_ready.clear()

    def image_pushed(self, image: str) -> bool:
        pushed = self.registry.get(image)
        return pushed is not None and pushed.at <= self.world.t

    # ------------------------------------------------------------------ kaniko

    def kaniko_plan(self, store: Store, pod: Obj, start: float) -> Plan:
        container = pod["spec"]["containers"][0]
        args = dict(a.split("=", 1) for a in container.get("args", []) if "=" in a)
        destination = args.get("--destination", "")
        context = args.get("--context", "").removeprefix("dir://")
        dockerfile = args.get("--dockerfile", f"{context}/Dockerfile")
        mounts = {m["mountPath"]: m["name"] for m in container.get("volumeMounts", [])}
        volumes = {v["name"]: v for v in pod["spec"].get("volumes", [])}
        source = volumes.get(mounts.get(context, ""), {}).get("configMap", {}).get("name")
        config = store.get(CONFIGMAP, pod["metadata"]["namespace"], source) if source else None
        files = dict((config or {}).get("data") or {})
        docker_key = dockerfile.removeprefix(f"{context}/")
        if not destination or config is None or docker_key not in files:
            return Plan(
                1.0,
                1,
                [(0.5, f"Error: error resolving dockerfile path: {dockerfile}: no such file")],
            )
        base = next(
            (line.split()[1] for line in files[docker_key].splitlines() if line.startswith("FROM")),
            "scratch",
        )
        step = "python -m py_compile /app/handler.py /app/runtime.py"
        log = [
            (0.0, f"INFO[0000] Retrieving image manifest {base}"),
            (1.0, f"INFO[0001] Building stage '{base}' [idx: '0', base-idx: '-1']"),
            (9.0, "INFO[0009] COPY handler.py runtime.py /app/"),
            (9.0, f"INFO[0009] RUN {step}"),
            (11.0, f"INFO[0011] Running: [/bin/sh -c {step}]"),
        ]
        failure = self._compile(files)
        if failure is not None:
            tail = "error building image: error building stage: failed to execute command: "
            tail += "waiting for process to exit: exit status 1"
            return Plan(12.0, 1, [*log, *((11.5, line) for line in failure), (12.0, tail)])
        digest = hashlib.sha256(
            "\0".join(f"{k}={v}" for k, v in sorted(files.items())).encode()
        ).hexdigest()
        duration = 20.0
        self.registry[destination] = Pushed(start + duration, files, digest)
        return Plan(
            duration,
            0,
            [
                *log,
                (14.0, f"INFO[0014] Pushing image to {destination}"),
                (16.0, f"INFO[0016] Pushed {destination.split(':')[0]}@sha256:{digest}"),
            ],
        )

    @staticmethod
    def _compile(files: dict[str, str]) -> list[str] | None:
        for name in ("handler.py", "runtime.py"):
            try:
                compile(files.get(name, ""), f"/app/{name}", "exec")
            except SyntaxError as exc:
                lines = [f'  File "/app/{name}", line {exc.lineno}']
                if exc.text:
                    lines.append(f"    {exc.text.rstrip()}")
                return [*lines, f"SyntaxError: {exc.msg}"]
            except ValueError as exc:
                return [f"ValueError: {exc}"]
        return None

    # ------------------------------------------------------------------ serving

    def sync(self, store: Store) -> None:
        for svc in store.list(KSVC):
            self._sync_service(store, svc)

    def _sync_service(self, store: Store, svc: Obj) -> None:
        ns, name = svc["metadata"]["namespace"], svc["metadata"]["name"]
        generation = int(svc["metadata"].get("generation", 1))
        template = svc["spec"]["template"]
        latest = (template.get("metadata") or {}).get("name") or f"{name}-{generation:05d}"
        revisions = [r for r in store.list(REVISION, ns) if owns(svc, r)]
        if not any(r["metadata"]["name"] == latest for r in revisions):
            body = {
                "metadata": {
                    "name": latest,
                    "labels": {
                        SERVICE_LABEL: name,
                        "serving.knative.dev/configuration": name,
                        GENERATION_LABEL: str(generation),
                    },
                    "annotations": dict((template.get("metadata") or {}).get("annotations") or {}),
                    "ownerReferences": [owner_ref(svc)],
                },
                "spec": template["spec"],
            }
            revisions.append(store.create(REVISION, ns, body))
            store.event(svc, "Created", f'Created Revision "{latest}"', source="service-controller")
        ready = [r for r in revisions if r["metadata"]["uid"] in self.became_ready]
        serving = ready[-1]["metadata"]["name"] if ready else None
        for revision in revisions:
            self._sync_revision(store, svc, revision, latest, serving)
        ready = [r for r in revisions if r["metadata"]["uid"] in self.became_ready]
        serving = ready[-1]["metadata"]["name"] if ready else None
        now = self.world.stamp()
        status = svc.setdefault("status", {})
        status |= {
            "observedGeneration": generation,
            "url": f"{self.world.ingress_url}/knative/{store.name}/{ns}/{name}",
            "latestCreatedRevisionName": latest,
        }
        if serving is not None:
            status["latestReadyRevisionName"] = serving
            status["traffic"] = [{"revisionName": serving, "percent": 100, "latestRevision": True}]
        ok = serving == latest
        set_condition(svc, "Ready", "True" if ok else "Unknown", "" if ok else "Deploying", "", now)
        store.put(KSVC, svc)

    def _sync_revision(
        self, store: Store, svc: Obj, revision: Obj, latest: str, serving: str | None
    ) -> None:
        ns, name = revision["metadata"]["namespace"], revision["metadata"]["name"]
        pods = [p for p in store.list(POD, ns) if owns(revision, p)]
        wanted = 1 if name == latest or (name == serving and serving != latest) else 0
        if wanted and not pods:
            self._create_pod(store, svc, revision)
        for pod in pods[wanted:]:
            self.world.kubelet.forget(pod)
            store.remove(POD, pod)
        uid = revision["metadata"]["uid"]
        if any(is_ready(p) for p in pods[:wanted]):
            self.became_ready.add(uid)
        now = self.world.stamp()
        if uid in self.became_ready:
            set_condition(revision, "Ready", "True", "", "", now)
        else:
            runs = [self.world.kubelet.run_of(p) for p in pods]
            problem = next((r.pull_error for r in runs if r.pull_error), "")
            reason = "ContainerMissing" if problem else "Deploying"
            set_condition(
                revision, "Ready", "False" if problem else "Unknown", reason, problem, now
            )
        store.put(REVISION, revision)

    def _create_pod(self, store: Store, svc: Obj, revision: Obj) -> None:
        spec = revision["spec"]
        container = {"name": "user-container", **spec["containers"][0]}
        name = revision["metadata"]["name"]
        body = {
            "metadata": {
                "name": f"{name}-deployment-{random_suffix(self.rng, 9)}-{random_suffix(self.rng)}",
                "labels": {
                    SERVICE_LABEL: svc["metadata"]["name"],
                    REVISION_LABEL: name,
                    "app": name,
                },
                "ownerReferences": [owner_ref(revision)],
            },
            "spec": {
                "serviceAccountName": spec.get("serviceAccountName", "default"),
                "automountServiceAccountToken": spec.get("automountServiceAccountToken", True),
                "containers": [container],
            },
        }
        try:
            store.create(POD, revision["metadata"]["namespace"], body)
        except ApiError as exc:
            store.event(revision, "FailedCreate", exc.message, warning=True)

    # ------------------------------------------------------------------ processes

    def start_process(self, store: Store, pod: Obj, run: Run) -> None:
        """Run the pushed image: ``runtime.py`` serving ``handler.py`` on a free port."""
        pushed = self.registry[run.image]
        folder = Path(tempfile.mkdtemp(prefix="fn-", dir=self.world.workdir))
        for file in ("handler.py", "runtime.py"):
            (folder / file).write_text(pushed.files[file])
        port = _free_port()
        container = pod["spec"]["containers"][0]
        env = {e["name"]: str(e.get("value", "")) for e in container.get("env", [])}
        env |= {
            "FUNCTION_SOURCE": str(folder / "handler.py"),
            "PORT": str(port),
            "PATH": os.environ.get("PATH", ""),
        }
        process = subprocess.Popen(
            [sys.executable, "-I", "-B", "-u", str(folder / "runtime.py")],
            env=env,
            cwd=folder,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
        )
        self.processes[pod["metadata"]["uid"]] = (process, port)
        threading.Thread(target=self._pump, args=(process, run), daemon=True).start()
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline and process.poll() is None:
            try:
                socket.create_connection(("127.0.0.1", port), timeout=0.2).close()
                return
            except OSError:
                time.sleep(0.02)
        run.pull_error = "the function process did not start listening"

    def _pump(self, process: subprocess.Popen[str], run: Run) -> None:
        assert process.stdout is not None
        for line in process.stdout:
            run.lines.append((self.world.t, line.rstrip("\n")))

    def stop_process(self, uid: str) -> None:
        found = self.processes.pop(uid, None)
        if found is not None:
            process = found[0]
            process.kill()
            process.wait(timeout=5)

    def upstream(self, workspace: str, namespace: str, name: str) -> int | None:
        """The port of the pod of the revision receiving the Service's traffic."""
        store = self.world.vclusters.get(workspace)
        svc = store.get(KSVC, namespace, name) if store is not None else None
        if store is None or svc is None or store.paused:
            return None
        serving = (svc.get("status") or {}).get("latestReadyRevisionName")
        for pod in store.list(POD, namespace):
            if pod["metadata"]["labels"].get(REVISION_LABEL) == serving and is_ready(pod):
                found = self.processes.get(pod["metadata"]["uid"])
                if found is not None:
                    return found[1]
        return None
