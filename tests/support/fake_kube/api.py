"""The REST surface of the fake API server (one Starlette app for the host and every vCluster).

Paths are the Kubernetes ones: ``/api/v1/...`` and ``/apis/<group>/<version>/...``, with
collections (list, create, deletecollection), items (get, replace, patch, delete) and the
subresources the gateway uses (``deployments/scale``, ``pods/log``, ``*/status``), plus
``metrics.k8s.io`` pod metrics. A vCluster's API is the same surface under
``/vclusters/<workspace>``, which is the server URL in the kubeconfig its operator exports.

Every request is recorded (``FakeKube.requests``) before anything else, then the fault queue is
consulted (an injected error answer, or a hang that ends in a 504 and changes nothing), then
the bearer token is checked against the store's (401 otherwise). Successful writes run the
controllers once, the way real controllers react within milliseconds of a watch event.
"""

from __future__ import annotations

import asyncio
import json
from typing import TYPE_CHECKING, Any
from urllib.parse import parse_qs

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, PlainTextResponse, Response
from starlette.routing import Route

from tests.support.fake_kube.patching import (
    PatchError,
    field_match,
    json_patch,
    label_match,
    merge_patch,
    strategic_merge,
)
from tests.support.fake_kube.store import BY_PATH, NAMESPACE, ApiError, Resource, Store

if TYPE_CHECKING:
    from tests.support.fake_kube.world import FakeKube

Obj = dict[str, Any]
METHODS = ["GET", "POST", "PUT", "PATCH", "DELETE"]


def build_app(world: FakeKube) -> Starlette:
    async def handle(request: Request) -> Response:
        raw = await request.body()
        path = request.url.path
        query = {k: v[-1] for k, v in parse_qs(request.url.query).items()}
        body: Any = None
        if raw:
            try:
                body = json.loads(raw)
            except ValueError:
                body = raw.decode("utf-8", "replace")
        content_type = request.headers.get("content-type", "")
        world.record(request.method, path, query, body, content_type)
        fault = world.take_fault(request.method, path)
        if fault is not None:
            if fault.hang:  # a server that never answers in time; the request has no effect
                await asyncio.sleep(fault.hang)
                error = ApiError(504, "Timeout", "the injected hang ended")
                return JSONResponse(error.status(), 504)
            error = ApiError(fault.status, fault.reason, fault.message)
            headers = {"Retry-After": str(fault.retry_after)} if fault.retry_after else None
            return JSONResponse(error.status(), fault.status, headers=headers)
        try:
            with world.lock:
                store, parts = _store_for(world, path)
                if request.headers.get("authorization") != f"Bearer {store.token}":
                    raise ApiError(401, "Unauthorized", "Unauthorized")
                result = _dispatch(world, store, request.method, parts, query, body, content_type)
                if request.method != "GET":
                    world.after_write()
        except ApiError as exc:
            return JSONResponse(exc.status(), exc.code)
        if isinstance(result, str):
            return PlainTextResponse(result)
        code = 201 if request.method == "POST" else 200
        return JSONResponse(result, code)

    return Starlette(routes=[Route("/{path:path}", handle, methods=METHODS)])


def _store_for(world: FakeKube, path: str) -> tuple[Store, list[str]]:
    parts = [p for p in path.split("/") if p]
    if parts[:1] == ["vclusters"] and len(parts) >= 2:
        store = world.vclusters.get(parts[1])
        if store is None:
            raise ApiError(503, "ServiceUnavailable", f"vcluster {parts[1]!r} is not running")
        if store.paused:
            raise ApiError(503, "ServiceUnavailable", f"vcluster {parts[1]!r} is paused")
        return store, parts[2:]
    return world.host, parts


def _dispatch(
    world: FakeKube,
    store: Store,
    method: str,
    parts: list[str],
    query: dict[str, str],
    body: Any,
    content_type: str,
) -> Obj | str:
    if parts[:1] == ["api"] and len(parts) >= 2:
        group, version, rest = "", parts[1], parts[2:]
    elif parts[:1] == ["apis"] and len(parts) >= 3:
        group, version, rest = parts[1], parts[2], parts[3:]
    else:
        raise ApiError(404, "NotFound", "the server could not find the requested resource")
    if group == "metrics.k8s.io":
        return _pod_metrics(world, store, rest, query)
    namespace = ""
    namespace_sub = not group and len(rest) == 3 and rest[2] in {"status", "finalize"}
    if rest[:1] == ["namespaces"] and len(rest) >= 3 and not namespace_sub:
        namespace, rest = rest[1], rest[2:]
    resource = BY_PATH.get((group, version, rest[0] if rest else ""))
    if resource is None:
        raise ApiError(404, "NotFound", "the server could not find the requested resource")
    name = rest[1] if len(rest) >= 2 else None
    sub = rest[2] if len(rest) >= 3 else None
    if name is None:
        return _collection(store, resource, namespace, method, query, body)
    if sub is not None:
        return _subresource(world, store, resource, namespace, name, sub, method, query, body)
    return _item(store, resource, namespace, name, method, query, body, content_type)


def _list_body(resource: Resource, store: Store, items: list[Obj]) -> Obj:
    return {
        "apiVersion": resource.api_version,
        "kind": f"{resource.kind}List",
        "metadata": {"resourceVersion": str(store.version)},
        "items": items,
    }


def _collection(
    store: Store, resource: Resource, namespace: str, method: str, query: dict[str, str], body: Any
) -> Obj:
    if method == "POST":
        if not isinstance(body, dict):
            raise ApiError(400, "BadRequest", "the request body is not a JSON object")
        return store.create(resource, namespace, body)
    items = [
        o
        for o in store.list(resource, namespace or None)
        if label_match(query.get("labelSelector"), o["metadata"].get("labels") or {})
        and field_match(query.get("fieldSelector"), o)
    ]
    if method == "DELETE":
        for obj in items:
            store.delete(resource, obj["metadata"].get("namespace", ""), obj["metadata"]["name"])
        return _list_body(resource, store, items)
    if method != "GET":
        raise ApiError(405, "MethodNotAllowed", f"{method} is not supported on a collection")
    return _list_body(resource, store, items)


def _patched(current: Obj, body: Any, content_type: str) -> Obj:
    kind = content_type.split(";")[0].strip()
    try:
        if kind == "application/json-patch+json":
            if not isinstance(body, list):
                raise PatchError("a JSON patch must be a list of operations")
            return json_patch(current, body)
        if kind == "application/merge-patch+json":
            result: Obj = merge_patch(current, body)
            return result
        if kind == "application/strategic-merge-patch+json":
            merged: Obj = strategic_merge(current, body)
            return merged
    except PatchError as exc:
        raise ApiError(422, "Invalid", str(exc)) from exc
    raise ApiError(415, "UnsupportedMediaType", f"the media type {kind!r} is not supported")


def _item(
    store: Store,
    resource: Resource,
    namespace: str,
    name: str,
    method: str,
    query: dict[str, str],
    body: Any,
    content_type: str,
) -> Obj:
    if method == "GET":
        return store.require(resource, namespace, name)
    if method == "PUT":
        if not isinstance(body, dict):
            raise ApiError(400, "BadRequest", "the request body is not a JSON object")
        return store.update(resource, namespace, name, body)
    if method == "PATCH":
        current = store.require(resource, namespace, name)
        if (
            resource.group
            and "strategic" in content_type
            and resource.group
            not in {
                "apps",
                "batch",
                "autoscaling",
            }
        ):
            raise ApiError(415, "UnsupportedMediaType", "strategic merge patch is not supported")
        return store.update(resource, namespace, name, _patched(current, body, content_type))
    if method == "DELETE":
        policy = query.get("propagationPolicy") or (
            body.get("propagationPolicy") if isinstance(body, dict) else None
        )
        obj = store.delete(resource, namespace, name)
        if policy == "Orphan":
            _orphan(store, obj)
        return obj
    raise ApiError(405, "MethodNotAllowed", f"{method} is not supported")


def _orphan(store: Store, owner: Obj) -> None:
    uid = owner["metadata"]["uid"]
    for resource, obj in store.all():
        refs = obj["metadata"].get("ownerReferences") or []
        kept = [r for r in refs if r.get("uid") != uid]
        if len(kept) != len(refs):
            obj["metadata"]["ownerReferences"] = kept
            store.put(resource, obj)


def _subresource(
    world: FakeKube,
    store: Store,
    resource: Resource,
    namespace: str,
    name: str,
    sub: str,
    method: str,
    query: dict[str, str],
    body: Any,
) -> Obj | str:
    if resource is NAMESPACE and sub in {"status", "finalize"}:
        return store.require(resource, "", name)
    obj = store.require(resource, namespace, name)
    if sub == "status":
        if method in {"PUT", "PATCH"} and isinstance(body, dict):
            obj["status"] = merge_patch(obj.get("status") or {}, body.get("status") or {})
            store.put(resource, obj)
        return obj
    if sub == "scale" and resource.kind == "Deployment":
        if method in {"PUT", "PATCH"}:
            replicas = ((body or {}).get("spec") or {}).get("replicas")
            if not isinstance(replicas, int) or replicas < 0:
                raise ApiError(
                    422, "Invalid", f'Scale.autoscaling "{name}" is invalid: spec.replicas'
                )
            changed = dict(obj, spec=dict(obj["spec"], replicas=replicas))
            obj = store.update(resource, namespace, name, changed)
        return _scale(obj)
    if sub == "log" and resource.kind == "Pod":
        return world.kubelet.log_text(store, obj, query)
    raise ApiError(404, "NotFound", f"the server could not find the requested resource ({sub})")


def _scale(deployment: Obj) -> Obj:
    meta = deployment["metadata"]
    labels = deployment["spec"].get("selector", {}).get("matchLabels", {})
    return {
        "apiVersion": "autoscaling/v1",
        "kind": "Scale",
        "metadata": {k: meta[k] for k in ("name", "namespace", "uid", "resourceVersion")},
        "spec": {"replicas": deployment["spec"].get("replicas", 1)},
        "status": {
            "replicas": deployment.get("status", {}).get("replicas", 0),
            "selector": ",".join(f"{k}={v}" for k, v in sorted(labels.items())),
        },
    }


def _pod_metrics(world: FakeKube, store: Store, rest: list[str], query: dict[str, str]) -> Obj:
    if len(rest) < 3 or rest[0] != "namespaces" or rest[2] != "pods":
        raise ApiError(404, "NotFound", "the server could not find the requested resource")
    items = [
        m
        for m in world.usage.pod_metrics(store, rest[1])
        if label_match(query.get("labelSelector"), m["metadata"].get("labels") or {})
    ]
    if len(rest) >= 4:
        found = [m for m in items if m["metadata"]["name"] == rest[3]]
        if not found:
            raise ApiError(404, "NotFound", f'podmetrics.metrics.k8s.io "{rest[3]}" not found')
        return found[0]
    return {
        "kind": "PodMetricsList",
        "apiVersion": "metrics.k8s.io/v1beta1",
        "metadata": {},
        "items": items,
    }
