"""The workspace custom resource: one ``VirtualCluster`` per workspace on the host cluster.

CRD choice. The platform owns a small CRD, ``virtualclusters.workspaces.hexabase.io/v1``, served
by the platform's vCluster operator (which installs the upstream ``vcluster`` chart for each
object). We do not drive the Loft ``VirtualClusterInstance`` directly because its lifecycle
(projects, templates, sleep mode) belongs to Loft's management plane, and the gateway needs just
four things from the CR:

* ``spec.kubernetesVersion`` - the vCluster's Kubernetes version;
* ``spec.suspended`` - the operator scales the vCluster to zero (like ``vcluster pause``: the
  control plane and every synced pod stop, the objects in its store are kept) and back;
* ``status.phase`` (``Pending``/``Deploying`` -> ``Running``; ``Paused``; ``Failed``),
  ``status.message``, ``status.apiServer`` and a ``Ready`` condition;
* the exported kubeconfig: vcluster writes it to the Secret ``vc-<name>`` (key ``config``) in the
  host namespace; ``spec.exportKubeConfig`` asks for it to point at the reachable API server URL.

Each workspace lives in its own host namespace ``hxb-ws-<workspace>``. Deleting a workspace
deletes the CR (the operator's finalizer tears the vCluster down, its Secret included) and marks
the host namespace with ``hexabase.io/deleted-at``: once the CR is gone that namespace is the
tombstone that lets ``get_workspace`` answer ``terminated`` rather than ``NotFound``, also after
the service restarts. Provisioning the same id again reuses the namespace.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from platform_core.cluster.kubernetes.objects import (
    annotations_of,
    condition,
    created,
    format_time,
    meta,
    parse_time,
    spec,
    status,
)
from platform_core.cluster.manifests import MANAGED_BY
from platform_core.cluster.schemas import WorkspacePhase, WorkspaceStatus

Obj = dict[str, Any]

GROUP = "workspaces.hexabase.io"
VERSION = "v1"
PLURAL = "virtualclusters"
KIND = "VirtualCluster"
HOST_NAMESPACE_PREFIX = "hxb-ws-"
MAX_WORKSPACE_ID = 63 - len(HOST_NAMESPACE_PREFIX)
DEFAULT_KUBERNETES_VERSION = "1.30"
LABEL_WORKSPACE = "hexabase.io/workspace"
ANNOTATION_PHASE_SINCE = "hexabase.io/phase-since"
ANNOTATION_DELETED_AT = "hexabase.io/deleted-at"
ANNOTATION_CREATED_AT = "hexabase.io/workspace-created-at"
ANNOTATION_VERSION = "hexabase.io/kubernetes-version"
KUBECONFIG_KEY = "config"


def host_namespace(workspace: str) -> str:
    return f"{HOST_NAMESPACE_PREFIX}{workspace}"


def kubeconfig_secret(workspace: str) -> str:
    """The Secret vcluster exports its kubeconfig to (``vc-<vcluster name>``)."""
    return f"vc-{workspace}"


def host_namespace_manifest(workspace: str) -> Obj:
    return {
        "apiVersion": "v1",
        "kind": "Namespace",
        "metadata": {
            "name": host_namespace(workspace),
            "labels": {**MANAGED_BY, LABEL_WORKSPACE: workspace},
        },
    }


def vcluster_manifest(workspace: str, *, kubernetes_version: str, now: datetime) -> Obj:
    """The ``VirtualCluster`` the operator turns into a running vCluster."""
    return {
        "apiVersion": f"{GROUP}/{VERSION}",
        "kind": KIND,
        "metadata": {
            "name": workspace,
            "namespace": host_namespace(workspace),
            "labels": {**MANAGED_BY, LABEL_WORKSPACE: workspace},
            "annotations": {ANNOTATION_PHASE_SINCE: format_time(now)},
        },
        "spec": {
            "workspace": workspace,
            "kubernetesVersion": kubernetes_version,
            "suspended": False,
            "exportKubeConfig": {"secret": kubeconfig_secret(workspace), "key": KUBECONFIG_KEY},
        },
    }


def phase_of(cr: Obj) -> WorkspacePhase:
    """The platform's phase for a ``VirtualCluster`` object.

    ``spec`` wins over ``status`` where the platform has decided: a CR being deleted is
    ``terminating`` and one asked to suspend is ``suspended`` at once (the API refuses work from
    then on). A CR asked to resume whose operator still reports ``Paused`` counts as ``active``:
    calls may briefly answer ``Unavailable`` until its API server is back, which is the
    protocol's meaning of that error.
    """
    if meta(cr).get("deletionTimestamp"):
        return "terminating"
    if spec(cr).get("suspended"):
        return "suspended"
    if status(cr).get("phase") in {"Running", "Paused"}:
        return "active"
    return "provisioning"


def _message(cr: Obj, phase: WorkspacePhase) -> str:
    reported = {"Running": "active", "Paused": "suspended"}.get(str(status(cr).get("phase")))
    text = str(status(cr).get("message") or "")
    if text and (phase == "provisioning" or reported == phase):
        return text  # the operator's words describe the phase we report
    return {
        "provisioning": "creating vCluster control plane",
        "active": "vCluster running",
        "suspended": "vCluster scaled to zero",
        "terminating": "deleting vCluster",
        "terminated": "vCluster deleted",
    }[phase]


def workspace_status(workspace: str, cr: Obj) -> WorkspaceStatus:
    phase = phase_of(cr)
    since = [created(cr)]
    marked = parse_time(annotations_of(cr).get(ANNOTATION_PHASE_SINCE))
    ready = condition(cr, "Ready")
    for moment in (marked, parse_time(ready.get("lastTransitionTime")) if ready else None):
        if moment is not None:
            since.append(moment)
    if phase == "terminating":
        since.append(parse_time(meta(cr).get("deletionTimestamp")) or since[-1])
    return WorkspaceStatus(
        workspace=workspace,
        phase=phase,
        kubernetes_version=str(spec(cr).get("kubernetesVersion") or DEFAULT_KUBERNETES_VERSION),
        api_server=str(status(cr).get("apiServer") or ""),
        created_at=created(cr),
        phase_since=max(since),
        message=_message(cr, phase),
    )


def tombstone_annotations(cr: Obj, now: datetime) -> dict[str, str]:
    """What the host namespace remembers of a deleted workspace."""
    return {
        ANNOTATION_DELETED_AT: format_time(now),
        ANNOTATION_CREATED_AT: format_time(created(cr)),
        ANNOTATION_VERSION: str(spec(cr).get("kubernetesVersion") or DEFAULT_KUBERNETES_VERSION),
    }


def terminated_status(workspace: str, host_ns: Obj) -> WorkspaceStatus | None:
    """The status of a workspace whose CR is gone, if its host namespace is a tombstone."""
    notes = annotations_of(host_ns)
    deleted = parse_time(notes.get(ANNOTATION_DELETED_AT))
    if deleted is None:
        return None
    return WorkspaceStatus(
        workspace=workspace,
        phase="terminated",
        kubernetes_version=notes.get(ANNOTATION_VERSION, DEFAULT_KUBERNETES_VERSION),
        api_server="",
        created_at=parse_time(notes.get(ANNOTATION_CREATED_AT)) or created(host_ns),
        phase_since=deleted,
        message="vCluster deleted",
    )
