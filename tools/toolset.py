"""The toolset: cross-cutting behaviour around every tool, never repeated inside one.

- permission filter: a tool the caller could not use anywhere it can reach is never offered;
  every call is checked again against the exact target it resolves to;
- read-only mode: no write or destructive tool is offered or run;
- approval: write and destructive calls are prepared (arguments validated, target resolved and
  authorized, a one-line description written) but not run; the runtime asks for approval and
  later runs exactly the prepared call;
- audit: every call, run or refused, leaves an audit record;
- redaction and output budget: results are redacted and trimmed before anyone sees them.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from dataclasses import dataclass, replace
from typing import Any

from pydantic import ValidationError
from sqlalchemy.ext.asyncio import AsyncSession

from platform_core.audit.service import Outcome, record
from platform_core.errors import DomainError, Forbidden, NotFound
from platform_core.rbac.authorize import Resource, authorize, require
from platform_core.rbac.subject import Subject
from platform_core.tenancy.models import Organization, Workspace
from platform_core.tenancy.repository import (
    org_resource,
    project_resource,
    visible_workspaces,
    workspace_resource,
)
from tools.base import Tool, ToolArgs, ToolContext
from tools.redaction import redact, redact_data
from tools.registry import ALL_TOOLS
from tools.render import DEFAULT_BUDGET_CHARS
from tools.results import ToolResult
from tools.targets import Target, resolve_target

logger = logging.getLogger(__name__)
STATUS_OUTCOMES: dict[str, Outcome] = {
    "ok": "success",
    "no_data": "success",
    "approval_required": "pending",
}
READ_ACTIONS = {
    "organization": "organization.read",
    "workspace": "workspace.read",
    "project": "project.read",
}


@dataclass(frozen=True)
class PreparedCall:
    """A validated call with its resolved and authorized target, ready to run."""

    tool: Tool
    args: ToolArgs
    target: Target | None
    summary: str

    @property
    def needs_approval(self) -> bool:
        return self.tool.risk != "read"

    @property
    def approver_action(self) -> str:
        return "approval.destructive" if self.tool.risk == "destructive" else "approval.write"


def _reachable_resources(
    subject: Subject, org: Organization, workspaces: Sequence[Workspace]
) -> list[Resource]:
    """Every place a workspace- or project-level permission could hold for this subject."""
    resources = []
    for ws in workspaces:
        resources.append(workspace_resource(org, ws))
        resources += [
            project_resource(org, ws, (pid,))
            for pid, grant in subject.grants.projects.items()
            if grant.workspace_id == ws.id
        ]
    return resources


class Toolset:
    def __init__(
        self, tools: Sequence[Tool] = ALL_TOOLS, *, output_budget: int = DEFAULT_BUDGET_CHARS
    ) -> None:
        self.tools = {t.name: t for t in tools}
        self.output_budget = output_budget

    async def offered(self, ctx: ToolContext, *, read_only: bool) -> list[Tool]:
        """The tools this caller may be offered, in registry order."""
        async with ctx.db.session() as session:
            workspaces = await visible_workspaces(session, ctx.subject, ctx.organization)
        if ctx.workspace:
            current = [w for w in workspaces if w.name == ctx.workspace]
            workspaces = current or workspaces
        reachable = _reachable_resources(ctx.subject, ctx.organization, workspaces)
        org_level = org_resource(ctx.organization)
        offered = []
        for candidate in self.tools.values():
            if read_only and candidate.risk != "read":
                continue
            places = [org_level] if candidate.scope == "organization" else reachable
            if any(authorize(ctx.subject, candidate.permission, place) for place in places):
                offered.append(candidate)
        return offered

    async def prepare(
        self, ctx: ToolContext, name: str, raw_args: dict[str, Any], *, offered: Sequence[Tool]
    ) -> PreparedCall | ToolResult:
        """Validate, resolve and authorize a call; an error result says what to fix."""
        chosen = self.tools.get(name)
        if chosen is None or chosen not in offered:
            names = ", ".join(t.name for t in offered)
            return ToolResult.error(
                f"there is no tool {name!r} available to you; available: {names}"
            )
        try:
            args = chosen.args_model.model_validate(raw_args)
        except ValidationError as error:
            problems = "; ".join(
                f"{'.'.join(str(p) for p in e['loc']) or 'arguments'}: {e['msg']}"
                for e in error.errors()
            )
            return ToolResult.error(f"invalid arguments for {name}: {problems}")
        try:
            target = await self._target(ctx, chosen, args)
        except DomainError as error:
            return ToolResult.error(
                f"{name} with {args.model_dump(exclude_none=True)}: {error.message}"
            )
        return PreparedCall(chosen, args, target, chosen.summary_of(args, target))

    async def _target(self, ctx: ToolContext, chosen: Tool, args: ToolArgs) -> Target | None:
        if chosen.scope == "organization":
            require(
                ctx.subject,
                chosen.permission,
                org_resource(ctx.organization),
                read_action="organization.read",
            )
            return None
        workspace = getattr(args, "workspace", None) or ctx.workspace
        project = getattr(args, "project", None) or ctx.project
        need_project = chosen.scope == "project"
        # Lookups are remembered for the turn (a context lives one turn); rights are not:
        # every call is authorized below against the target it resolved to.
        cache: dict[tuple[str | None, str | None, bool], Target] = ctx.extras.setdefault(
            "targets", {}
        )
        key = (workspace, project, need_project)
        target = cache.get(key)
        if target is None:
            async with ctx.db.session() as session:
                target = await resolve_target(
                    session,
                    ctx.subject,
                    ctx.organization,
                    workspace=workspace,
                    project=project,
                    need_project=need_project,
                )
            cache[key] = target
        require(
            ctx.subject,
            chosen.permission,
            target.resource(chosen.scope),
            read_action=READ_ACTIONS[chosen.scope],
        )
        return target

    async def execute(self, ctx: ToolContext, call: PreparedCall) -> ToolResult:
        """Run a prepared call (approval, if needed, was given) and audit it."""
        try:
            result = await call.tool.run(ctx, call.args, call.target)
        except (NotFound, Forbidden) as error:
            result = ToolResult.error(f"{call.summary}: {error.message}")
            await self.audit(ctx, call, result, outcome="denied")
            return self.finish(result)
        except DomainError as error:
            result = ToolResult.error(f"{call.summary} failed: {error.message}")
        except Exception:
            logger.exception("tool %s crashed", call.tool.name)
            result = ToolResult.error(f"{call.summary} failed with an internal error")
        await self.audit(ctx, call, result)
        return self.finish(result)

    def finish(self, result: ToolResult) -> ToolResult:
        """Redact, and cut to the output budget with a note when needed."""
        summary = redact(result.summary)
        note = redact(result.note) if result.note else None
        if len(summary) > self.output_budget:
            summary = summary[: self.output_budget]
            note = (note + "; " if note else "") + "output cut at the budget: narrow the query"
        return result.model_copy(
            update={"summary": summary, "note": note, "data": redact_data(result.data)}
        )

    async def audit(
        self,
        ctx: ToolContext,
        call: PreparedCall | None,
        result: ToolResult,
        *,
        name: str | None = None,
        arguments: dict[str, Any] | None = None,
        outcome: Outcome | None = None,
    ) -> None:
        """One audit record per tool call, whatever happened to it."""
        if arguments is None and call is not None:
            arguments = call.args.model_dump(mode="json", exclude_none=True)
        details = {
            "arguments": redact_data(arguments or {}),
            "summary": call.summary if call else None,
            "status": result.status,
            "session_id": ctx.extras.get("session_id"),
        }
        tool_name = call.tool.name if call else (name or "unknown")
        entry = {
            "action": f"tool.{tool_name}",
            "organization_id": ctx.organization.id,
            "target_type": call.tool.scope if call else None,
            "target_id": _target_id(ctx, call.target if call else None),
            "outcome": outcome or STATUS_OUTCOMES.get(result.status, "failed"),
            "details": details,
        }
        buffer: list[dict[str, Any]] | None = ctx.extras.get("audit_buffer")
        if buffer is not None and (call is None or call.tool.risk == "read"):
            buffer.append(entry)
            return
        await self._write_audit(ctx, [entry])

    def add_buffered_audit(self, ctx: ToolContext, session: AsyncSession) -> None:
        """Add the audit records buffered during a turn to ``session`` (the caller commits).

        They are written after the turn has answered, so they go under a copy of the call: the
        request's own ``audited`` flag, which the edge reads as the response ends, stays what
        the turn made it while it ran (a changing tool call is audited at once), never what
        this later write happens to have reached.
        """
        buffer: list[dict[str, Any]] | None = ctx.extras.get("audit_buffer")
        if buffer:
            entries, buffer[:] = list(buffer), []
            call = replace(ctx.call)
            for entry in entries:
                record(session, call, **entry)

    async def _write_audit(self, ctx: ToolContext, entries: list[dict[str, Any]]) -> None:
        try:
            async with ctx.db.session() as session:
                for entry in entries:
                    record(session, ctx.call, **entry)
                await session.commit()
        except Exception:
            logger.exception("could not audit %d tool call(s)", len(entries))


def _target_id(ctx: ToolContext, target: Target | None) -> str:
    if target is not None and target.project is not None:
        return str(target.project.id)
    if target is not None and target.workspace is not None:
        return str(target.workspace.id)
    return str(ctx.organization.id)
