"""What ``KubernetesGateway`` sends: the exact objects and patches, as recorded by the fake.

The contract tests check behaviour; these check the wire. Each request body is compared with the
shared manifest builder (so twin and real gateway create the same objects) and the properties
that matter for safety are spelled out: the function's restricted runtime, the unprivileged
Kaniko build, the manual Job's name/labels/owner, the quota, the vCluster CR.
"""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from datetime import timedelta
from typing import Any

import pytest

from platform_core.cluster import (
    ApplicationSpec,
    CronJobSpec,
    FunctionSpec,
    ResourceQuotaSpec,
)
from platform_core.cluster import manifests as m
from platform_core.cluster.kubernetes import KubernetesGateway, promql, vcluster
from platform_core.cluster.kubernetes.objects import format_time
from tests.support.fake_kube import FakeKube
from tests.support.fake_kube.gateway import active_workspace, connect

WS = "ws-1"
VC = f"/vclusters/{WS}"


@pytest.fixture
def fake(fake_kube: FakeKube) -> FakeKube:
    fake_kube.reset()
    return fake_kube


@pytest.fixture
async def gw(fake: FakeKube) -> AsyncIterator[KubernetesGateway]:
    gateway = connect(fake)
    yield gateway
    await gateway.aclose()


def sent(fake: FakeKube, method: str, path: str) -> list[Any]:
    """Bodies of the requests with exactly this method and path, in order."""
    return [r.body for r in fake.requests if r.method == method and r.path == path]


def only(fake: FakeKube, method: str, path: str) -> Any:
    bodies = sent(fake, method, path)
    assert len(bodies) == 1, (method, path, len(bodies))
    return bodies[0]


async def test_a_workspace_is_a_virtual_cluster_in_its_own_host_namespace(
    fake: FakeKube, gw: KubernetesGateway
) -> None:
    await gw.provision_workspace(WS, kubernetes_version="1.31")
    assert only(fake, "POST", "/api/v1/namespaces") == vcluster.host_namespace_manifest(WS)
    cr = only(
        fake, "POST", f"/apis/workspaces.hexabase.io/v1/namespaces/hxb-ws-{WS}/virtualclusters"
    )
    assert cr == vcluster.vcluster_manifest(WS, kubernetes_version="1.31", now=fake.now())
    assert cr["spec"] == {
        "workspace": WS,
        "kubernetesVersion": "1.31",
        "suspended": False,
        "exportKubeConfig": {"secret": f"vc-{WS}", "key": "config"},
    }

    fake.advance(35)
    await gw.list_namespaces(WS)
    secret = f"/api/v1/namespaces/hxb-ws-{WS}/secrets/vc-{WS}"
    assert [r.path for r in fake.requests if r.path == secret]  # the exported kubeconfig
    assert [r.path for r in fake.requests[-2:]] == [  # the vCluster's own API
        f"{VC}/api/v1/namespaces",
        f"{VC}/api/v1/resourcequotas",
    ]

    await gw.suspend_workspace(WS)
    patch = fake.requests_to("PATCH", "/virtualclusters/ws-1")[-1]
    assert patch.content_type == "application/merge-patch+json"
    assert patch.body == {
        "metadata": {"annotations": {vcluster.ANNOTATION_PHASE_SINCE: format_time(fake.now())}},
        "spec": {"suspended": True},
    }
    await gw.resume_workspace(WS)
    await gw.delete_workspace(WS)
    [delete] = fake.requests_to("DELETE", f"/virtualclusters/{WS}")
    assert delete.query == {"propagationPolicy": "Foreground"}
    tombstone = fake.requests_to("PATCH", f"/api/v1/namespaces/hxb-ws-{WS}")[-1].body
    assert tombstone["metadata"]["annotations"][vcluster.ANNOTATION_DELETED_AT]


async def test_projects_are_labelled_namespaces_with_a_replaceable_quota(
    fake: FakeKube, gw: KubernetesGateway
) -> None:
    await active_workspace(fake, gw, WS)
    quota = ResourceQuotaSpec(cpu="4", memory="8Gi", storage="20Gi", pods=20)
    await gw.create_namespace(WS, "team-a", quota=quota, labels={"env": "dev"})
    await gw.create_namespace(WS, "team-a-api", parent="team-a")
    namespaces = sent(fake, "POST", f"{VC}/api/v1/namespaces")
    assert namespaces == [
        m.namespace_manifest("team-a", labels={"env": "dev"}),
        m.namespace_manifest("team-a-api", parent="team-a"),
    ]
    assert namespaces[1]["metadata"]["labels"][m.LABEL_PARENT] == "team-a"
    body = only(fake, "POST", f"{VC}/api/v1/namespaces/team-a/resourcequotas")
    assert body == m.resource_quota_manifest("team-a", quota)
    assert body["spec"]["hard"] == {
        "requests.cpu": "4",
        "limits.cpu": "4",
        "requests.memory": "8Gi",
        "limits.memory": "8Gi",
        "requests.storage": "20Gi",
        "pods": "20",
    }

    await gw.set_namespace_quota(WS, "team-a", ResourceQuotaSpec(pods=50))
    put = only(fake, "PUT", f"{VC}/api/v1/namespaces/team-a/resourcequotas/compute-resources")
    assert put["spec"] == {"hard": {"pods": "50"}}  # replaced, not merged
    assert put["metadata"]["resourceVersion"]


async def test_application_verbs_are_kubectls(fake: FakeKube, gw: KubernetesGateway) -> None:
    await active_workspace(fake, gw, WS)
    spec = ApplicationSpec(name="web", image="ghcr.io/acme/web:1.4.2", replicas=2)
    await gw.create_application(WS, "default", spec)
    deployments = f"{VC}/apis/apps/v1/namespaces/default/deployments"
    expected = m.deployment_manifest("default", spec)
    expected["metadata"]["annotations"] = {m.ANNOTATION_CHANGE_CAUSE: "created"}
    assert only(fake, "POST", deployments) == expected
    service = only(fake, "POST", f"{VC}/api/v1/namespaces/default/services")
    assert service == m.service_manifest("default", spec)
    fake.advance(20)

    await gw.update_application(WS, "default", "web", image="ghcr.io/acme/web:1.5.0")
    update = fake.requests_to("PATCH", f"{deployments}/web")[-1]
    assert update.content_type == "application/json-patch+json"
    changed = spec.model_copy(update={"image": "ghcr.io/acme/web:1.5.0"})
    assert update.body == [
        {"op": "replace", "path": "/spec/template", "value": m.pod_template(changed)},
        {
            "op": "add",
            "path": "/metadata/annotations/kubernetes.io~1change-cause",
            "value": "updated image to ghcr.io/acme/web:1.5.0",
        },
    ]

    await gw.scale_application(WS, "default", "web", replicas=5)
    assert only(fake, "PATCH", f"{deployments}/web/scale") == {"spec": {"replicas": 5}}

    await gw.restart_application(WS, "default", "web")
    restart = fake.requests_to("PATCH", f"{deployments}/web")[-1]
    assert restart.content_type == "application/strategic-merge-patch+json"
    annotations = restart.body["spec"]["template"]["metadata"]["annotations"]
    assert annotations == {m.ANNOTATION_RESTARTED_AT: format_time(fake.now())}

    history = await gw.list_revisions(WS, "default", "web")
    await gw.rollback_application(WS, "default", "web", to_revision=1)
    rollback = fake.requests_to("PATCH", f"{deployments}/web")[-1].body
    template = rollback[0]["value"]
    assert rollback[0]["op"] == "replace" and rollback[0]["path"] == "/spec/template"
    assert template == m.pod_template(spec)  # revision 1's template, minus pod-template-hash
    assert "pod-template-hash" not in template["metadata"]["labels"]
    assert history[0].pod_template_hash and history[0].revision == 1

    await gw.set_autoscaling(
        WS, "default", "web", min_replicas=2, max_replicas=6, target_cpu_utilization=60
    )
    hpa = only(
        fake, "POST", f"{VC}/apis/autoscaling/v2/namespaces/default/horizontalpodautoscalers"
    )
    assert hpa == m.hpa_manifest(
        "default", "web", min_replicas=2, max_replicas=6, target_cpu_utilization=60
    )
    await gw.delete_application(WS, "default", "web")
    [delete] = fake.requests_to("DELETE", f"{deployments}/web")
    assert delete.query == {"propagationPolicy": "Background"}


async def test_a_manual_run_is_a_labelled_job_owned_by_its_cronjob(
    fake: FakeKube, gw: KubernetesGateway
) -> None:
    await active_workspace(fake, gw, WS)
    spec = CronJobSpec(name="report", schedule="0 3 * * *", image="busybox:1.36", command=["true"])
    await gw.create_cronjob(WS, "default", spec)
    cronjobs = f"{VC}/apis/batch/v1/namespaces/default/cronjobs"
    assert only(fake, "POST", cronjobs) == m.cronjob_manifest("default", spec)
    cron = fake.get("cronjobs", "default", "report", workspace=WS)
    assert cron is not None

    fake.advance(7)
    run = await gw.trigger_cronjob(WS, "default", "report")
    job = only(fake, "POST", f"{VC}/apis/batch/v1/namespaces/default/jobs")
    name = f"report-manual-{int(fake.now().timestamp())}"
    assert run.name == job["metadata"]["name"] == name and run.manual
    assert job["metadata"]["labels"] == {
        **m.MANAGED_BY,
        m.LABEL_CRONJOB: "report",
        m.LABEL_TRIGGER: "manual",
    }
    assert job["metadata"]["annotations"] == {m.ANNOTATION_INSTANTIATE: "manual"}
    assert job["metadata"]["ownerReferences"] == [
        {
            "apiVersion": "batch/v1",
            "kind": "CronJob",
            "name": "report",
            "controller": True,
            "uid": cron["metadata"]["uid"],
        }
    ]
    assert job["spec"]["template"]["metadata"]["labels"][m.LABEL_TRIGGER] == "manual"
    assert (
        job["spec"]["template"]["spec"] == cron["spec"]["jobTemplate"]["spec"]["template"]["spec"]
    )

    await gw.update_cronjob(WS, "default", "report", schedule="30 2 * * *", image="busybox:1.37")
    assert fake.requests_to("PATCH", f"{cronjobs}/report")[-1].body == [
        {"op": "replace", "path": "/spec/schedule", "value": "30 2 * * *"},
        {
            "op": "add",
            "path": "/spec/jobTemplate/spec/template/spec/containers/0/image",
            "value": "busybox:1.37",
        },
    ]


async def test_a_function_is_an_unprivileged_kaniko_build_then_a_restricted_knative_service(
    fake: FakeKube, gw: KubernetesGateway
) -> None:
    await active_workspace(fake, gw, WS)
    spec = FunctionSpec(
        name="adder",
        source="def handle(request):\n    return 'ok'\n",
        env={"MODE": "fast"},
        timeout_seconds=3,
        memory="256Mi",
        cpu="500m",
        min_scale=1,
        max_scale=4,
    )
    await gw.deploy_function(WS, "default", spec)
    base = f"{VC}/api/v1/namespaces/default"
    assert only(fake, "POST", f"{base}/serviceaccounts") == m.function_service_account(
        "default", "adder"
    )
    context = only(fake, "POST", f"{base}/configmaps")
    expected_context = m.function_source_configmap("default", spec, build_number=1)
    assert context["data"] == expected_context["data"]
    assert context["data"]["handler.py"] == spec.source
    assert context["metadata"]["name"] == "adder-build-1-context"

    image = m.function_image(WS, "default", spec)
    job = only(fake, "POST", f"{VC}/apis/batch/v1/namespaces/default/jobs")
    expected_job = m.kaniko_build_job("default", spec, build_number=1, image=image)
    assert job["spec"] == expected_job["spec"]
    assert job["metadata"]["ownerReferences"][0]["name"] == "adder-build-1-context"
    pod = job["spec"]["template"]["spec"]
    [kaniko] = pod["containers"]
    assert kaniko["image"] == m.KANIKO_IMAGE
    assert "--context=dir:///workspace" in kaniko["args"]
    assert f"--destination={image}" in kaniko["args"]
    assert not kaniko.get("securityContext", {}).get("privileged")
    assert pod["automountServiceAccountToken"] is False
    assert not any("hostPath" in v for v in pod["volumes"])
    assert kaniko["resources"]["limits"] == {"cpu": "1", "memory": "1Gi"}
    mounts = {v["mountPath"]: v["name"] for v in kaniko["volumeMounts"]}
    volumes = {v["name"]: v for v in pod["volumes"]}
    assert volumes[mounts["/workspace"]]["configMap"]["name"] == "adder-build-1-context"

    for _ in range(20):
        fake.advance(5)
        if (await gw.get_function(WS, "default", "adder")).ready:
            break
    ksvc = only(fake, "POST", f"{VC}/apis/serving.knative.dev/v1/namespaces/default/services")
    expected = m.knative_service_manifest("default", spec, image=image, generation=1)
    assert ksvc["spec"] == expected["spec"]
    template = ksvc["spec"]["template"]
    assert template["metadata"]["annotations"] == {
        "autoscaling.knative.dev/min-scale": "1",
        "autoscaling.knative.dev/max-scale": "4",
    }
    assert template["spec"]["serviceAccountName"] == "adder-runtime"
    assert template["spec"]["automountServiceAccountToken"] is False
    [container] = template["spec"]["containers"]
    assert container["securityContext"] == {
        "runAsNonRoot": True,
        "runAsUser": m.FUNCTION_USER,
        "runAsGroup": m.FUNCTION_USER,
        "readOnlyRootFilesystem": True,
        "allowPrivilegeEscalation": False,
        "capabilities": {"drop": ["ALL"]},
        "seccompProfile": {"type": "RuntimeDefault"},
    }
    assert container["resources"]["limits"] == {"cpu": "500m", "memory": "256Mi"}
    assert {"name": "MODE", "value": "fast"} in container["env"]

    await gw.deploy_function(WS, "default", spec.model_copy(update={"max_scale": 8}))
    assert len(sent(fake, "POST", f"{VC}/apis/batch/v1/namespaces/default/jobs")) == 1  # no rebuild
    replaced = sent(
        fake, "PUT", f"{VC}/apis/serving.knative.dev/v1/namespaces/default/services/adder"
    )
    assert replaced[-1]["spec"]["template"]["metadata"]["name"] == "adder-00002"


async def test_metrics_are_promql_range_queries_on_the_vclusters_host_pods(
    fake: FakeKube, gw: KubernetesGateway
) -> None:
    await active_workspace(fake, gw, WS)
    await gw.create_application(WS, "default", ApplicationSpec(name="web", image="web:1"))
    fake.advance(600)
    end = fake.now()
    result = await gw.get_metrics(
        WS, "default", "web", start=end - timedelta(minutes=5), end=end, step_seconds=60
    )
    sel = f'namespace="hxb-ws-{WS}", pod=~"web-[a-z0-9]+-[a-z0-9]{{5}}-x-default-x-{WS}"'
    assert sel == promql.selector("web", "default", WS, vcluster.host_namespace(WS))
    assert set(fake.prometheus_queries) == {
        f'sum by (pod) (rate(container_cpu_usage_seconds_total{{{sel}, container!="", '
        'container!="POD"}[5m]))',
        f'sum by (pod) (container_memory_working_set_bytes{{{sel}, container!="", '
        'container!="POD"})',
        f"sum by (pod) (rate(http_requests_total{{{sel}}}[5m]))",
        f'(sum(rate(http_requests_total{{{sel}, code=~"5.."}}[5m])) or vector(0)) / '
        f"sum(rate(http_requests_total{{{sel}}}[5m]))",
        "1000 * histogram_quantile(0.95, sum by (le) "
        f"(rate(http_request_duration_seconds_bucket{{{sel}}}[5m])))",
        f'sum by (pod) (kube_pod_status_ready{{{sel}, condition="true"}})',
        f"sum by (pod) (kube_pod_container_status_restarts_total{{{sel}}})",
    }
    minutes = [p.timestamp.strftime("%H:%M") for p in result.get("cpu").points]
    assert minutes == ["09:06", "09:07", "09:08", "09:09", "09:10"]  # aligned to the step
    assert all(len(s.points) == 5 for s in result.series)
    assert json.loads(result.model_dump_json())["series"][0]["unit"] == "cores"
