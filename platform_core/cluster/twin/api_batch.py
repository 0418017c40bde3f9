"""CronJob operations of the twin."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from pydantic import ValidationError

from platform_core.cluster import manifests
from platform_core.cluster.schemas import ConcurrencyPolicy, CronJobInfo, CronJobSpec, JobRun
from platform_core.cluster.twin import cronjobs, templates, views
from platform_core.cluster.twin.api_apps import plain_errors
from platform_core.cluster.twin.api_observe import ObserveAPI
from platform_core.cluster.twin.state import CronJob, Namespace, Workspace
from platform_core.errors import Conflict, InvalidInput, NotFound


class BatchAPI(ObserveAPI):
    """The CronJob half of ``ClusterGateway``."""

    def _cron(
        self, workspace: str, namespace: str, name: str
    ) -> tuple[Workspace, Namespace, CronJob]:
        ws, ns = self.namespace(workspace, namespace)
        cron = ns.cronjobs.get(name)
        if cron is None:
            raise NotFound(f'cronjobs.batch "{name}" not found in namespace "{namespace}"')
        return ws, ns, cron

    async def create_cronjob(
        self, workspace: str, namespace: str, spec: CronJobSpec
    ) -> CronJobInfo:
        ws, ns = self.writable(workspace, namespace)
        if spec.name in ns.cronjobs:
            raise Conflict(f'cronjobs.batch "{spec.name}" already exists')
        template = None
        if spec.from_application is not None:
            app = ns.apps.get(spec.from_application)
            if app is None:
                raise NotFound(
                    f'deployments.apps "{spec.from_application}" not found in '
                    f'namespace "{namespace}"'
                )
            template = manifests.pod_template(templates.spec_of(app))
        cron = cronjobs.create(self, ws, ns, spec, template)
        return views.cronjob_info(self, ns, cron)

    async def get_cronjob(self, workspace: str, namespace: str, name: str) -> CronJobInfo:
        _, ns, cron = self._cron(workspace, namespace, name)
        return views.cronjob_info(self, ns, cron)

    async def list_cronjobs(self, workspace: str, namespace: str) -> list[CronJobInfo]:
        _, ns = self.namespace(workspace, namespace)
        return [views.cronjob_info(self, ns, cron) for cron in ns.cronjobs.values()]

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
        ws, ns, cron = self._cron(workspace, namespace, name)
        changes: dict[str, Any] = {
            key: value
            for key, value in (
                ("schedule", schedule),
                ("concurrency_policy", concurrency_policy),
                ("command", list(command) if command is not None else None),
                ("args", list(args) if args is not None else None),
            )
            if value is not None
        }
        container = {k: v for k, v in changes.items() if k in {"command", "args"}}
        if image is not None:
            container["image"] = image
            if cron.spec["from_application"] is None:
                changes["image"] = image  # a CronJob made from an app keeps its origin recorded
        try:
            spec = CronJobSpec.model_validate({**cron.spec, **changes})
        except ValidationError as exc:
            msg = str(exc.errors()[0]["msg"])
            raise InvalidInput(msg, details={"errors": plain_errors(exc)}) from exc
        cron.spec = spec.model_dump()
        cron.manifest["spec"]["schedule"] = spec.schedule
        cron.manifest["spec"]["concurrencyPolicy"] = spec.concurrency_policy
        cronjobs.container_of(cron.manifest).update(container)
        self.note(ws.id, ns.name, name, "updated " + ", ".join(sorted({*changes, *container})))
        if "schedule" in changes:
            cronjobs.schedule_next(self, ws, ns, cron)
        return views.cronjob_info(self, ns, cron)

    async def suspend_cronjob(self, workspace: str, namespace: str, name: str) -> CronJobInfo:
        return self._set_suspend(workspace, namespace, name, suspended=True)

    async def resume_cronjob(self, workspace: str, namespace: str, name: str) -> CronJobInfo:
        return self._set_suspend(workspace, namespace, name, suspended=False)

    def _set_suspend(
        self, workspace: str, namespace: str, name: str, *, suspended: bool
    ) -> CronJobInfo:
        ws, ns, cron = self._cron(workspace, namespace, name)
        cron.spec["suspend"] = suspended
        cron.manifest["spec"]["suspend"] = suspended
        self.note(ws.id, ns.name, name, "suspended" if suspended else "resumed")
        return views.cronjob_info(self, ns, cron)

    async def trigger_cronjob(self, workspace: str, namespace: str, name: str) -> JobRun:
        ws, ns, cron = self._cron(workspace, namespace, name)
        job = cronjobs.trigger(self, ws, ns, cron)
        self.note(ws.id, ns.name, name, f"triggered {job.name}")
        return views.job_run(self, ns, job)

    async def list_job_runs(self, workspace: str, namespace: str, cronjob: str) -> list[JobRun]:
        _, ns, cron = self._cron(workspace, namespace, cronjob)
        jobs = [j for n in cron.jobs if (j := ns.jobs.get(n)) is not None]
        return [views.job_run(self, ns, job) for job in sorted(jobs, key=lambda j: j.created)]

    async def delete_cronjob(self, workspace: str, namespace: str, name: str) -> None:
        ws, ns, cron = self._cron(workspace, namespace, name)
        cron.token += 1
        for job_name in list(cron.jobs):
            job = ns.jobs.get(job_name)
            if job is not None:
                cronjobs.delete_job(self, ws, ns, None, job)
        del ns.cronjobs[name]
