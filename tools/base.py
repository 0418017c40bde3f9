"""A tool: a typed async function with an argument model, a risk and the permission it needs.

The argument model and the docstring are the schema the model sees. The runtime supplies the
caller's context; arguments never carry an organization, a user or a role, and every workspace or
project they name is looked up inside the caller's organization only.
"""

from __future__ import annotations

import inspect
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any, Literal, TypeVar

from pydantic import BaseModel, ConfigDict, Field

from platform_core.cluster.protocol import ClusterGateway
from platform_core.context import CallContext
from platform_core.db import Database
from platform_core.observability.store import MetricStore
from platform_core.rbac.subject import Subject
from platform_core.tenancy.models import Organization
from tools.results import ToolResult
from tools.targets import Target

Risk = Literal["read", "write", "destructive"]
Scope = Literal["organization", "workspace", "project"]


class ToolArgs(BaseModel):
    """Base of every argument model: unknown fields are an error the model can fix."""

    model_config = ConfigDict(extra="forbid")


class WorkspaceArgs(ToolArgs):
    workspace: str | None = Field(
        default=None, description="Workspace name; defaults to the conversation's workspace"
    )


class ProjectArgs(WorkspaceArgs):
    project: str | None = Field(
        default=None,
        description="Project (namespace) name; defaults to the conversation's project or 'default'",
    )


@dataclass
class ToolContext:
    """What the runtime injects into every call: the caller and the platform's services."""

    call: CallContext
    organization: Organization
    gateway: ClusterGateway
    db: Database
    workspace: str | None = None
    project: str | None = None
    extras: dict[str, Any] = field(default_factory=dict)
    metrics: MetricStore | None = None  # the metric store, when the service runs one

    @property
    def subject(self) -> Subject:
        return self.call.subject


A = TypeVar("A", bound=ToolArgs)
ToolFunction = Callable[[ToolContext, Any, Target | None], Awaitable[ToolResult]]
Describer = Callable[[Any, Target | None], str]


@dataclass(frozen=True)
class Tool:
    name: str
    description: str
    args_model: type[ToolArgs]
    risk: Risk
    permission: str
    scope: Scope
    run: ToolFunction
    describe: Describer | None = None

    def schema(self) -> dict[str, Any]:
        """The OpenAI-style function schema that ``bind_tools`` sends to the model.

        Built once per tool: generating a JSON schema from a pydantic model costs more than
        everything else a step does.
        """
        cached = _SCHEMAS.get(self.name)
        if cached is None:
            cached = _SCHEMAS[self.name] = self._build_schema()
        return cached

    def _build_schema(self) -> dict[str, Any]:
        parameters = self.args_model.model_json_schema()
        parameters.pop("title", None)
        for prop in parameters.get("properties", {}).values():
            _simplify(prop)
        return {
            "type": "function",
            "function": {
                "name": self.name,
                "description": self.description,
                "parameters": parameters,
            },
        }

    def summary_of(self, args: ToolArgs, target: Target | None) -> str:
        """One line saying what the call will do, for approval requests and audit."""
        if self.describe is not None:
            return self.describe(args, target)
        shown = ", ".join(f"{k}={v!r}" for k, v in args.model_dump(exclude_none=True).items())
        return f"{self.name}({shown})"


_SCHEMAS: dict[str, dict[str, Any]] = {}


def _simplify(prop: dict[str, Any]) -> None:
    """Optional fields as their plain type (small models and grammars cope better)."""
    prop.pop("title", None)
    options = prop.get("anyOf")
    if isinstance(options, list):
        concrete = [o for o in options if o.get("type") != "null"]
        if len(concrete) == 1:
            del prop["anyOf"]
            prop.update(concrete[0])
    if prop.get("default", 0) is None:
        del prop["default"]
    items = prop.get("items")
    if isinstance(items, dict):
        _simplify(items)


def tool(
    *,
    risk: Risk,
    permission: str,
    scope: Scope,
    describe: Describer | None = None,
) -> Callable[[ToolFunction], Tool]:
    """Turn ``async def name(ctx, args: ArgsModel, target) -> ToolResult`` into a Tool."""

    def wrap(function: ToolFunction) -> Tool:
        hints = inspect.get_annotations(function, eval_str=True)
        args_model = hints.get("args")
        if not (isinstance(args_model, type) and issubclass(args_model, ToolArgs)):
            raise TypeError(f"{function.__name__}: annotate 'args' with a ToolArgs model")
        description = inspect.cleandoc(function.__doc__ or "")
        if not description:
            raise TypeError(f"{function.__name__}: the docstring is the tool's description")
        return Tool(
            name=function.__name__,
            description=description,
            args_model=args_model,
            risk=risk,
            permission=permission,
            scope=scope,
            run=function,
            describe=describe,
        )

    return wrap
