"""CronJobs: list, create, trigger by hand, and their execution history."""

from __future__ import annotations

from typing import Literal

from pydantic import Field, model_validator

from platform_core.cluster.schemas import CronJobSpec
from tools.base import ProjectArgs, ToolContext, tool
from tools.results import ToolResult
from tools.targets import Target


@tool(risk="read", permission="workload.read", scope="project")
async def list_cronjobs(ctx: ToolContext, args: ProjectArgs, target: Target | None) -> ToolResult:
    """List the CronJobs of a project with schedule, state and last run."""
    assert target is not None
    jobs = await ctx.gateway.list_cronjobs(target.cluster_workspace, target.namespace)
    if not jobs:
        return ToolResult.no_data(f"no CronJobs in {target.where}")
    lines = [
        f"- {j.name}: '{j.schedule}', {'suspended' if j.suspended else 'active'}, "
        f"last scheduled {j.last_schedule_time or 'never'}, "
        f"last success {j.last_successful_time or 'never'}"
        for j in jobs
    ]
    return ToolResult.ok(
        f"{len(jobs)} CronJob(s) in {target.where}:\n" + "\n".join(lines),
        [j.model_dump(mode="json") for j in jobs],
    )


class CreateCronJobArgs(ProjectArgs):
    name: str = Field(description="CronJob name")
    schedule: str = Field(description="Standard 5-field cron expression, e.g. '0 3 * * *'")
    image: str | None = Field(default=None, description="Container image to run")
    from_application: str | None = Field(
        default=None, description="Use an existing application's image and settings as template"
    )
    command: list[str] | None = None
    args: list[str] | None = None
    concurrency_policy: Literal["Allow", "Forbid", "Replace"] = "Forbid"

    @model_validator(mode="after")
    def _one_source(self) -> CreateCronJobArgs:
        if (self.image is None) == (self.from_application is None):
            raise ValueError("give exactly one of image or from_application")
        return self


@tool(
    risk="write",
    permission="workload.write",
    scope="project",
    describe=lambda a, t: f"create CronJob {a.name!r} ('{a.schedule}') in {t.where if t else '?'}",
)
async def create_cronjob(
    ctx: ToolContext, args: CreateCronJobArgs, target: Target | None
) -> ToolResult:
    """Create a CronJob from an image or from an existing application. Needs approval."""
    assert target is not None
    spec = CronJobSpec(
        name=args.name,
        schedule=args.schedule,
        image=args.image,
        from_application=args.from_application,
        command=args.command,
        args=args.args,
        concurrency_policy=args.concurrency_policy,
    )
    job = await ctx.gateway.create_cronjob(target.cluster_workspace, target.namespace, spec)
    return ToolResult.ok(
        f"CronJob {job.name} created in {target.where}: '{job.schedule}', next run "
        f"{job.next_schedule_time or 'unknown'}",
        job.model_dump(mode="json"),
    )


class CronJobArgs(ProjectArgs):
    cronjob: str = Field(description="CronJob name")


@tool(
    risk="write",
    permission="workload.write",
    scope="project",
    describe=lambda a, t: f"run CronJob {a.cronjob!r} in {t.where if t else '?'} now (manual run)",
)
async def trigger_cronjob(ctx: ToolContext, args: CronJobArgs, target: Target | None) -> ToolResult:
    """Run a CronJob now, as a manual Job. Needs approval."""
    assert target is not None
    run = await ctx.gateway.trigger_cronjob(
        target.cluster_workspace, target.namespace, args.cronjob
    )
    return ToolResult.ok(
        f"started manual run {run.name} ({run.status})", run.model_dump(mode="json")
    )


class HistoryArgs(CronJobArgs):
    limit: int = Field(default=10, ge=1, le=50)
    with_logs: bool = Field(default=True, description="Include the last log lines of failed runs")


@tool(risk="read", permission="workload.read", scope="project")
async def get_cronjob_history(
    ctx: ToolContext, args: HistoryArgs, target: Target | None
) -> ToolResult:
    """A CronJob's recent executions: status, exit code, start/end, manual or scheduled, and
    the log tail of failed runs."""
    assert target is not None
    runs = await ctx.gateway.list_job_runs(target.cluster_workspace, target.namespace, args.cronjob)
    if not runs:
        return ToolResult.no_data(f"CronJob {args.cronjob} has no retained runs")
    lines = []
    for run in runs[-args.limit :]:
        kind = "manual" if run.manual else "scheduled"
        line = f"- {run.name} ({kind}): {run.status}, started {run.start_time:%Y-%m-%d %H:%M}"
        if run.completion_time is not None:
            line += f", ended {run.completion_time:%H:%M}, exit code {run.exit_code}"
        if run.reason:
            line += f", reason {run.reason}"
        lines.append(line)
        if args.with_logs and run.status == "Failed" and run.logs:
            lines += [f"    | {log}" for log in run.logs[-5:]]
    return ToolResult.ok(
        f"runs of CronJob {args.cronjob}:\n" + "\n".join(lines),
        [r.model_dump(mode="json") for r in runs[-args.limit :]],
    )


class UpdateCronJobArgs(CronJobArgs):
    schedule: str | None = Field(default=None, description="New 5-field cron expression")
    image: str | None = None
    command: list[str] | None = Field(default=None, description="New command, as a list")
    args: list[str] | None = Field(default=None, description="New arguments, as a list")
    concurrency_policy: Literal["Allow", "Forbid", "Replace"] | None = None

    @model_validator(mode="after")
    def _something(self) -> UpdateCronJobArgs:
        if not any((self.schedule, self.image, self.command, self.args, self.concurrency_policy)):
            raise ValueError(
                "give at least one of schedule, image, command, args, concurrency_policy"
            )
        return self


@tool(
    risk="write",
    permission="workload.write",
    scope="project",
    describe=lambda a, t: (
        f"change CronJob {a.cronjob!r} in {t.where if t else '?'}: "
        + ", ".join(
            f"{k} {v}"
            for k, v in a.model_dump(exclude_none=True).items()
            if k in ("schedule", "image", "command", "args", "concurrency_policy")
        )
    ),
)
async def update_cronjob(
    ctx: ToolContext, args: UpdateCronJobArgs, target: Target | None
) -> ToolResult:
    """Change a CronJob's schedule, image, command, arguments or concurrency policy. Needs
    approval. Runs already started keep their old settings."""
    assert target is not None
    job = await ctx.gateway.update_cronjob(
        target.cluster_workspace,
        target.namespace,
        args.cronjob,
        schedule=args.schedule,
        image=args.image,
        command=args.command,
        args=args.args,
        concurrency_policy=args.concurrency_policy,
    )
    return ToolResult.ok(
        f"CronJob {job.name} updated: '{job.schedule}', image {job.image}, command "
        f"{' '.join(job.command or []) or '(image default)'} {' '.join(job.args or [])}".rstrip(),
        job.model_dump(mode="json"),
    )
