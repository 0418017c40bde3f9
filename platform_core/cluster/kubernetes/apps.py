"""Applications: a Deployment (plus its Service and optional HPA) per ``ApplicationSpec``.

The verbs are kubectl's:

* create - ``manifests.deployment_manifest`` and ``manifests.service_manifest``;
* update - the pod template is rebuilt with ``manifests.pod_template`` from the current
  Deployment plus the changes and replaced with a JSON patch (a merge patch would keep map keys
  the new template no longer has), recording ``kubernetes.io/change-cause``;
* scale - the ``scale`` subresource; restart - the ``kubectl.kubernetes.io/restartedAt``
  template annotation (``kubectl rollout restart``);
* rollback - ``kubectl rollout undo``: the target ReplicaSet's template, minus its
  ``pod-template-hash`` label, replaces the Deployment's; the controller then reuses that
  ReplicaSet under the next revision number;
* autoscaling - an ``autoscaling/v2`` HPA from ``manifests.hpa_manifest``, created or replaced.

After a change that the controller must act on, ``_observed`` waits (bounded) for it to have
done so, so the returned revision and ReplicaSet are the new ones.
"""

from __future__ import annotations

import copy
from collections.abc import Mapping, Sequence
from typing import Any

from pydantic import ValidationError

from platform_core.cluster.kubernetes import app_views
from platform_core.cluster.kubernetes.base import Obj
from platform_core.cluster.kubernetes.client import Kube
from platform_core.cluster.kubernetes.namespaces import NamespaceOps
from platform_core.cluster.kubernetes.objects import (
    LABEL_HASH,
    annotations_of,
    format_time,
    labels,
    meta,
    name,
    revision,
    spec,
)
from platform_core.cluster.manifests import (
    ANNOTATION_CHANGE_CAUSE,
    ANNOTATION_RESTARTED_AT,
    deployment_manifest,
    hpa_manifest,
    pod_template,
    service_manifest,
)
from platform_core.cluster.schemas import (
    Application,
    ApplicationSpec,
    ResourceRequirements,
    Revision,
)
from platform_core.errors import Conflict, InvalidInput, NotFound


def _cause_patch(deployment: Obj, cause: str) -> Obj:
    if meta(deployment).get("annotations") is None:
        return {
            "op": "add",
            "path": "/metadata/annotations",
            "value": {ANNOTATION_CHANGE_CAUSE: cause},
        }
    key = ANNOTATION_CHANGE_CAUSE.replace("~", "~0").replace("/", "~1")
    return {"op": "add", "path": f"/metadata/annotations/{key}", "value": cause}


def _describe(changes: Mapping[str, Any]) -> str:
    parts = []
    for key, value in changes.items():
        if key == "image":
            parts.append(f"image to {value}")
        elif key == "resources":
            limits = value["limits"]
            parts.append(f"resources (limits cpu {limits['cpu']}, memory {limits['memory']})")
        else:
            parts.append(key)
    return "updated " + (", ".join(parts) or "nothing")


class AppOps(NamespaceOps):
    """The application half of ``ClusterGateway``."""

    async def _deployment(self, kube: Kube, namespace: str, name: str) -> Obj:
        return await kube.call(kube.apps.read_namespaced_deployment, name, namespace)

    async def _view(self, kube: Kube, namespace: str, deployment: Obj) -> Application:
        replica_sets = await self._replica_sets(kube, namespace, deployment)
        hpa = await kube.maybe(
            kube.autoscaling.read_namespaced_horizontal_pod_autoscaler, name(deployment), namespace
        )
        return app_views.application(deployment, replica_sets, hpa)

    async def create_application(
        self, workspace: str, namespace: str, spec: ApplicationSpec
    ) -> Application:
        kube = await self._cluster(workspace)
        await self._namespace(kube, namespace)
        body = deployment_manifest(namespace, spec)
        body["metadata"]["annotations"] = {ANNOTATION_CHANGE_CAUSE: "created"}
        deployment = await kube.call(kube.apps.create_namespaced_deployment, namespace, body)
        service = service_manifest(namespace, spec)
        try:
            await kube.call(kube.core.create_namespaced_service, namespace, service)
        except Conflict:  # a Service of that name exists (an earlier app): point it at this one
            await kube.call(
                kube.core.patch_namespaced_service,
                spec.name,
                namespace,
                {"spec": service["spec"]},
            )
        deployment = await self._observed(kube, namespace, deployment)
        return await self._view(kube, namespace, deployment)

    async def get_application(self, workspace: str, namespace: str, name: str) -> Application:
        kube = await self._cluster(workspace)
        return await self._view(kube, namespace, await self._deployment(kube, namespace, name))

    async def list_applications(self, workspace: str, namespace: str) -> list[Application]:
        kube = await self._cluster(workspace)
        await self._namespace(kube, namespace)
        deployments = await kube.items(kube.apps.list_namespaced_deployment, namespace)
        replica_sets = await kube.items(kube.apps.list_namespaced_replica_set, namespace)
        hpas = {
            name(h): h
            for h in await kube.items(
                kube.autoscaling.list_namespaced_horizontal_pod_autoscaler, namespace
            )
        }
        out = []
        for deployment in sorted(deployments, key=name):
            uid = meta(deployment).get("uid")
            owned = [
                rs
                for rs in replica_sets
                if any(r.get("uid") == uid for r in meta(rs).get("ownerReferences") or [])
            ]
            owned.sort(key=revision)
            out.append(app_views.application(deployment, owned, hpas.get(name(deployment))))
        return out

    async def _replace_template(
        self, kube: Kube, namespace: str, deployment: Obj, template: Obj, cause: str
    ) -> Application:
        patch = [
            {"op": "replace", "path": "/spec/template", "value": template},
            _cause_patch(deployment, cause),
        ]
        updated = await kube.call(
            kube.apps.patch_namespaced_deployment, name(deployment), namespace, patch
        )
        updated = await self._observed(kube, namespace, updated)
        return await self._view(kube, namespace, updated)

    async def update_application(
        self,
        workspace: str,
        namespace: str,
        name: str,
        *,
        image: str | None = None,
        env: Mapping[str, str] | None = None,
        resources: ResourceRequirements | None = None,
        command: Sequence[str] | None = None,
        args: Sequence[str] | None = None,
    ) -> Application:
        kube = await self._cluster(workspace)
        deployment = await self._deployment(kube, namespace, name)
        changes: dict[str, Any] = {}
        for key, value in (
            ("image", image),
            ("env", dict(env) if env is not None else None),
            ("resources", resources.model_dump() if resources is not None else None),
            ("command", list(command) if command is not None else None),
            ("args", list(args) if args is not None else None),
        ):
            if value is not None:
                changes[key] = value
        try:
            wanted = ApplicationSpec.model_validate({**app_views.spec_of(deployment), **changes})
        except ValidationError as exc:
            first = exc.errors(include_url=False)[0]
            raise InvalidInput(str(first["msg"]), details={"field": first["loc"]}) from None
        current = spec(deployment).get("template") or {}
        restarted = annotations_of(current).get(ANNOTATION_RESTARTED_AT)
        template = pod_template(wanted, restarted_at=restarted)
        if template == current:
            return await self._view(kube, namespace, deployment)
        return await self._replace_template(
            kube, namespace, deployment, template, _describe(changes)
        )

    async def scale_application(
        self, workspace: str, namespace: str, name: str, *, replicas: int
    ) -> Application:
        if not 0 <= replicas <= 200:
            raise InvalidInput("replicas must be between 0 and 200")
        kube = await self._cluster(workspace)
        await kube.call(
            kube.apps.patch_namespaced_deployment_scale,
            name,
            namespace,
            {"spec": {"replicas": replicas}},
        )
        deployment = await self._observed(
            kube, namespace, await self._deployment(kube, namespace, name)
        )
        return await self._view(kube, namespace, deployment)

    async def restart_application(self, workspace: str, namespace: str, name: str) -> Application:
        kube = await self._cluster(workspace)
        await self._deployment(kube, namespace, name)
        patch = {
            "metadata": {"annotations": {ANNOTATION_CHANGE_CAUSE: "rollout restart"}},
            "spec": {
                "template": {
                    "metadata": {
                        "annotations": {ANNOTATION_RESTARTED_AT: format_time(await self.now())}
                    }
                }
            },
        }
        deployment = await kube.call(kube.apps.patch_namespaced_deployment, name, namespace, patch)
        deployment = await self._observed(kube, namespace, deployment)
        return await self._view(kube, namespace, deployment)

    async def rollback_application(
        self, workspace: str, namespace: str, name: str, *, to_revision: int | None = None
    ) -> Application:
        kube = await self._cluster(workspace)
        deployment = await self._deployment(kube, namespace, name)
        history = await self._replica_sets(kube, namespace, deployment)
        current = revision(deployment)
        if to_revision is None:
            older = [rs for rs in history if revision(rs) < current]
            if not older:
                raise Conflict(f'no previous revision to roll back to for deployment "{name}"')
            target = older[-1]
        else:
            found = [rs for rs in history if revision(rs) == to_revision]
            if not found:
                raise NotFound(f"unable to find specified revision {to_revision} in history")
            target = found[0]
        if revision(target) == current:
            return await self._view(kube, namespace, deployment)
        template = copy.deepcopy(spec(target).get("template") or {})
        template.setdefault("metadata", {})["labels"] = {
            k: v for k, v in labels(template).items() if k != LABEL_HASH
        }
        cause = (
            annotations_of(target).get(ANNOTATION_CHANGE_CAUSE) or f"rollback to {revision(target)}"
        )
        return await self._replace_template(kube, namespace, deployment, template, cause)

    async def list_revisions(self, workspace: str, namespace: str, name: str) -> list[Revision]:
        kube = await self._cluster(workspace)
        deployment = await self._deployment(kube, namespace, name)
        return app_views.revisions(
            deployment, await self._replica_sets(kube, namespace, deployment)
        )

    async def set_autoscaling(
        self,
        workspace: str,
        namespace: str,
        name: str,
        *,
        min_replicas: int,
        max_replicas: int,
        target_cpu_utilization: int = 80,
    ) -> Application:
        if not 1 <= min_replicas <= max_replicas <= 200:
            raise InvalidInput("need 1 <= min_replicas <= max_replicas <= 200")
        if not 1 <= target_cpu_utilization <= 100:
            raise InvalidInput("target_cpu_utilization must be between 1 and 100 (percent)")
        kube = await self._cluster(workspace)
        deployment = await self._deployment(kube, namespace, name)
        body = hpa_manifest(
            namespace,
            name,
            min_replicas=min_replicas,
            max_replicas=max_replicas,
            target_cpu_utilization=target_cpu_utilization,
        )
        api = kube.autoscaling
        existing = await kube.maybe(api.read_namespaced_horizontal_pod_autoscaler, name, namespace)
        if existing is None:
            await kube.call(api.create_namespaced_horizontal_pod_autoscaler, namespace, body)
        else:
            body["metadata"]["resourceVersion"] = meta(existing).get("resourceVersion")
            await kube.call(api.replace_namespaced_horizontal_pod_autoscaler, name, namespace, body)
        return await self._view(kube, namespace, deployment)

    async def remove_autoscaling(self, workspace: str, namespace: str, name: str) -> Application:
        kube = await self._cluster(workspace)
        deployment = await self._deployment(kube, namespace, name)
        await kube.call(
            kube.autoscaling.delete_namespaced_horizontal_pod_autoscaler, name, namespace
        )
        return await self._view(kube, namespace, deployment)

    async def delete_application(self, workspace: str, namespace: str, name: str) -> None:
        kube = await self._cluster(workspace)
        await kube.call(
            kube.apps.delete_namespaced_deployment,
            name,
            namespace,
            propagation_policy="Background",
        )
        await kube.maybe(kube.core.delete_namespaced_service, name, namespace)
        await kube.maybe(
            kube.autoscaling.delete_namespaced_horizontal_pod_autoscaler, name, namespace
        )
