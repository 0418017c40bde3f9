"""CronJob and Job controllers on the virtual clock.

A CronJob has one timer at its next schedule time (5-field cron, UTC). When it fires the
controller applies the concurrency policy - ``Allow`` starts another Job, ``Forbid`` skips with
``JobAlreadyActive`` while one runs, ``Replace`` deletes the running Job first - and creates a Job
named ``<cronjob>-<minutes since epoch>`` from ``manifests.job_from_cronjob``. A manual trigger is
``<cronjob>-manual-<unix seconds>`` labelled ``hexabase.io/trigger=manual``.

A Job runs pods (``restartPolicy: Never``) one after another until one succeeds, or until more
than ``backoffLimit`` have failed (``BackoffLimitExceeded``), retrying after 10 s, 20 s, 40 s...
``activeDeadlineSeconds`` fails it with ``DeadlineExceeded``. Finished Jobs beyond the history
limits are deleted, oldest first, as the controller does.
"""

from __future__ import annotations

from typing import Any

from platform_core.cluster import manifests
from platform_core.cluster.cron import parse_cron
from platform_core.cluster.naming import random_suffix, stable_seed
from platform_core.cluster.quantity import cpu_millis, memory_bytes
from platform_core.cluster.schemas import CronJobSpec
from platform_core.cluster.twin import effects, jobscript, pods, scheduling
from platform_core.cluster.twin.core import TwinCore, handler
from platform_core.cluster.twin.state import CronJob, Job, Namespace, Pod, Workspace
from platform_core.errors import Conflict

CREATE_RETRY = 30.0


def container_of(manifest: dict[str, Any]) -> dict[str, Any]:
    """The container of a CronJob or Job manifest."""
    spec = manifest["spec"]
    template = (
        spec["jobTemplate"]["spec"]["template"] if "jobTemplate" in spec else spec["template"]
    )
    container: dict[str, Any] = template["spec"]["containers"][0]
    return container


def create(
    core: TwinCore,
    ws: Workspace,
    ns: Namespace,
    spec: CronJobSpec,
    app_template: dict[str, Any] | None,
) -> CronJob:
    manifest = manifests.cronjob_manifest(ns.name, spec, app_template=app_template)
    cron = CronJob(name=spec.name, spec=spec.model_dump(), manifest=manifest, created=core.t)
    ns.cronjobs[cron.name] = cron
    schedule_next(core, ws, ns, cron)
    return cron


def schedule_next(core: TwinCore, ws: Workspace, ns: Namespace, cron: CronJob) -> None:
    cron.token += 1
    following = parse_cron(cron.spec["schedule"]).next_after(core.clock)
    cron.next_fire = following.timestamp() if following is not None else None
    if cron.next_fire is not None:
        core.schedule(cron.next_fire, "cron.fire", ws.id, ns.name, cron.name, cron.token)


def active_jobs(ns: Namespace, cron: CronJob) -> list[Job]:
    return [j for n in cron.jobs if (j := ns.jobs.get(n)) is not None and j.status == "Running"]


@handler("cron.fire")
def _on_fire(core: TwinCore, ws_id: str, ns_id: str, name: str, token: int) -> None:
    found = core.find(ws_id, ns_id)
    cron = found[1].cronjobs.get(name) if found is not None else None
    if found is None or cron is None or cron.token != token or found[0].phase != "active":
        return
    ws, ns = found
    schedule_next(core, ws, ns, cron)
    if cron.spec["suspend"]:
        return
    running = active_jobs(ns, cron)
    policy = cron.spec["concurrency_policy"]
    if running and policy == "Forbid":
        core.event(
            ns,
            "CronJob",
            cron.name,
            "JobAlreadyActive",
            "Not starting job because prior execution is running and concurrency policy is Forbid",
            source="cronjob-controller",
        )
        return
    if running and policy == "Replace":
        for job in running:
            delete_job(core, ws, ns, cron, job)
    job_name = manifests.scheduled_job_name(cron.name, core.clock)
    if job_name not in ns.jobs:
        start_job(core, ws, ns, cron, job_name, manual=False)
        cron.last_schedule = core.t


def trigger(core: TwinCore, ws: Workspace, ns: Namespace, cron: CronJob) -> Job:
    name = manifests.manual_job_name(cron.name, core.clock)
    if name in ns.jobs:
        raise Conflict(f'jobs.batch "{name}" already exists')
    return start_job(core, ws, ns, cron, name, manual=True)


def start_job(
    core: TwinCore, ws: Workspace, ns: Namespace, cron: CronJob, name: str, *, manual: bool
) -> Job:
    manifest = manifests.job_from_cronjob(cron.manifest, job_name=name, manual=manual)
    container = container_of(manifest)
    res = container["resources"]
    deadline = manifest["spec"].get("activeDeadlineSeconds")
    job = Job(
        name=name,
        cronjob=cron.name,
        manual=manual,
        created=core.t,
        image=container["image"],
        command=container.get("command"),
        args=container.get("args"),
        labels=manifest["metadata"]["labels"],
        backoff_limit=manifest["spec"]["backoffLimit"],
        deadline=core.t + deadline if deadline else None,
        cpu_req=cpu_millis(res["requests"]["cpu"]),
        cpu_lim=cpu_millis(res["limits"]["cpu"]),
        mem_req=memory_bytes(res["requests"]["memory"]),
        mem_lim=memory_bytes(res["limits"]["memory"]),
    )
    ns.jobs[name] = job
    cron.jobs.append(name)
    if not manual:
        core.event(
            ns,
            "CronJob",
            cron.name,
            "SuccessfulCreate",
            f"Created job {name}",
            source="cronjob-controller",
        )
    if job.deadline is not None:
        core.schedule(job.deadline, "job.deadline", ws.id, ns.name, name, job.token)
    _start_attempt(core, ws, ns, cron, job)
    return job


def _failure_of(core: TwinCore, cron: CronJob, job: Job) -> tuple[int, str] | None:
    for fault in effects.live_faults(core, cron.fault_ids):
        if effects.command_matches(fault, job.command, job.args):
            return int(fault.params["exit_code"]), str(fault.params["error"])
    return None


def _start_attempt(core: TwinCore, ws: Workspace, ns: Namespace, cron: CronJob, job: Job) -> None:
    name = f"{job.name}-{random_suffix(core.rng)}"
    pod = Pod(
        name=name,
        uid=core.uid(),
        ip=f"10.42.{core.rng.randrange(256)}.{core.rng.randrange(2, 255)}",
        owner_kind="Job",
        owner=job.name,
        app=cron.name,
        image=job.image,
        labels={"job-name": job.name, **job.labels},
        created=core.t,
        seed=stable_seed(core.state.seed, ws.id, ns.name, name),
        cpu_req=job.cpu_req,
        cpu_lim=job.cpu_lim,
        mem_req=job.mem_req,
        mem_lim=job.mem_lim,
    )
    error = scheduling.admission_error(ns, name, scheduling.pod_requests(pod))
    if error is not None:
        core.event(
            ns,
            "Job",
            job.name,
            "FailedCreate",
            f"Error creating: {error}",
            warning=True,
            source="job-controller",
        )
        core.schedule(core.t + CREATE_RETRY, "job.retry", ws.id, ns.name, job.name, job.token)
        return
    failure = _failure_of(core, cron, job)
    if failure is not None:
        pod.crashes, pod.err_msg = True, f"{failure[0]}\x1f{failure[1]}"
    job.attempts += 1
    job.pods.append(name)
    core.event(
        ns, "Job", job.name, "SuccessfulCreate", f"Created pod: {name}", source="job-controller"
    )
    pods.add_pod(core, ws, ns, pod)


def pod_failure(pod: Pod) -> tuple[int, str] | None:
    """The failure a job pod was created with (see ``_start_attempt``)."""
    if not pod.crashes:
        return None
    code, _, error = pod.err_msg.partition("\x1f")
    return int(code), error


def plan_pod(core: TwinCore, ns: Namespace, pod: Pod, start: float) -> jobscript.JobPlan:
    job = ns.jobs.get(pod.owner)
    command = job.command if job is not None else None
    args = job.args if job is not None else None
    return jobscript.plan(command, args, seed=pod.seed, start=start, failure=pod_failure(pod))


def _planner(core: TwinCore, ns: Namespace, pod: Pod) -> tuple[float, int]:
    result = plan_pod(core, ns, pod, core.t)
    return result.duration, result.exit_code


pods.JOB_PLANNERS["Job"] = _planner


def _on_job_pod(core: TwinCore, ws: Workspace, ns: Namespace, pod: Pod, what: str) -> None:
    job = ns.jobs.get(pod.owner)
    cron = ns.cronjobs.get(job.cronjob) if job is not None else None
    if what != "exit" or job is None or cron is None or job.status != "Running":
        return
    code = pod.runs[-1].exit_code or 0
    if code == 0:
        _finish(core, ws, ns, cron, job, "Succeeded", 0, None)
        return
    failed = sum(1 for n in job.pods if (p := ns.pods.get(n)) is not None and p.phase == "Failed")
    if failed > job.backoff_limit:
        core.event(
            ns,
            "Job",
            job.name,
            "BackoffLimitExceeded",
            "Job has reached the specified backoff limit",
            warning=True,
            source="job-controller",
        )
        _finish(core, ws, ns, cron, job, "Failed", code, "BackoffLimitExceeded")
        return
    delay = min(360.0, 10.0 * 2 ** (failed - 1))
    core.schedule(core.t + delay, "job.retry", ws.id, ns.name, job.name, job.token)


pods.OWNER_HOOKS["Job"] = _on_job_pod


@handler("job.retry")
def _on_retry(core: TwinCore, ws_id: str, ns_id: str, name: str, token: int) -> None:
    found = core.find(ws_id, ns_id)
    job = found[1].jobs.get(name) if found is not None else None
    cron = found[1].cronjobs.get(job.cronjob) if found is not None and job is not None else None
    if (
        found is None
        or job is None
        or cron is None
        or job.status != "Running"
        or job.token != token
    ):
        return
    _start_attempt(core, found[0], found[1], cron, job)


@handler("job.deadline")
def _on_deadline(core: TwinCore, ws_id: str, ns_id: str, name: str, token: int) -> None:
    found = core.find(ws_id, ns_id)
    job = found[1].jobs.get(name) if found is not None else None
    cron = found[1].cronjobs.get(job.cronjob) if found is not None and job is not None else None
    if found is None or job is None or cron is None or job.status != "Running":
        return
    ws, ns = found
    core.event(
        ns,
        "Job",
        job.name,
        "DeadlineExceeded",
        "Job was active longer than specified deadline",
        warning=True,
        source="job-controller",
    )
    for pod_name in job.pods:
        pod = ns.pods.get(pod_name)
        if pod is not None and pod.phase == "Running":
            pods.delete_pod(core, ws, ns, pod)
    _finish(core, ws, ns, cron, job, "Failed", None, "DeadlineExceeded")


def _finish(
    core: TwinCore,
    ws: Workspace,
    ns: Namespace,
    cron: CronJob,
    job: Job,
    status: str,
    code: int | None,
    reason: str | None,
) -> None:
    job.status, job.exit_code, job.reason, job.completion = status, code, reason, core.t
    job.token += 1
    if status == "Succeeded":
        cron.last_success = core.t
        core.event(ns, "Job", job.name, "Completed", "Job completed", source="job-controller")
    outcome = "Complete" if status == "Succeeded" else "Failed"
    core.event(
        ns,
        "CronJob",
        cron.name,
        "SawCompletedJob",
        f"Saw completed job: {job.name}, status: {outcome}",
        source="cronjob-controller",
    )
    _prune(core, ws, ns, cron)


def _prune(core: TwinCore, ws: Workspace, ns: Namespace, cron: CronJob) -> None:
    for status, limit in (
        ("Succeeded", cron.spec["successful_jobs_history_limit"]),
        ("Failed", cron.spec["failed_jobs_history_limit"]),
    ):
        finished = [
            j for n in cron.jobs if (j := ns.jobs.get(n)) is not None and j.status == status
        ]
        for job in finished[: max(0, len(finished) - limit)]:
            delete_job(core, ws, ns, cron, job)


def delete_job(
    core: TwinCore, ws: Workspace, ns: Namespace, cron: CronJob | None, job: Job
) -> None:
    """Delete a Job and its pods (history pruning, ``Replace``, CronJob deletion)."""
    job.token += 1
    for pod_name in job.pods:
        pod = ns.pods.get(pod_name)
        if pod is not None:
            pods.delete_pod(core, ws, ns, pod)
    ns.jobs.pop(job.name, None)
    if cron is not None:
        if job.name in cron.jobs:
            cron.jobs.remove(job.name)
        core.event(
            ns,
            "CronJob",
            cron.name,
            "SuccessfulDelete",
            f"Deleted job {job.name}",
            source="cronjob-controller",
        )
