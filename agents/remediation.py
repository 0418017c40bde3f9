"""The remediation agent: an ordinary agent turn whose approvals are decided by policy.

Nothing here runs a change directly. The agent is asked, as the workspace's remediation
identity (an API key with a workspace editor's rights), to investigate and fix an incident; it
proposes tool calls exactly as in a chat, and every change pauses for approval as usual. The
pause is then decided in code: inside the workspace's policy (``platform_core.remediation.policy``)
the call is approved by the remediation identity itself and runs; outside it, it stays pending
for a person, who can approve it later from the chat API or UI and resume that exact call.

One change per run: after it, the incident is verified on later metrics before anything else is
tried, so a second proposal in the same run is declined with that reason.
"""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator, Awaitable, Callable, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from agents.events import AgentEvent, ApprovalRequiredEvent, FinalEvent, ToolResultEvent
from agents.runtime import AgentRuntime, TurnRequest
from platform_core.context import CallContext
from platform_core.remediation.policy import Verdict
from platform_core.tenancy.models import Organization

Judge = Callable[[ApprovalRequiredEvent], Awaitable[Verdict]]
MAX_FINDINGS_CHARS = 3000


@dataclass(frozen=True)
class Assignment:
    """What the agent is asked to look at, and where."""

    incident_id: uuid.UUID
    workspace: str
    project: str | None
    application: str | None
    signals: Sequence[str]
    history: Sequence[str] = ()  # what was tried before in this incident

    def message(self) -> str:
        where = f"project '{self.project}' of workspace '{self.workspace}'"
        kind, _, name = (self.application or "").rpartition("/")
        noun = {"cronjob": "CronJob", "function": "Function"}.get(kind, "Application")
        subject = (
            f"{noun} '{name}' in {where} is unhealthy."
            if self.application
            else f"Something is wrong in {where}."
        )
        lines = [f"Incident {self.incident_id}. {subject}", "Signals:"]
        lines += [f"- {signal}" for signal in self.signals]
        if self.history:
            lines.append("Earlier in this incident (it did not recover):")
            lines += [f"- {item}" for item in self.history]
        lines.append("Investigate and fix it.")
        return "\n".join(lines)


@dataclass
class ProposedAction:
    approval_id: str
    call_id: str
    tool: str
    arguments: dict[str, Any]
    description: str
    verdict: Verdict
    applied: bool = False
    result_status: str | None = None
    result_summary: str | None = None


@dataclass
class RemediationRun:
    """What one run of the agent did."""

    session_id: str | None = None
    findings: str = ""
    reads: list[str] = field(default_factory=list)
    actions: list[ProposedAction] = field(default_factory=list)
    pending_approval: ProposedAction | None = None
    error: str | None = None

    @property
    def applied(self) -> ProposedAction | None:
        return next((a for a in self.actions if a.applied), None)


def _note_events(run: RemediationRun, events: Sequence[AgentEvent]) -> None:
    for event in events:
        if event.type == "session":
            run.session_id = event.session_id
        elif isinstance(event, ToolResultEvent):
            pending = next((a for a in run.actions if a.call_id == event.call_id), None)
            if pending is not None:
                pending.applied = event.status == "ok"
                pending.result_status, pending.result_summary = event.status, event.summary
            else:
                run.reads.append(f"{event.tool}: {event.summary}"[:300])
        elif isinstance(event, FinalEvent) and event.text.strip():
            run.findings = event.text.strip()[:MAX_FINDINGS_CHARS]
        elif event.type == "error":
            run.error = f"{event.code}: {event.message}"


async def _collect(events: AsyncIterator[AgentEvent]) -> list[AgentEvent]:
    return [event async for event in events]


async def remediate(
    runtime: AgentRuntime,
    *,
    call: CallContext,
    organization: Organization,
    assignment: Assignment,
    judge: Judge,
    max_actions: int = 1,
) -> RemediationRun:
    """Run the agent on ``assignment``; approve what ``judge`` allows, leave the rest pending."""
    run = RemediationRun()
    request = TurnRequest(
        call=call,
        organization=organization,
        message=assignment.message(),
        workspace=assignment.workspace,
        project=assignment.project,
    )
    events = await _collect(await runtime.chat(request))
    _note_events(run, events)
    while True:
        asked = next((e for e in reversed(events) if isinstance(e, ApprovalRequiredEvent)), None)
        if asked is None or any(a.approval_id == asked.approval_id for a in run.actions):
            return run
        verdict = await judge(asked)
        action = ProposedAction(
            approval_id=asked.approval_id,
            call_id=asked.call_id,
            tool=asked.tool,
            arguments=dict(asked.arguments),
            description=asked.description,
            verdict=verdict,
        )
        run.actions.append(action)
        if not verdict.allowed:
            run.pending_approval = action
            return run
        if sum(a.applied for a in run.actions) >= max_actions:
            action.verdict = Verdict(False, "one change per run; the last one is verified first")
            events = await _collect(
                await runtime.decide(
                    call=call,
                    organization=organization,
                    approval_id=asked.approval_id,
                    approve=False,
                )
            )
            _note_events(run, events)
            return run
        events = await _collect(
            await runtime.decide(
                call=call, organization=organization, approval_id=asked.approval_id, approve=True
            )
        )
        _note_events(run, events)


def describe_run(run: RemediationRun, at: datetime) -> dict[str, Any]:
    """A JSON summary for the incident timeline."""
    return {
        "at": at.isoformat(),
        "session_id": run.session_id,
        "reads": run.reads[-10:],
        "actions": [
            {
                "tool": a.tool,
                "arguments": a.arguments,
                "allowed": a.verdict.allowed,
                "reason": a.verdict.reason,
                "applied": a.applied,
                "result": a.result_summary,
            }
            for a in run.actions
        ],
        "error": run.error,
    }
