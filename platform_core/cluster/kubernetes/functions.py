"""Functions: a Kaniko build Job, then a Knative Service revision running the built image.

``deploy_function`` starts the build and returns (phase ``Building``); nothing in the cluster
knows to roll out the Knative Service once the image is pushed, so the gateway does it when it
next looks at the function (``_sync``, called by every read): a build that succeeded and is not
what the Knative Service runs yet is applied with ``manifests.knative_service_manifest`` - the
restricted service account, the non-root read-only security context, CPU/memory limits and the
min/max scale annotations - under the next revision name (``<name>-00001``, ...). Polling
``get_function`` (as the protocol asks) therefore drives the rollout; it is idempotent, so
concurrent readers at worst race to the same replace and one gets a ``Conflict`` it ignores.

An unchanged source that already built is not rebuilt (the image is content-addressed); only
the Service is updated. Invocations go over HTTP to the Service's URL (the platform's Knative
ingress) with the function's timeout; runtime logs are the logs of the revision pods'
``user-container``, build logs those of the Kaniko pod.
"""

from __future__ import annotations

import contextlib
import hashlib
from typing import Any

from platform_core.cluster.kubernetes import function_builds as fb
from platform_core.cluster.kubernetes.batch import BatchOps
from platform_core.cluster.kubernetes.client import Kube
from platform_core.cluster.kubernetes.function_invoke import invoke
from platform_core.cluster.kubernetes.objects import (
    LABEL_JOB_NAME,
    annotations_of,
    created,
    is_true,
    labels,
    meta,
    name,
    spec,
    status,
)
from platform_core.cluster.kubernetes.observe import parse_log
from platform_core.cluster.manifests import (
    LABEL_FUNCTION,
    function_image,
    function_service_account,
    function_source_configmap,
    kaniko_build_job,
    knative_service_manifest,
    source_sha256,
)
from platform_core.cluster.schemas import (
    FunctionInfo,
    FunctionPhase,
    FunctionRequest,
    FunctionResponse,
    FunctionRevision,
    FunctionSpec,
    LogLine,
)
from platform_core.errors import Conflict, DomainError, InvalidInput, NotFound, Unavailable

Obj = dict[str, Any]
KNATIVE = ("serving.knative.dev", "v1")
SERVICE_LABEL = "serving.knative.dev/service"
GENERATION_LABEL = "serving.knative.dev/configurationGeneration"


def _deployed_marker(build: fb.Build) -> str:
    """What a Knative Service must carry to run exactly this build with this spec."""
    settings = build.spec.model_dump_json(exclude={"source"})
    return hashlib.sha256(f"{build.image}\0{settings}".encode()).hexdigest()[:16]


def _generation(ksvc: Obj | None) -> int:
    template = spec(ksvc).get("template", {}) if ksvc is not None else {}
    current = str((template.get("metadata") or {}).get("name", ""))
    suffix = current.rsplit("-", 1)[-1]
    return int(suffix) if suffix.isdigit() else 0


def _phase(build: fb.Build, ksvc: Obj | None) -> FunctionPhase:
    if build.status == "Running":
        return "Building"
    if build.status == "Failed":
        return "BuildFailed"
    if ksvc is None or annotations_of(ksvc).get(fb.ANNOTATION_DEPLOYED) != _deployed_marker(build):
        return "Deploying"
    wanted = (spec(ksvc).get("template", {}).get("metadata") or {}).get("name")
    ready = status(ksvc).get("latestReadyRevisionName")
    return "Ready" if ready is not None and ready == wanted else "Deploying"


class FunctionOps(BatchOps):
    """The functions half of ``ClusterGateway``."""

    async def _builds(self, kube: Kube, namespace: str, function: str) -> list[Obj]:
        configs = await kube.items(
            kube.core.list_namespaced_config_map,
            namespace,
            label_selector=f"{LABEL_FUNCTION}={function},{fb.LABEL_BUILD}",
        )
        return sorted(configs, key=fb.build_number)

    async def _latest(self, kube: Kube, namespace: str, config: Obj) -> fb.Build:
        """The build of ``config``; a newly finished one gets its outcome recorded."""
        job_name = f"{labels(config)[LABEL_FUNCTION]}-build-{fb.build_number(config)}"
        recorded = annotations_of(config).get(fb.ANNOTATION_OUTCOME)
        job = None
        if recorded is None:
            job = await kube.maybe(kube.batch.read_namespaced_job, job_name, namespace)
        build = fb.build_from(config, job, await self.now())
        if recorded is None and build.status != "Running":
            log = await self._pod_log(kube, namespace, f"{LABEL_JOB_NAME}={job_name}", None)
            if build.status == "Failed":
                build.message = build.message or fb.failure_message([ln.message for ln in log])
            else:
                build.message = f"pushed {build.image}"
            note = {
                fb.ANNOTATION_OUTCOME: build.status,
                fb.ANNOTATION_MESSAGE: build.message,
            }
            if build.finished is not None:
                note[fb.ANNOTATION_FINISHED] = build.finished.isoformat()
            await kube.call(
                kube.core.patch_namespaced_config_map,
                name(config),
                namespace,
                {"metadata": {"annotations": note}},
            )
        return build

    async def _read_ksvc(self, kube: Kube, namespace: str, function: str) -> Obj | None:
        return await kube.maybe(
            kube.custom.get_namespaced_custom_object, *KNATIVE, namespace, "services", function
        )

    async def _sync(
        self, kube: Kube, namespace: str, function: str
    ) -> tuple[fb.Build, Obj | None, list[Obj]]:
        """The latest build and the Knative Service, rolled forward if the build allows."""
        configs = await self._builds(kube, namespace, function)
        if not configs:
            raise NotFound(f'services.serving.knative.dev "{function}" not found')
        build = await self._latest(kube, namespace, configs[-1])
        ksvc = await self._read_ksvc(kube, namespace, function)
        marker = _deployed_marker(build)
        if build.status == "Succeeded" and (
            ksvc is None or annotations_of(ksvc).get(fb.ANNOTATION_DEPLOYED) != marker
        ):
            body = knative_service_manifest(
                namespace, build.spec, image=build.image, generation=_generation(ksvc) + 1
            )
            body["metadata"]["annotations"] = {
                fb.ANNOTATION_DEPLOYED: marker,
                fb.LABEL_BUILD: str(build.number),
            }
            try:
                if ksvc is None:
                    ksvc = await kube.call(
                        kube.custom.create_namespaced_custom_object,
                        *KNATIVE,
                        namespace,
                        "services",
                        body,
                    )
                else:
                    body["metadata"]["resourceVersion"] = meta(ksvc).get("resourceVersion")
                    ksvc = await kube.call(
                        kube.custom.replace_namespaced_custom_object,
                        *KNATIVE,
                        namespace,
                        "services",
                        function,
                        body,
                    )
            except Conflict:  # another reader rolled it out first
                ksvc = await self._read_ksvc(kube, namespace, function)
        return build, ksvc, configs

    async def _info(
        self, kube: Kube, workspace: str, namespace: str, function: str
    ) -> FunctionInfo:
        build, ksvc, configs = await self._sync(kube, namespace, function)
        account = await kube.maybe(
            kube.core.read_namespaced_service_account, f"{function}-runtime", namespace
        )
        serving = status(ksvc).get("latestReadyRevisionName") if ksvc is not None else None
        first = min(created(c) for c in configs)
        return FunctionInfo(
            name=function,
            namespace=namespace,
            phase=_phase(build, ksvc),
            url=str(status(ksvc).get("url") or "") if ksvc is not None else "",
            ready=serving is not None,
            latest_revision=serving,
            latest_build=build.view(),
            timeout_seconds=build.spec.timeout_seconds,
            memory=build.spec.memory,
            cpu=build.spec.cpu,
            min_scale=build.spec.min_scale,
            max_scale=build.spec.max_scale,
            created_at=created(account) if account is not None else first,
        )

    async def deploy_function(
        self, workspace: str, namespace: str, spec: FunctionSpec
    ) -> FunctionInfo:
        kube = await self._cluster(workspace)
        await self._namespace(kube, namespace)
        configs = await self._builds(kube, namespace, spec.name)
        last = await self._latest(kube, namespace, configs[-1]) if configs else None
        with contextlib.suppress(Conflict):  # deployed before: the account stays
            await kube.call(
                kube.core.create_namespaced_service_account,
                namespace,
                function_service_account(namespace, spec.name),
            )
        sha, image = source_sha256(spec), function_image(workspace, namespace, spec)
        notes = fb.record_annotations(spec, image, sha)
        if last is not None and last.sha == sha and last.status == "Succeeded":
            await kube.call(  # same source: no rebuild, the new settings roll out on the image
                kube.core.patch_namespaced_config_map,
                name(last.config),
                namespace,
                {"metadata": {"annotations": notes}},
            )
            return await self._info(kube, workspace, namespace, spec.name)
        number = last.number + 1 if last is not None else 1
        config = function_source_configmap(namespace, spec, build_number=number)
        config["metadata"]["labels"][fb.LABEL_BUILD] = str(number)
        config["metadata"]["annotations"] = notes
        config = await kube.call(kube.core.create_namespaced_config_map, namespace, config)
        job = kaniko_build_job(namespace, spec, build_number=number, image=image)
        job["metadata"]["ownerReferences"] = [
            {
                "apiVersion": "v1",
                "kind": "ConfigMap",
                "name": name(config),
                "uid": meta(config)["uid"],
            }
        ]
        try:
            await kube.call(kube.batch.create_namespaced_job, namespace, job)
        except DomainError:  # no build will run: do not leave a record of one
            await kube.maybe(kube.core.delete_namespaced_config_map, name(config), namespace)
            raise
        for old in configs[: max(0, len(configs) + 1 - fb.MAX_BUILDS)]:
            await kube.maybe(kube.core.delete_namespaced_config_map, name(old), namespace)
        return await self._info(kube, workspace, namespace, spec.name)

    async def get_function(self, workspace: str, namespace: str, name: str) -> FunctionInfo:
        kube = await self._cluster(workspace)
        return await self._info(kube, workspace, namespace, name)

    async def list_functions(self, workspace: str, namespace: str) -> list[FunctionInfo]:
        kube = await self._cluster(workspace)
        await self._namespace(kube, namespace)
        configs = await kube.items(
            kube.core.list_namespaced_config_map, namespace, label_selector=fb.LABEL_BUILD
        )
        names = sorted({labels(c)[LABEL_FUNCTION] for c in configs if LABEL_FUNCTION in labels(c)})
        return [await self._info(kube, workspace, namespace, n) for n in names]

    async def list_function_revisions(
        self, workspace: str, namespace: str, name: str
    ) -> list[FunctionRevision]:
        kube = await self._cluster(workspace)
        _, ksvc, _ = await self._sync(kube, namespace, name)
        traffic = {
            str(t.get("revisionName")): int(t.get("percent") or 0)
            for t in (status(ksvc).get("traffic") or [] if ksvc is not None else [])
        }
        revisions = await kube.items(
            kube.custom.list_namespaced_custom_object,
            *KNATIVE,
            namespace,
            "revisions",
            label_selector=f"{SERVICE_LABEL}={name}",
        )

        def order(revision: Obj) -> tuple[int, str]:
            generation = labels(revision).get(GENERATION_LABEL, "0")
            return (int(generation) if generation.isdigit() else 0, str(meta(revision)["name"]))

        out = []
        for revision in sorted(revisions, key=order):
            containers = spec(revision).get("containers") or [{}]
            out.append(
                FunctionRevision(
                    name=str(meta(revision)["name"]),
                    image=str(containers[0].get("image", "")),
                    created_at=created(revision),
                    ready=is_true(revision, "Ready"),
                    traffic_percent=traffic.get(str(meta(revision)["name"]), 0),
                )
            )
        return out

    async def invoke_function(
        self, workspace: str, namespace: str, name: str, request: FunctionRequest
    ) -> FunctionResponse:
        kube = await self._cluster(workspace)
        build, ksvc, _ = await self._sync(kube, namespace, name)
        serving = status(ksvc).get("latestReadyRevisionName") if ksvc is not None else None
        url = str(status(ksvc).get("url") or "") if ksvc is not None else ""
        if not serving or not url:
            raise Unavailable(
                f'function "{name}" has no ready revision (phase {_phase(build, ksvc)})'
            )
        template_spec = spec(ksvc).get("template", {}).get("spec", {}) if ksvc else {}
        timeout = float(template_spec.get("timeoutSeconds") or build.spec.timeout_seconds)
        return await invoke(
            self._http, url, request, time_limit=timeout, revision=str(serving), function=name
        )

    async def _pod_log(
        self, kube: Kube, namespace: str, selector: str, container: str | None
    ) -> list[LogLine]:
        """The merged, time-ordered logs of the pods matching ``selector``."""
        lines: list[LogLine] = []
        pods = await kube.items(kube.core.list_namespaced_pod, namespace, label_selector=selector)
        for pod in sorted(pods, key=lambda p: (created(p), name(p))):
            try:
                text = await self._log_text(kube, namespace, name(pod), container)
            except (InvalidInput, NotFound):
                continue  # its container has not started yet, or the pod just went away
            lines += parse_log(text)
        return sorted(lines, key=lambda line: line.timestamp)

    async def get_function_logs(
        self,
        workspace: str,
        namespace: str,
        name: str,
        *,
        tail_lines: int | None = None,
        build: bool = False,
    ) -> list[LogLine]:
        kube = await self._cluster(workspace)
        latest, _, _ = await self._sync(kube, namespace, name)
        if build:
            lines = await self._pod_log(
                kube, namespace, f"{LABEL_JOB_NAME}={latest.job_name}", None
            )
        else:
            lines = await self._pod_log(
                kube, namespace, f"{SERVICE_LABEL}={name}", "user-container"
            )
        return lines[-tail_lines:] if tail_lines else lines

    async def delete_function(self, workspace: str, namespace: str, name: str) -> None:
        kube = await self._cluster(workspace)
        configs = await self._builds(kube, namespace, name)
        ksvc = await self._read_ksvc(kube, namespace, name)
        if not configs and ksvc is None:
            raise NotFound(f'services.serving.knative.dev "{name}" not found')
        if ksvc is not None:
            await kube.maybe(
                kube.custom.delete_namespaced_custom_object, *KNATIVE, namespace, "services", name
            )
        jobs = await kube.items(
            kube.batch.list_namespaced_job, namespace, label_selector=f"{LABEL_FUNCTION}={name}"
        )
        for job in jobs:
            await kube.maybe(
                kube.batch.delete_namespaced_job,
                meta(job)["name"],
                namespace,
                propagation_policy="Background",
            )
        for config in configs:
            await kube.maybe(
                kube.core.delete_namespaced_config_map, meta(config)["name"], namespace
            )
        await kube.maybe(kube.core.delete_namespaced_service_account, f"{name}-runtime", namespace)
