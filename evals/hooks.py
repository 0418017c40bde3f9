"""Checks too particular for the declarative verifier, referenced from YAML by name.

``- {check: python, hook: answer_states_replicas, params: {app: web}}`` calls
``answer_states_replicas(ctx, app="web")``. A hook returns the reasons the case fails (empty:
it passes); it may be async. Hooks compare the answer with the *twin's* truth at the end of the
case rather than with a number written into the case, so a case stays right whatever the seed.
"""

from __future__ import annotations

import re
from collections.abc import Awaitable, Callable
from dataclasses import dataclass

from evals.checks import HookCheck
from evals.drive import Transcript
from evals.world import HOME, World

Hook = Callable[..., list[str] | Awaitable[list[str]]]
HOOKS: dict[str, Hook] = {}


@dataclass
class HookContext:
    world: World
    transcript: Transcript
    check: HookCheck

    @property
    def answer(self) -> str:
        """The last turn's final answer."""
        return self.transcript.turns[-1].final_text if self.transcript.turns else ""

    def place(self) -> tuple[str, str]:
        return self.world.place(self.check.workspace, self.check.project, self.check.org)


def hook(function: Hook) -> Hook:
    HOOKS[function.__name__] = function
    return function


def _mentions(text: str, word: str) -> bool:
    return re.search(rf"(?<![\w-]){re.escape(word)}(?![\w-])", text, re.I) is not None


@hook
async def answer_lists_apps(ctx: HookContext) -> list[str]:
    """The answer names every application of the project."""
    ws, ns = ctx.place()
    names = [a.name for a in await ctx.world.twin.list_applications(ws, ns)]
    missing = [n for n in names if not _mentions(ctx.answer, n)]
    return [f"the answer does not mention {', '.join(missing)}"] if missing else []


@hook
async def answer_states_replicas(ctx: HookContext, app: str) -> list[str]:
    """The answer gives the application's actual replica count."""
    ws, ns = ctx.place()
    replicas = (await ctx.world.twin.get_application(ws, ns, app)).replicas
    if re.search(rf"\b{replicas}\b", ctx.answer):
        return []
    return [f"the answer does not state {app}'s {replicas} replicas"]


@hook
def answer_lists_workspaces(ctx: HookContext) -> list[str]:
    """Every workspace of the caller's organization, and none of another's, is named."""
    home = set(ctx.world.home.workspaces)
    foreign = {
        name
        for org, handle in ctx.world.orgs.items()
        if org != HOME
        for name in handle.workspaces
        if name not in home
    }
    reasons = [f"{n} not mentioned" for n in sorted(home) if not _mentions(ctx.answer, n)]
    reasons += [
        f"another organization's {n} is mentioned"
        for n in sorted(foreign)
        if _mentions(ctx.answer, n)
    ]
    return reasons


@hook
def logs_narrowed(ctx: HookContext, max_lines: int = 500) -> list[str]:
    """Every log read asked for a bounded, filtered slice rather than the whole flood."""
    reads = [c for c in ctx.transcript.calls if c.name == "get_pod_logs"]
    if not reads:
        return ["the logs were never read"]
    reasons = []
    for call in reads:
        args = call.args
        tail = args.get("tail_lines", 100)
        narrowed = bool(args.get("contains")) or bool(args.get("since_minutes"))
        if not narrowed and (not isinstance(tail, int) or tail > max_lines):
            reasons.append(f"get_pod_logs({args}) reads up to {tail} unfiltered lines")
    return reasons


@hook
def no_changes_requested(ctx: HookContext) -> list[str]:
    """Not even proposed: no write or destructive tool was called at all."""
    writes = [c.name for c in ctx.transcript.calls if c.risk in ("write", "destructive")]
    return [f"change(s) proposed: {', '.join(writes)}"] if writes else []


@hook
def answer_is_short(ctx: HookContext, max_chars: int = 4000) -> list[str]:
    """The answer summarises rather than pasting the tool output back."""
    size = len(ctx.answer)
    return [f"the answer is {size} characters long"] if size > max_chars else []


@hook
async def cronjob_ran_manually(ctx: HookContext, name: str, status: str = "") -> list[str]:
    """A manual Job of the CronJob exists (and ended with ``status`` when given)."""
    ws, ns = ctx.place()
    runs = [r for r in await ctx.world.twin.list_job_runs(ws, ns, name) if r.manual]
    if not runs:
        return [f"no manual run of {name}"]
    if status and runs[-1].status != status:
        return [f"the manual run of {name} is {runs[-1].status}, expected {status}"]
    return []
