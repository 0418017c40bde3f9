"""CronJobs and their Jobs.

* create - ``manifests.cronjob_manifest``; ``from_application`` copies the Deployment's pod
  template (as the twin does) and records the origin in ``hexabase.io/from-application``.
* update - JSON patch of the schedule, the policy and the container's image/command/args, after
  validating the result like a new ``CronJobSpec`` would be.
* trigger - ``kubectl create job <name>-manual-<unix seconds> --from=cronjob/<name>``:
  ``manifests.job_from_cronjob`` plus the CronJob's uid in the owner reference (the API server
  requires it, and it makes the Job part of the CronJob's history and garbage collection). The
  Job's labels are also put on its pod template, so its pods carry
  ``hexabase.io/trigger=manual`` too.
* history - the Jobs owned by the CronJob, oldest first, each with the outcome from its
  conditions, the exit code of its last pod's container and that pod's log.
* ``next_schedule_time`` is computed here from the schedule (UTC, the CronJob's ``timeZone``)
  because the CronJob API has no such field; a suspended CronJob has none.
"""

from __future__ import annotations

import copy
from collections.abc import Sequence
from datetime import datetime
from typing import Any

from pydantic import ValidationError

from platform_core.cluster.cron import parse_cron
from platform_core.cluster.kubernetes.client import Kube
from platform_core.cluster.kubernetes.metrics import MetricsOps
from platform_core.cluster.kubernetes.objects import (
    LABEL_JOB_NAME,
    annotations_of,
    condition,
    created,
    labels,
    meta,
    name,
    owned_by,
    parse_time,
    spec,
    status,
)
from platform_core.cluster.manifests import (
    LABEL_TRIGGER,
    cronjob_manifest,
    job_from_cronjob,
    manual_job_name,
)
from platform_core.cluster.schemas import ConcurrencyPolicy, CronJobInfo, CronJobSpec, JobRun
from platform_core.errors import InvalidInput, NotFound

Obj = dict[str, Any]
ANNOTATION_FROM_APPLICATION = "hexabase.io/from-application"
JOB_LOG_LINES = 50
_CONTAINER = "/spec/jobTemplate/spec/template/spec/containers/0"


def _container(cron: Obj) -> Obj:
    template = spec(cron).get("jobTemplate", {}).get("spec", {}).get("template", {})
    containers = spec(template).get("containers") or [{}]
    first: Obj = containers[0]
    return first


def _list(value: object) -> list[str] | None:
    return [str(v) for v in value] if isinstance(value, list) else None


def cronjob_info(cron: Obj, now: datetime) -> CronJobInfo:
    fields, container = spec(cron), _container(cron)
    suspended = bool(fields.get("suspend"))
    following = None
    if not suspended:
        try:
            following = parse_cron(str(fields.get("schedule", ""))).next_after(now)
        except ValueError:
            following = None
    policy = fields.get("concurrencyPolicy") or "Allow"
    return CronJobInfo(
        name=name(cron),
        namespace=str(meta(cron).get("namespace", "")),
        schedule=str(fields.get("schedule", "")),
        image=str(container.get("image", "")),
        command=_list(container.get("command")),
        args=_list(container.get("args")),
        from_application=annotations_of(cron).get(ANNOTATION_FROM_APPLICATION),
        concurrency_policy=policy,
        suspended=suspended,
        active_jobs=[str(ref.get("name")) for ref in status(cron).get("active") or []],
        last_schedule_time=parse_time(status(cron).get("lastScheduleTime")),
        last_successful_time=parse_time(status(cron).get("lastSuccessfulTime")),
        next_schedule_time=following,
        created_at=created(cron),
    )


def job_run(job: Obj, cronjob: str, pods: list[Obj], logs: list[str]) -> JobRun:
    state = status(job)
    complete, failed = condition(job, "Complete"), condition(job, "Failed")
    outcome = "Running"
    if complete is not None and complete.get("status") == "True":
        outcome = "Succeeded"
    elif failed is not None and failed.get("status") == "True":
        outcome = "Failed"
    ended = parse_time(state.get("completionTime"))
    if ended is None and outcome == "Failed" and failed is not None:
        ended = parse_time(failed.get("lastTransitionTime"))
    exit_code = None
    if pods:
        for raw in (pods[-1].get("status") or {}).get("containerStatuses") or []:
            terminated = (raw.get("state") or {}).get("terminated")
            if terminated is not None:
                exit_code = int(terminated.get("exitCode") or 0)
    attempts = sum(int(state.get(k) or 0) for k in ("succeeded", "failed", "active"))
    manual = labels(job).get(LABEL_TRIGGER) == "manual" or (
        annotations_of(job).get("cronjob.kubernetes.io/instantiate") == "manual"
    )
    return JobRun(
        name=name(job),
        cronjob=cronjob,
        manual=manual,
        status=outcome,
        start_time=parse_time(state.get("startTime")) or created(job),
        completion_time=ended if outcome != "Running" else None,
        exit_code=exit_code if outcome != "Running" else None,
        attempts=max(attempts, len(pods)),
        reason=str(failed.get("reason")) if outcome == "Failed" and failed is not None else None,
        pods=[name(p) for p in pods],
        logs=logs,
    )


class BatchOps(MetricsOps):
    """The CronJob half of ``ClusterGateway``."""

    async def _cronjob(self, kube: Kube, namespace: str, name: str) -> Obj:
        return await kube.call(kube.batch.read_namespaced_cron_job, name, namespace)

    async def create_cronjob(
        self, workspace: str, namespace: str, spec: CronJobSpec
    ) -> CronJobInfo:
        kube = await self._cluster(workspace)
        await self._namespace(kube, namespace)
        template = None
        if spec.from_application is not None:
            app = await kube.maybe(
                kube.apps.read_namespaced_deployment, spec.from_application, namespace
            )
            if app is None:
                raise NotFound(
                    f'deployments.apps "{spec.from_application}" not found in namespace '
                    f'"{namespace}"'
                )
            template = app["spec"]["template"]
        body = cronjob_manifest(namespace, spec, app_template=template)
        if spec.from_application is not None:
            body["metadata"]["annotations"] = {ANNOTATION_FROM_APPLICATION: spec.from_application}
        cron = await kube.call(kube.batch.create_namespaced_cron_job, namespace, body)
        return cronjob_info(cron, await self.now())

    async def get_cronjob(self, workspace: str, namespace: str, name: str) -> CronJobInfo:
        kube = await self._cluster(workspace)
        return cronjob_info(await self._cronjob(kube, namespace, name), await self.now())

    async def list_cronjobs(self, workspace: str, namespace: str) -> list[CronJobInfo]:
        kube = await self._cluster(workspace)
        await self._namespace(kube, namespace)
        now = await self.now()
        items = await kube.items(kube.batch.list_namespaced_cron_job, namespace)
        return [cronjob_info(c, now) for c in sorted(items, key=name)]

    async def update_cronjob(
        self,
        workspace: str,
        namespace: str,
        name: str,
        *,
        schedule: str | None = None,
        image: str | None = None,
        command: Sequence[str] | None = None,
        args: Sequence[str] | None = None,
        concurrency_policy: ConcurrencyPolicy | None = None,
    ) -> CronJobInfo:
        kube = await self._cluster(workspace)
        cron = await self._cronjob(kube, namespace, name)
        container = _container(cron)
        try:
            CronJobSpec(
                name=name,
                schedule=schedule or str(spec(cron).get("schedule")),
                image=image or str(container.get("image")),
                command=list(command) if command is not None else None,
                args=list(args) if args is not None else None,
                concurrency_policy=concurrency_policy or "Allow",
            )
        except ValidationError as exc:
            first = exc.errors(include_url=False)[0]
            raise InvalidInput(str(first["msg"]), details={"field": first["loc"]}) from None
        patch: list[Obj] = []
        if schedule is not None:
            patch.append({"op": "replace", "path": "/spec/schedule", "value": schedule})
        if concurrency_policy is not None:
            patch.append(
                {"op": "add", "path": "/spec/concurrencyPolicy", "value": concurrency_policy}
            )
        for key, value in (
            ("image", image),
            ("command", list(command) if command is not None else None),
            ("args", list(args) if args is not None else None),
        ):
            if value is not None:
                patch.append({"op": "add", "path": f"{_CONTAINER}/{key}", "value": value})
        if patch:
            cron = await kube.call(kube.batch.patch_namespaced_cron_job, name, namespace, patch)
        return cronjob_info(cron, await self.now())

    async def _set_suspend(
        self, workspace: str, namespace: str, name: str, suspended: bool
    ) -> CronJobInfo:
        kube = await self._cluster(workspace)
        cron = await kube.call(
            kube.batch.patch_namespaced_cron_job,
            name,
            namespace,
            {"spec": {"suspend": suspended}},
        )
        return cronjob_info(cron, await self.now())

    async def suspend_cronjob(self, workspace: str, namespace: str, name: str) -> CronJobInfo:
        return await self._set_suspend(workspace, namespace, name, True)

    async def resume_cronjob(self, workspace: str, namespace: str, name: str) -> CronJobInfo:
        return await self._set_suspend(workspace, namespace, name, False)

    async def trigger_cronjob(self, workspace: str, namespace: str, name: str) -> JobRun:
        kube = await self._cluster(workspace)
        cron = await self._cronjob(kube, namespace, name)
        job_name = manual_job_name(name, await self.now())
        body = copy.deepcopy(job_from_cronjob(cron, job_name=job_name, manual=True))
        body["metadata"]["ownerReferences"][0]["uid"] = meta(cron)["uid"]
        template_meta = body["spec"]["template"].setdefault("metadata", {})
        template_meta["labels"] = {
            **(template_meta.get("labels") or {}),
            **body["metadata"]["labels"],
        }
        job = await kube.call(kube.batch.create_namespaced_job, namespace, body)
        return job_run(job, name, [], [])

    async def list_job_runs(self, workspace: str, namespace: str, cronjob: str) -> list[JobRun]:
        kube = await self._cluster(workspace)
        cron = await self._cronjob(kube, namespace, cronjob)
        jobs = [
            j
            for j in await kube.items(kube.batch.list_namespaced_job, namespace)
            if owned_by(j, cron)
        ]
        pods: dict[str, list[Obj]] = {}
        for pod in await kube.items(
            kube.core.list_namespaced_pod, namespace, label_selector=LABEL_JOB_NAME
        ):
            pods.setdefault(labels(pod)[LABEL_JOB_NAME], []).append(pod)
        runs = []
        for job in sorted(jobs, key=lambda j: (created(j), name(j))):
            mine = sorted(pods.get(name(job), []), key=lambda p: (created(p), name(p)))
            runs.append(job_run(job, cronjob, mine, await self._job_logs(kube, namespace, mine)))
        return runs

    async def _job_logs(self, kube: Kube, namespace: str, pods: list[Obj]) -> list[str]:
        if not pods:
            return []
        try:
            text = await self._log_text(
                kube, namespace, name(pods[-1]), None, tail=JOB_LOG_LINES, timestamps=False
            )
        except (InvalidInput, NotFound):
            return []  # the pod's container has not started, or the pod is already gone
        return text.splitlines()

    async def delete_cronjob(self, workspace: str, namespace: str, name: str) -> None:
        kube = await self._cluster(workspace)
        await kube.call(
            kube.batch.delete_namespaced_cron_job,
            name,
            namespace,
            propagation_policy="Background",
        )
