"""The scenario format: one YAML file per case, validated before anything runs.

A case says how to build the world (organizations, workspaces, projects, applications, CronJobs,
functions, faults, planted log lines and events, virtual time), who talks to the agent (role,
workspace role, read-only), what they say turn by turn (and how approvals are decided), and what
must be true afterwards (tools called or not, arguments, the state of the twin, facts in the
answer, safety). Unknown keys are errors: a typo in a case must fail loudly rather than silently
weaken it. ``load_suite`` reports every broken file with its path and the offending field.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any, Literal

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator

from evals.checks import StateCheck
from evals.matchers import ToolPattern
from platform_core.billing.schemas import Meter

Difficulty = Literal["easy", "medium", "hard"]
OrgRole = Literal["owner", "admin", "member"]
WorkspaceRole = Literal["admin", "editor", "viewer"]
Decision = Literal["approve", "deny", "none"]
# The people every organization of a case has, besides the caller.
PEOPLE = ("owner", "admin", "member", "ws_admin", "editor", "viewer")
Decider = Literal["requester", "owner", "admin", "member", "ws_admin", "editor", "viewer"]


class Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class AppDef(Strict):
    name: str
    image: str
    replicas: int = Field(default=1, ge=0, le=200)
    env: dict[str, str] = Field(default_factory=dict)
    labels: dict[str, str] = Field(default_factory=dict)
    memory_limit: str | None = None
    cpu_limit: str | None = None


class CronJobDef(Strict):
    name: str
    schedule: str
    image: str
    command: list[str] | None = None
    suspend: bool = False


class FunctionDef(Strict):
    name: str
    source: str


class ProjectDef(Strict):
    name: str
    cpu: str = "16"
    memory: str = "32Gi"
    applications: list[AppDef] = Field(default_factory=list)
    cronjobs: list[CronJobDef] = Field(default_factory=list)
    functions: list[FunctionDef] = Field(default_factory=list)


class WorkspaceDef(Strict):
    name: str
    projects: list[ProjectDef] = Field(default_factory=lambda: [ProjectDef(name="app")])


class Place(Strict):
    """Where something is; left out, the caller organization's first workspace and project."""

    workspace: str | None = None
    project: str | None = None


class ReleaseDef(Place):
    """A later rollout of an application (a new revision), so there is history to roll back."""

    app: str
    image: str


class FaultDef(Place):
    target: str
    kind: str
    params: dict[str, Any] = Field(default_factory=dict)


class PlantedLog(Place):
    application: str
    text: str
    repeat: int = Field(default=1, ge=1, le=20_000)


class PlantedEvent(Place):
    kind: str = "Pod"
    name: str
    reason: str
    message: str
    warning: bool = True


class Setup(Strict):
    workspaces: list[WorkspaceDef] = Field(
        default_factory=lambda: [WorkspaceDef(name="shop")], min_length=1
    )
    releases: list[ReleaseDef] = Field(default_factory=list)
    faults: list[FaultDef] = Field(default_factory=list)
    plant_logs: list[PlantedLog] = Field(default_factory=list)
    plant_events: list[PlantedEvent] = Field(default_factory=list)
    advance_minutes: float = Field(default=15, ge=0, le=24 * 60)
    usage: dict[Meter, int] = Field(
        default_factory=dict, description="Usage already metered today for the caller's org"
    )


class OtherOrg(Strict):
    name: str
    workspaces: list[WorkspaceDef] = Field(min_length=1)


class Caller(Strict):
    role: OrgRole = "owner"
    workspace_role: WorkspaceRole | None = None
    read_only: bool = False
    workspace: str | None = Field(default=None, description="The conversation's workspace")
    project: str | None = Field(default=None, description="The conversation's project")


class TurnDef(Strict):
    say: str = Field(min_length=1)
    approval: Decision = "none"
    decided_by: Decider = "requester"
    new_session: bool = False
    advance_minutes_before: float = Field(default=0, ge=0, le=24 * 60)
    facts: list[str] = Field(default_factory=list, description="Regexes the answer must match")
    not_facts: list[str] = Field(default_factory=list, description="Regexes it must not match")
    ends_with: Literal["final", "approval_required", "error", "any"] = "any"


class Expect(Strict):
    required_tools: list[ToolPattern] = Field(default_factory=list)
    forbidden_tools: list[ToolPattern] = Field(default_factory=list)
    allowed_tools: list[str] = Field(
        default_factory=list,
        description="Tools that are fine to call besides the required ones (for precision); "
        "'read' allows every read-only tool",
    )
    state: list[StateCheck] = Field(default_factory=list)
    settle_minutes: float = Field(default=10, ge=0, le=24 * 60)


class SafetyExpect(Strict):
    """Case-specific safety; the generic checks (tenancy, approvals, read-only) always run."""

    forbidden_tools: list[ToolPattern] = Field(default_factory=list)
    must_not_reveal: list[str] = Field(default_factory=list)
    decision_refused: bool = Field(
        default=False, description="The decider has no right to decide: the runtime must refuse"
    )


class Scenario(Strict):
    id: str = Field(pattern=r"^[a-z0-9][a-z0-9_-]*$")
    title: str
    category: str
    difficulty: Difficulty
    tags: list[str] = Field(default_factory=list)
    seed: int = 7
    setup: Setup = Field(default_factory=Setup)
    other_organizations: list[OtherOrg] = Field(default_factory=list)
    caller: Caller = Field(default_factory=Caller)
    turns: list[TurnDef] = Field(min_length=1)
    expect: Expect = Field(default_factory=Expect)
    safety: SafetyExpect = Field(default_factory=SafetyExpect)

    @field_validator("other_organizations")
    @classmethod
    def _distinct_orgs(cls, value: list[OtherOrg]) -> list[OtherOrg]:
        names = [o.name for o in value]
        if len(set(names)) != len(names) or "acme" in names:
            raise ValueError("organization names must be distinct and not 'acme' (the caller's)")
        return value

    @model_validator(mode="after")
    def _places_exist(self) -> Scenario:
        """Everything the setup refers to is defined, so a typo fails here, not mid-run."""
        workspaces = {w.name: w for w in self.setup.workspaces}
        setup = self.setup
        for thing in (*setup.faults, *setup.plant_logs, *setup.plant_events, *setup.releases):
            ws = workspaces.get(thing.workspace or self.setup.workspaces[0].name)
            if ws is None:
                raise ValueError(
                    f"unknown workspace {thing.workspace!r} (have {sorted(workspaces)})"
                )
            projects = {p.name: p for p in ws.projects}
            project = projects.get(thing.project or ws.projects[0].name) if ws.projects else None
            if project is None:
                raise ValueError(f"unknown project {thing.project!r} in workspace {ws.name!r}")
            names = {a.name for a in project.applications}
            names |= {c.name for c in project.cronjobs} | {f.name for f in project.functions}
            target = getattr(thing, "target", None) or getattr(thing, "application", None)
            target = target or getattr(thing, "app", None)
            if target is not None and target not in names:
                raise ValueError(f"unknown target {target!r} in {ws.name}/{project.name}")
        return self


class SuiteError(ValueError):
    """One or more scenario files are invalid; the message lists each with its problems."""


def load_case(path: Path) -> Scenario:
    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8"))
    except yaml.YAMLError as error:
        raise SuiteError(f"{path}: not valid YAML: {error}") from None
    if not isinstance(data, dict):
        raise SuiteError(f"{path}: expected a mapping at the top level")
    try:
        case = Scenario.model_validate(data)
    except ValidationError as error:
        problems = "\n".join(
            f"  - {'.'.join(str(p) for p in e['loc']) or '(top)'}: {e['msg']}"
            for e in error.errors()
        )
        raise SuiteError(f"{path}:\n{problems}") from None
    if path.parent.name != case.category:
        raise SuiteError(f"{path}: category {case.category!r} but directory {path.parent.name!r}")
    return case


def load_suite(directory: Path, *, only: str | None = None) -> list[Scenario]:
    """Every case under ``directory`` (sorted by path); ``only`` keeps ids containing it."""
    paths = sorted(directory.rglob("*.yaml"))
    if not paths:
        raise SuiteError(f"{directory}: no scenario files (*.yaml)")
    cases: list[Scenario] = []
    errors: list[str] = []
    for path in paths:
        try:
            cases.append(load_case(path))
        except SuiteError as error:
            errors.append(str(error))
    if errors:
        raise SuiteError("invalid scenario file(s):\n" + "\n".join(errors))
    seen: dict[str, int] = {}
    for case in cases:
        seen[case.id] = seen.get(case.id, 0) + 1
    duplicated = sorted(k for k, v in seen.items() if v > 1)
    if duplicated:
        raise SuiteError(f"duplicate case id(s): {', '.join(duplicated)}")
    if only:
        cases = [c for c in cases if only in c.id or only == c.category]
    return cases
