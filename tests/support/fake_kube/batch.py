"""CronJob, Job and TTL-after-finished controllers of the fake.

* CronJob: at each schedule time (the platform's own 5-field parser, UTC) it applies the
  concurrency policy (``Forbid`` skips with ``JobAlreadyActive``, ``Replace`` deletes the running
  Jobs) and creates ``<cronjob>-<minutes since the epoch>`` from ``jobTemplate`` with an owner
  reference and the ``cronjob-scheduled-timestamp`` annotation, as the real controller does. It
  keeps ``status.active``, ``lastScheduleTime``, ``lastSuccessfulTime`` and the history limits.
  Like the real controller, it does not catch up on every missed time, only the latest.
* Job: one pod at a time (``<job>-<5 chars>``, labelled ``job-name``), retried after 10 s, 20 s,
  40 s... until one succeeds (``Complete``) or more than ``backoffLimit`` failed (``Failed`` with
  ``BackoffLimitExceeded``); ``activeDeadlineSeconds`` fails it with ``DeadlineExceeded``.
* Finished Jobs with ``ttlSecondsAfterFinished`` are deleted when it runs out.
"""

from __future__ import annotations

import copy
import random
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

from platform_core.cluster.cron import parse_cron
from platform_core.cluster.naming import random_suffix
from tests.support.fake_kube.store import BY_KEY, POD, ApiError, Store, stamp
from tests.support.fake_kube.workloads import owner_ref, owns, set_condition

if TYPE_CHECKING:
    from tests.support.fake_kube.world import FakeKube

Obj = dict[str, Any]
CRONJOB = BY_KEY["batch/cronjobs"]
JOB = BY_KEY["batch/jobs"]


def finished(job: Obj) -> str | None:
    """``"Complete"`` or ``"Failed"`` once the Job has ended."""
    for condition in job.get("status", {}).get("conditions") or []:
        if condition["type"] in {"Complete", "Failed"} and condition["status"] == "True":
            return str(condition["type"])
    return None


class Batch:
    def __init__(self, world: FakeKube) -> None:
        self.world = world
        self.rng = random.Random(23)
        self.checked: dict[str, float] = {}
        self.seen_done: set[str] = set()

    def reset(self) -> None:
        self.checked.clear()
        self.seen_done.clear()

    # ------------------------------------------------------------------ cronjobs

    def sync_cronjobs(self, store: Store) -> None:
        now = self.world.t
        for cron in store.list(CRONJOB):
            ns, uid = cron["metadata"]["namespace"], cron["metadata"]["uid"]
            spec, status = cron["spec"], cron.setdefault("status", {})
            jobs = [j for j in store.list(JOB, ns) if owns(cron, j)]
            since = self.checked.get(uid, self.world.parse(cron["metadata"]["creationTimestamp"]))
            self.checked[uid] = now
            due = None
            schedule = parse_cron(spec["schedule"])
            moment = schedule.next_after(datetime.fromtimestamp(since, UTC))
            while moment is not None and moment.timestamp() <= now:
                due = moment
                moment = schedule.next_after(moment)
            if due is not None and not spec.get("suspend"):
                self._fire(store, cron, jobs, due)
                jobs = [j for j in store.list(JOB, ns) if owns(cron, j)]
            self._history(store, cron, jobs)
            jobs = [j for j in store.list(JOB, ns) if owns(cron, j)]
            status["active"] = [
                {
                    "apiVersion": "batch/v1",
                    "kind": "Job",
                    "name": j["metadata"]["name"],
                    "namespace": ns,
                    "uid": j["metadata"]["uid"],
                }
                for j in jobs
                if finished(j) is None
            ]
            if not status["active"]:
                del status["active"]
            store.put(CRONJOB, cron)

    def _fire(self, store: Store, cron: Obj, jobs: list[Obj], due: datetime) -> None:
        name = cron["metadata"]["name"]
        running = [j for j in jobs if finished(j) is None]
        policy = cron["spec"].get("concurrencyPolicy", "Allow")
        if running and policy == "Forbid":
            store.event(
                cron,
                "JobAlreadyActive",
                "Not starting job because prior execution is running and concurrency policy "
                "is Forbid",
                source="cronjob-controller",
            )
            return
        if running and policy == "Replace":
            for job in running:
                store.remove(JOB, job)
                store.event(
                    cron,
                    "SuccessfulDelete",
                    f"Deleted job {job['metadata']['name']}",
                    source="cronjob-controller",
                )
        job_name = f"{name}-{int(due.timestamp()) // 60}"
        if store.get(JOB, cron["metadata"]["namespace"], job_name) is not None:
            return
        template = cron["spec"]["jobTemplate"]
        body = {
            "metadata": {
                "name": job_name,
                "labels": dict((template.get("metadata") or {}).get("labels") or {}),
                "annotations": {
                    "batch.kubernetes.io/cronjob-scheduled-timestamp": due.strftime(
                        "%Y-%m-%dT%H:%M:%SZ"
                    )
                },
                "ownerReferences": [owner_ref(cron)],
            },
            "spec": copy.deepcopy(template["spec"]),
        }
        store.create(JOB, cron["metadata"]["namespace"], body)
        store.event(
            cron, "SuccessfulCreate", f"Created job {job_name}", source="cronjob-controller"
        )
        cron["status"]["lastScheduleTime"] = due.strftime("%Y-%m-%dT%H:%M:%SZ")

    def _history(self, store: Store, cron: Obj, jobs: list[Obj]) -> None:
        spec, status = cron["spec"], cron["status"]
        for job in jobs:
            outcome = finished(job)
            uid = job["metadata"]["uid"]
            if outcome is None or uid in self.seen_done:
                continue
            self.seen_done.add(uid)
            store.event(
                cron,
                "SawCompletedJob",
                f"Saw completed job: {job['metadata']['name']}, status: {outcome}",
                source="cronjob-controller",
            )
            if outcome == "Complete":
                status["lastSuccessfulTime"] = job["status"].get("completionTime")
        for outcome, limit in (
            ("Complete", spec.get("successfulJobsHistoryLimit", 3)),
            ("Failed", spec.get("failedJobsHistoryLimit", 1)),
        ):
            done = [j for j in jobs if finished(j) == outcome]
            for job in done[: max(0, len(done) - int(limit))]:
                store.remove(JOB, job)

    # ------------------------------------------------------------------ jobs

    def sync_jobs(self, store: Store) -> None:
        now = self.world.t
        for job in store.list(JOB):
            spec, status = job["spec"], job.setdefault("status", {})
            outcome = finished(job)
            if outcome is not None:
                ttl = spec.get("ttlSecondsAfterFinished")
                end = self._end_time(job)
                if ttl is not None and end is not None and now >= end + int(ttl):
                    store.remove(JOB, job)
                continue
            status.setdefault("startTime", stamp(now))
            pods = [p for p in store.list(POD, job["metadata"]["namespace"]) if owns(job, p)]
            phases = [p.get("status", {}).get("phase") for p in pods]
            succeeded, failed = phases.count("Succeeded"), phases.count("Failed")
            active = len(pods) - succeeded - failed
            status |= {"succeeded": succeeded, "failed": failed, "active": active}
            started = self.world.parse(status["startTime"])
            deadline = spec.get("activeDeadlineSeconds")
            if succeeded:
                pod = next(p for p in pods if p["status"]["phase"] == "Succeeded")
                finished_at = pod["status"]["containerStatuses"][0]["state"]["terminated"][
                    "finishedAt"
                ]
                status["completionTime"] = finished_at
                set_condition(job, "Complete", "True", "", "", finished_at)
                store.event(job, "Completed", "Job completed", source="job-controller")
            elif deadline is not None and now >= started + int(deadline):
                self._fail(
                    store,
                    job,
                    pods,
                    "DeadlineExceeded",
                    "Job was active longer than specified deadline",
                )
            elif failed > int(spec.get("backoffLimit", 6)):
                self._fail(
                    store,
                    job,
                    pods,
                    "BackoffLimitExceeded",
                    "Job has reached the specified backoff limit",
                )
            elif active == 0 and self._backoff_over(pods, failed):
                self._start_pod(store, job)
                status["active"] = 1
            store.put(JOB, job)

    def _end_time(self, job: Obj) -> float | None:
        for condition in job.get("status", {}).get("conditions") or []:
            if condition["type"] in {"Complete", "Failed"}:
                return self.world.parse(condition["lastTransitionTime"])
        return None

    def _backoff_over(self, pods: list[Obj], failed: int) -> bool:
        if not failed:
            return True
        ends = [
            self.world.parse(
                p["status"]["containerStatuses"][0]["state"]["terminated"]["finishedAt"]
            )
            for p in pods
            if p["status"].get("phase") == "Failed"
        ]
        return bool(self.world.t >= max(ends) + 10.0 * 2 ** (failed - 1))

    def _fail(self, store: Store, job: Obj, pods: list[Obj], reason: str, message: str) -> None:
        for pod in pods:
            if pod.get("status", {}).get("phase") not in {"Succeeded", "Failed"}:
                self.world.kubelet.forget(pod)
                store.remove(POD, pod)
        set_condition(job, "Failed", "True", reason, message, stamp(self.world.t))
        store.event(job, reason, message, warning=True, source="job-controller")

    def _start_pod(self, store: Store, job: Obj) -> None:
        name = f"{job['metadata']['name']}-{random_suffix(self.rng)}"
        template = job["spec"]["template"]
        labels = dict((template.get("metadata") or {}).get("labels") or {})
        labels |= {
            "job-name": job["metadata"]["name"],
            "batch.kubernetes.io/job-name": job["metadata"]["name"],
            "controller-uid": job["metadata"]["uid"],
        }
        body = {
            "metadata": {"name": name, "labels": labels, "ownerReferences": [owner_ref(job)]},
            "spec": copy.deepcopy(template["spec"]),
        }
        try:
            store.create(POD, job["metadata"]["namespace"], body)
        except ApiError as exc:
            store.event(
                job,
                "FailedCreate",
                f"Error creating: {exc.message}",
                warning=True,
                source="job-controller",
            )
            return
        store.event(job, "SuccessfulCreate", f"Created pod: {name}", source="job-controller")
