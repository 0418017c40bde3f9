"""An incident's life after detection: remediate, wait for a person, verify, close or escalate.

``advance`` is called once per monitor tick for every incident that is not resolved, with what
the monitor observes of its application now. States:

``open``
    Found, nothing tried yet. With a live policy the remediation agent runs: an action inside
    the policy is applied (-> ``verifying``), one outside becomes an approval request
    (-> ``awaiting_approval``), no action means a person must look (-> ``escalated``).
    Without a policy (or with it disabled, or its identity revoked) -> ``escalated``.
``awaiting_approval``
    Approved (by a person, resuming the exact call) -> ``verifying``; denied or expired ->
    ``escalated``.
``verifying``
    Healthy for ``verify_minutes`` after the action -> ``resolved``. Still unhealthy after that
    long: another run of the agent if the policy's rate limit allows (-> ``open``), else
    ``escalated``.
``escalated``
    A person owns it; it still resolves by itself once healthy for ``verify_minutes``.

Any state escalates once the incident is older than the policy's ``escalate_after_minutes``.
All times are the cluster's clock.
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from agents.approvals import ApprovalStore
from agents.events import ApprovalRequiredEvent
from agents.remediation import Assignment, RemediationRun, describe_run, remediate
from agents.runtime import AgentRuntime
from aiops.remediation.signals import Observation
from platform_core.auth.api_keys import api_key_subject
from platform_core.cluster.protocol import ClusterGateway
from platform_core.context import CallContext
from platform_core.errors import DomainError
from platform_core.incidents import service as incidents
from platform_core.incidents.models import Incident, IncidentEvent
from platform_core.remediation import service as policies
from platform_core.remediation.models import RemediationPolicy
from platform_core.remediation.policy import TOOL_ACTIONS, Verdict, judge
from platform_core.tenancy.models import Organization, Workspace

logger = logging.getLogger(__name__)
DEFAULT_VERIFY_MINUTES = 5
DEFAULT_ESCALATE_MINUTES = 30
REINVESTIGATE = timedelta(minutes=5)

# (session, incident, event, summary, details, when) -> told to the organization's channels
Announce = Callable[[AsyncSession, Incident, str, str, list[str], datetime], Awaitable[None]]


@dataclass
class Workflow:
    """Everything ``advance`` needs; one per service."""

    runtime: AgentRuntime
    approvals: ApprovalStore
    gateway: ClusterGateway
    announce: Announce

    async def advance(
        self,
        session: AsyncSession,
        org: Organization,
        workspace: Workspace,
        incident: Incident,
        seen: Observation | None,
        now: datetime,
    ) -> None:
        """Move ``incident`` on given what is observed now (None: its place is gone)."""
        policy = await policies.policy_for(session, workspace.id)
        verify = timedelta(minutes=policy.verify_minutes if policy else DEFAULT_VERIFY_MINUTES)
        if seen is None:
            await self._close(session, incident, now, "the application no longer exists")
            return
        seen = seen.with_alerts(incident.signals)
        if incident.status == "awaiting_approval":
            await self.check_approval(session, incident, now)
        if incident.status in ("open", "remediating"):
            await self._remediate(session, org, workspace, incident, policy, seen, now)
        elif incident.status == "verifying":
            await self._verify(session, incident, policy, seen, now, verify)
        elif incident.status == "escalated" and _quiet_for(incident, seen, now, verify):
            await self._close(
                session, incident, now, f"healthy again for {_minutes(verify)} (no action taken)"
            )
        await self._maybe_escalate_for_age(session, incident, policy, now)

    # ------------------------------------------------------------------ states

    async def _remediate(
        self,
        session: AsyncSession,
        org: Organization,
        workspace: Workspace,
        incident: Incident,
        policy: RemediationPolicy | None,
        seen: Observation,
        now: datetime,
    ) -> None:
        verify = timedelta(minutes=policy.verify_minutes if policy else DEFAULT_VERIFY_MINUTES)
        if not seen.unhealthy:
            if _quiet_for(incident, seen, now, verify):
                await self._close(
                    session, incident, now, f"recovered on its own: healthy for {_minutes(verify)}"
                )
            return
        if not seen.symptomatic and await _recently_investigated(session, incident, now):
            return  # an anomaly the agent just looked at: watch it, do not page anyone
        reason = await _no_remediation_reason(session, policy)
        if reason is not None:
            if seen.symptomatic:
                await self._escalate(session, incident, now, reason, seen.evidence())
            return
        assert policy is not None
        key = await policies.active_identity(session, policy)
        assert key is not None
        incident.status = "remediating"
        await session.flush()
        run = await self._run_agent(session, org, workspace, incident, policy, key, seen, now)
        await self._record_run(session, incident, run, now, symptomatic=seen.symptomatic)

    async def _run_agent(
        self,
        session: AsyncSession,
        org: Organization,
        workspace: Workspace,
        incident: Incident,
        policy: RemediationPolicy,
        key: Any,
        seen: Observation,
        now: datetime,
    ) -> RemediationRun:
        call = CallContext(subject=api_key_subject(key), request_id=f"incident-{incident.id}")
        history = await _tried(session, incident)
        assignment = Assignment(
            incident_id=incident.id,
            workspace=workspace.name,
            project=incident.project,
            application=incident.application,
            signals=seen.briefing(),
            history=history,
        )
        rules = policies.rules_of(policy)
        recent = await incidents.actions_since(
            session, incident.organization_id, incident.fingerprint, now - timedelta(hours=1)
        )

        earlier = await _applied(session, incident)

        async def decide(asked: ApprovalRequiredEvent) -> Verdict:
            target = str(asked.arguments.get("application", ""))
            if incident.application and target != incident.application:
                return Verdict(False, f"{target!r} is not the application of this incident")
            repeat = _repeats(asked, earlier)
            if repeat is not None:
                return Verdict(False, repeat)
            app = None
            if target and incident.project:
                try:
                    app = await self.gateway.get_application(
                        str(workspace.id), incident.project, target
                    )
                except DomainError:
                    app = None
            return judge(
                rules,
                tool=asked.tool,
                risk=asked.risk,
                arguments=asked.arguments,
                application=app,
                recent_actions=recent,
                now=now,
            )

        # The agent's own database work happens in its own sessions; ours stays open around it.
        await session.commit()
        try:
            return await remediate(
                self.runtime, call=call, organization=org, assignment=assignment, judge=decide
            )
        except DomainError as exc:
            return RemediationRun(error=f"{type(exc).__name__}: {exc}")

    async def _record_run(
        self,
        session: AsyncSession,
        incident: Incident,
        run: RemediationRun,
        now: datetime,
        *,
        symptomatic: bool,
    ) -> None:
        details = describe_run(run, now)
        incident.session_id = run.session_id or incident.session_id
        if run.findings:
            incidents.add_event(session, incident, "finding", run.findings, now, details)
        for action in run.actions:
            incidents.add_event(
                session,
                incident,
                "action_proposed",
                f"{action.description}: {action.verdict.reason}",
                now,
                {"tool": action.tool, "arguments": action.arguments},
            )
        applied = run.applied
        if applied is not None:
            incident.status = "verifying"
            incident.acted_at = now
            incident.actions += 1
            text = f"applied: {applied.description} ({applied.verdict.reason})"
            incidents.add_event(
                session,
                incident,
                "action_applied",
                text,
                now,
                {"tool": applied.tool, "arguments": applied.arguments},
            )
            await self.announce(session, incident, "action_taken", text, [run.findings], now)
            return
        failed = next((a for a in run.actions if a.verdict.allowed and not a.applied), None)
        if failed is not None:
            text = f"{failed.description} failed: {failed.result_summary or failed.result_status}"
            incidents.add_event(session, incident, "action_failed", text, now)
            await self._escalate(session, incident, now, text, [run.findings])
            return
        if run.pending_approval is not None:
            asked = run.pending_approval
            # the requester is the remediation identity: a person with admin rights decides
            await self.approvals.require_admin(asked.approval_id)
            incident.status = "awaiting_approval"
            incident.approval_id = asked.approval_id
            text = f"needs approval: {asked.description} ({asked.verdict.reason})"
            incidents.add_event(
                session,
                incident,
                "approval_requested",
                text,
                now,
                {"approval_id": asked.approval_id, "tool": asked.tool},
            )
            await self.announce(session, incident, "approval_requested", text, [run.findings], now)
            return
        if not symptomatic and run.error is None:
            incident.status = "open"  # only unusual metrics and no fix found: keep watching
            return
        reason = run.error or "the agent found no fix it could propose"
        await self._escalate(session, incident, now, reason, [run.findings] if run.findings else [])

    async def check_approval(
        self, session: AsyncSession, incident: Incident, now: datetime
    ) -> None:
        """Follow a person's decision on the incident's pending fix (at the next tick, or at
        once when the decision is made through the service)."""
        if incident.approval_id is None:
            incident.status = "open"
            return
        approval = await self.approvals.find(incident.approval_id)
        status = "expired" if approval is None or approval.expired else approval.status
        if status == "pending":
            return
        decided_by = approval.decided_by if approval else None
        text = f"{status}" + (f" by {decided_by}" if decided_by else "")
        incidents.add_event(
            session, incident, "approval_decided", text, now, {"approval_id": incident.approval_id}
        )
        incident.approval_id = None
        if status == "approved":
            assert approval is not None
            incident.status = "verifying"
            incident.acted_at = now
            incident.actions += 1
            applied = f"applied after approval: {approval.description}"
            incidents.add_event(
                session,
                incident,
                "action_applied",
                applied,
                now,
                {"tool": approval.tool, "arguments": approval.arguments},
            )
            await self.announce(session, incident, "action_taken", applied, [], now)
        else:
            await self._escalate(session, incident, now, f"the proposed fix was {text}", [])

    async def _verify(
        self,
        session: AsyncSession,
        incident: Incident,
        policy: RemediationPolicy | None,
        seen: Observation,
        now: datetime,
        verify: timedelta,
    ) -> None:
        acted = incident.acted_at or incident.opened_at
        if not seen.unhealthy:
            if _quiet_for(incident, seen, now, verify) and now - acted >= verify:
                text = f"verified: healthy for {_minutes(verify)} after the fix"
                incidents.add_event(session, incident, "verification", text, now)
                await self._close(session, incident, now, text)
            return
        if now - acted < verify:
            return  # give the fix time to take effect
        text = "still unhealthy after the fix: " + "; ".join(seen.evidence()[:3])
        incidents.add_event(session, incident, "verification", text, now)
        rules = policies.rules_of(policy) if policy else None
        recent = await incidents.actions_since(
            session, incident.organization_id, incident.fingerprint, now - timedelta(hours=1)
        )
        if rules is not None and rules.enabled and len(recent) < rules.max_actions_per_hour:
            incident.status = "open"  # the agent tries again next tick, told what failed
        else:
            await self._escalate(session, incident, now, text, seen.evidence())

    async def _maybe_escalate_for_age(
        self,
        session: AsyncSession,
        incident: Incident,
        policy: RemediationPolicy | None,
        now: datetime,
    ) -> None:
        if incident.status in ("escalated", "resolved"):
            return
        limit = policy.escalate_after_minutes if policy else DEFAULT_ESCALATE_MINUTES
        if now - incident.opened_at >= timedelta(minutes=limit):
            await self._escalate(
                session, incident, now, f"not resolved {limit} min after it opened", []
            )

    # ------------------------------------------------------------------ transitions

    async def _escalate(
        self,
        session: AsyncSession,
        incident: Incident,
        now: datetime,
        reason: str,
        details: list[str],
    ) -> None:
        incidents.set_status(session, incident, "escalated", now, reason)
        await self.announce(session, incident, "incident_escalated", reason, details, now)

    async def _close(
        self, session: AsyncSession, incident: Incident, now: datetime, reason: str
    ) -> None:
        incidents.set_status(session, incident, "resolved", now, reason)
        await self.announce(session, incident, "incident_resolved", reason, [], now)


async def _recently_investigated(session: AsyncSession, incident: Incident, now: datetime) -> bool:
    """Looked at since its signals last changed, and not long ago: an anomaly that persists
    is looked at again every ``REINVESTIGATE`` (the evidence may have become conclusive)."""
    events = await incidents.timeline(session, incident.id)
    detected = max((e.at for e in events if e.kind == "detected"), default=None)
    looked = max((e.at for e in events if e.kind in ("finding", "action_proposed")), default=None)
    if detected is None or looked is None:
        return False
    return looked >= detected and now - looked < REINVESTIGATE


async def _no_remediation_reason(
    session: AsyncSession, policy: RemediationPolicy | None
) -> str | None:
    if policy is None:
        return "this workspace has no remediation policy: a person must act"
    if not policy.enabled:
        return "remediation is disabled in this workspace's policy: a person must act"
    if await policies.active_identity(session, policy) is None:
        return "the remediation identity of this workspace was revoked: a person must act"
    return None


async def _applied(session: AsyncSession, incident: Incident) -> list[IncidentEvent]:
    return [e for e in await incidents.timeline(session, incident.id) if e.kind == "action_applied"]


def _repeats(asked: ApprovalRequiredEvent, earlier: list[IncidentEvent]) -> str | None:
    """Refuse, for a person to judge, a fix that repeats or undoes this incident's own fixes.

    A rollback after the incident already changed the application would most likely undo that
    change (the agent flip-flopping between two revisions); the same call twice already failed.
    """
    for event in earlier:
        same_tool = event.data.get("tool") == asked.tool
        if same_tool and event.data.get("arguments") == asked.arguments:
            return f"the same change was applied at {event.at:%H:%M} and did not resolve it"
    if asked.tool == "rollback_application" and earlier:
        last = earlier[-1]
        return f"a rollback now would undo the change applied at {last.at:%H:%M}"
    return None


async def _tried(session: AsyncSession, incident: Incident) -> list[str]:
    """Earlier fixes, in the platform's own words (no argument values: the agent reads the
    current state itself, and a number in its instructions would read as a request)."""
    events: list[IncidentEvent] = await incidents.timeline(session, incident.id)
    return [
        f"a change at {e.at:%H:%M} ({TOOL_ACTIONS.get(str(e.data.get('tool')), 'other')})"
        for e in events
        if e.kind == "action_applied"
    ]


def _quiet_for(incident: Incident, seen: Observation, now: datetime, span: timedelta) -> bool:
    return not seen.unhealthy and now - incident.last_detected_at >= span


def _minutes(span: timedelta) -> str:
    return f"{int(span.total_seconds() // 60)} min"
