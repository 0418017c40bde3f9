"""Manifest builders, quantities, cron schedules and names: the pieces both gateways share."""

from __future__ import annotations

import ast
from datetime import UTC, datetime
from pathlib import Path

import pytest
import yaml

from platform_core.cluster import manifests
from platform_core.cluster.cron import parse_cron
from platform_core.cluster.function_runtime import make_request, shape_response
from platform_core.cluster.naming import pod_template_hash, safe_encode
from platform_core.cluster.quantity import cpu_millis, format_cpu, format_memory, memory_bytes
from platform_core.cluster.schemas import (
    ApplicationSpec,
    CronJobSpec,
    FunctionSpec,
    ResourceQuotaSpec,
)

SPEC = ApplicationSpec(name="web", image="ghcr.io/acme/web:1.4.2", replicas=3, env={"A": "1"})


def test_quantities() -> None:
    assert cpu_millis("500m") == 500 and cpu_millis("2") == 2000 and cpu_millis("0.25") == 250
    assert memory_bytes("256Mi") == 256 * 2**20 and memory_bytes("1G") == 10**9
    assert memory_bytes("2e3") == 2000
    assert format_cpu(1500) == "1500m" and format_cpu(2000) == "2"
    assert format_memory(3 * 2**30) == "3Gi" and format_memory(1000) == "1000"
    for bad in ("", "abc", "12XB", "-1"):
        with pytest.raises(ValueError):
            memory_bytes(bad)


@pytest.mark.parametrize(
    ("expression", "after", "expected"),
    [
        ("*/15 * * * *", datetime(2025, 1, 6, 9, 7), datetime(2025, 1, 6, 9, 15)),
        ("0 9-17 * * MON-FRI", datetime(2025, 1, 10, 18, 0), datetime(2025, 1, 13, 9, 0)),
        ("30 2 1 * *", datetime(2025, 1, 6), datetime(2025, 2, 1, 2, 30)),
        ("0 0 29 2 *", datetime(2025, 1, 6), datetime(2028, 2, 29)),
        ("0 12 1 * 1", datetime(2025, 1, 2), datetime(2025, 1, 6, 12, 0)),  # day OR weekday
        ("@hourly", datetime(2025, 1, 6, 9, 0), datetime(2025, 1, 6, 10, 0)),
        ("0 0 * * 7", datetime(2025, 1, 6), datetime(2025, 1, 12)),  # 7 is Sunday
        ("5,10-12/2 * * * *", datetime(2025, 1, 6, 9, 5), datetime(2025, 1, 6, 9, 10)),
    ],
)
def test_cron_next_firing(expression: str, after: datetime, expected: datetime) -> None:
    schedule = parse_cron(expression)
    assert schedule.next_after(after.replace(tzinfo=UTC)) == expected.replace(tzinfo=UTC)


def test_cron_rejects_bad_expressions_and_never_fires_on_feb_30() -> None:
    for bad in ("* * * *", "60 * * * *", "* * * FOO *", "*/0 * * * *", "5-1 * * * *"):
        with pytest.raises(ValueError):
            parse_cron(bad)
    assert parse_cron("0 0 30 2 *").next_after(datetime(2025, 1, 1, tzinfo=UTC)) is None


def test_pod_template_hash_changes_with_the_template() -> None:
    template = manifests.pod_template(SPEC)
    first = pod_template_hash(template)
    assert first == pod_template_hash(manifests.pod_template(SPEC))
    assert set(first) <= set("bcdfghjklmnpqrstvwxz2456789")
    restarted = manifests.pod_template(SPEC, restarted_at="2025-01-06T10:00:00Z")
    assert pod_template_hash(restarted) != first
    assert safe_encode("0") == "4"  # byte 48 -> alphabet[48 % 27], as in Kubernetes


def test_deployment_and_quota_manifests() -> None:
    deployment = manifests.deployment_manifest("shop", SPEC)
    assert deployment["kind"] == "Deployment" and deployment["spec"]["replicas"] == 3
    container = deployment["spec"]["template"]["spec"]["containers"][0]
    assert container["env"] == [{"name": "A", "value": "1"}]
    assert container["resources"]["limits"] == {"cpu": "500m", "memory": "256Mi"}
    assert deployment["spec"]["strategy"]["rollingUpdate"] == {
        "maxSurge": "25%",
        "maxUnavailable": "25%",
    }
    quota = manifests.resource_quota_manifest(
        "shop", ResourceQuotaSpec(cpu="4", memory="8Gi", storage="50Gi", pods=30)
    )
    assert quota["spec"]["hard"] == {
        "requests.cpu": "4",
        "limits.cpu": "4",
        "requests.memory": "8Gi",
        "limits.memory": "8Gi",
        "requests.storage": "50Gi",
        "pods": "30",
    }
    child = manifests.namespace_manifest("shop-api", parent="shop")
    assert child["metadata"]["labels"][manifests.LABEL_PARENT] == "shop"


def test_cronjob_and_manual_job() -> None:
    app_template = manifests.pod_template(SPEC)
    spec = CronJobSpec(
        name="cleanup",
        schedule="@daily",
        from_application="web",
        command=["python", "manage.py", "cleanup"],
        concurrency_policy="Forbid",
    )
    cronjob = manifests.cronjob_manifest("shop", spec, app_template=app_template)
    container = cronjob["spec"]["jobTemplate"]["spec"]["template"]["spec"]["containers"][0]
    assert container["image"] == SPEC.image and "ports" not in container
    assert cronjob["spec"]["concurrencyPolicy"] == "Forbid"
    now = datetime(2025, 1, 6, 9, 30, 15, tzinfo=UTC)
    name = manifests.manual_job_name("cleanup", now)
    assert name == f"cleanup-manual-{int(now.timestamp())}"
    job = manifests.job_from_cronjob(cronjob, job_name=name, manual=True)
    assert job["metadata"]["labels"][manifests.LABEL_TRIGGER] == "manual"
    assert job["metadata"]["annotations"] == {"cronjob.kubernetes.io/instantiate": "manual"}
    assert job["metadata"]["ownerReferences"][0]["name"] == "cleanup"
    assert manifests.scheduled_job_name("cleanup", now) == "cleanup-28935930"  # minutes
    assert len(manifests.manual_job_name("x" * 52, now)) <= 63


def test_function_build_and_service_are_locked_down() -> None:
    spec = FunctionSpec(
        name="hello",
        source="def handle(r):\n    return 'hi'\n",
        memory="256Mi",
        cpu="500m",
        min_scale=1,
        max_scale=4,
    )
    image = manifests.function_image("ws-1", "default", spec)
    assert image.startswith("registry.hexabase.local/functions/ws-1/default/hello:")
    job = manifests.kaniko_build_job("default", spec, build_number=3, image=image)
    assert job["metadata"]["name"] == "hello-build-3"
    pod = job["spec"]["template"]["spec"]
    assert pod["automountServiceAccountToken"] is False and pod["restartPolicy"] == "Never"
    assert f"--destination={image}" in pod["containers"][0]["args"]
    context = manifests.function_source_configmap("default", spec, build_number=3)
    assert context["data"]["handler.py"] == spec.source
    assert "py_compile" in context["data"]["Dockerfile"]
    ast.parse(context["data"]["runtime.py"])

    service = manifests.knative_service_manifest("default", spec, image=image, generation=2)
    template = service["spec"]["template"]
    assert template["metadata"]["name"] == "hello-00002"
    assert template["metadata"]["annotations"]["autoscaling.knative.dev/min-scale"] == "1"
    assert template["metadata"]["annotations"]["autoscaling.knative.dev/max-scale"] == "4"
    assert template["spec"]["serviceAccountName"] == "hello-runtime"
    assert template["spec"]["automountServiceAccountToken"] is False
    container = template["spec"]["containers"][0]
    assert container["securityContext"] == {
        "runAsNonRoot": True,
        "runAsUser": 65532,
        "runAsGroup": 65532,
        "readOnlyRootFilesystem": True,
        "allowPrivilegeEscalation": False,
        "capabilities": {"drop": ["ALL"]},
        "seccompProfile": {"type": "RuntimeDefault"},
    }
    assert container["resources"]["limits"] == {"cpu": "500m", "memory": "256Mi"}
    account = manifests.function_service_account("default", "hello")
    assert account["automountServiceAccountToken"] is False


def test_function_runtime_contract() -> None:
    request = make_request("POST", "/x", {"X-Key": "v"}, {"q": "1"}, '{"a": 1}')
    assert request["json"] == {"a": 1} and request["headers"] == {"x-key": "v"}
    assert make_request("GET", "/", {}, {}, "not json")["json"] is None
    assert shape_response("hi") == (200, {"content-type": "text/plain; charset=utf-8"}, "hi")
    assert shape_response({"a": 1}) == (200, {"content-type": "application/json"}, '{"a": 1}')
    status, headers, body = shape_response({"statusCode": 404, "body": {"error": "nope"}})
    assert (status, body) == (404, '{"error": "nope"}')
    assert headers["content-type"] == "application/json"
    with pytest.raises(TypeError):
        shape_response({"status_code": 999})
    with pytest.raises(TypeError):
        shape_response(object())


def test_kubeconfig_is_valid_yaml() -> None:
    config = yaml.safe_load(
        manifests.kubeconfig("ws-1", server="https://x", token="t", ca_data="Y2E=")
    )
    assert config["current-context"] == "vcluster-ws-1"
    assert config["users"][0]["user"]["token"] == "t"


def test_platform_core_does_not_import_the_service_layers() -> None:
    root = Path(__file__).resolve().parents[3] / "platform_core" / "cluster"
    for path in root.rglob("*.py"):
        tree = ast.parse(path.read_text())
        for node in ast.walk(tree):
            names = (
                [a.name for a in node.names]
                if isinstance(node, ast.Import)
                else ([node.module or ""] if isinstance(node, ast.ImportFrom) else [])
            )
            for name in names:
                assert name.split(".")[0] not in {"aiops", "agents", "tools"}, (path, name)
