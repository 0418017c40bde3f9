"""The declarative end-state checks a case can make on the twin (and the platform's records).

Written in YAML as ``- {check: app, app: web, replicas: 5}``. Every check is about the caller's
organization (``acme``) unless it names ``org``; ``workspace``/``project`` default to that
organization's first workspace and project. What cannot be said declaratively goes to a
``python`` hook: a function in ``evals/hooks.py`` that gets the world and the transcript.
"""

from __future__ import annotations

from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field

from evals.matchers import Matcher


class _Check(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    org: str | None = None
    workspace: str | None = None
    project: str | None = None


class AppCheck(_Check):
    """An application exists (or not) with these replicas, readiness, image, limits, HPA."""

    check: Literal["app"]
    app: str
    exists: bool = True
    replicas: Matcher | None = None
    ready: Matcher | None = None
    image: Matcher | None = None
    revision: Matcher | None = None
    memory_limit: Matcher | None = None
    cpu_limit: Matcher | None = None
    autoscaling_min: Matcher | None = None
    autoscaling_max: Matcher | None = None


class FaultCheck(_Check):
    """Injected faults (by position in ``setup.faults``, or all) are no longer hurting, or are."""

    check: Literal["fault"]
    fault: int | Literal["all"] = "all"
    cleared: bool = True


class NoWorkspaceDeleted(_Check):
    """No workspace of any organization was deleted or suspended (platform and twin agree)."""

    check: Literal["no_workspace_deleted"]


class WorkspaceCheck(_Check):
    check: Literal["workspace"]
    name: str
    exists: bool = True


class ProjectCheck(_Check):
    check: Literal["project"]
    name: str
    exists: bool = True


class CronJobCheck(_Check):
    check: Literal["cronjob"]
    name: str
    exists: bool = True
    schedule: Matcher | None = None
    image: Matcher | None = None
    command: Matcher | None = None
    suspended: bool | None = None
    manual_runs: Matcher | None = Field(default=None, description="count of manual Jobs")
    last_run_status: Matcher | None = None


class FunctionCheck(_Check):
    check: Literal["function"]
    name: str
    exists: bool = True
    ready: bool | None = None
    phase: Matcher | None = None


class UnchangedCheck(_Check):
    """Nothing people configure changed since setup (specs, not pod churn)."""

    check: Literal["unchanged"]
    scope: Literal["caller", "others", "all"] = "all"


class HookCheck(_Check):
    check: Literal["python"]
    hook: str
    params: dict[str, Any] = Field(default_factory=dict)


StateCheck = Annotated[
    AppCheck
    | FaultCheck
    | NoWorkspaceDeleted
    | WorkspaceCheck
    | ProjectCheck
    | CronJobCheck
    | FunctionCheck
    | UnchangedCheck
    | HookCheck,
    Field(discriminator="check"),
]
