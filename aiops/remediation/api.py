"""Remediation policies per workspace, and the Alertmanager webhook.

* ``/api/v1/organizations/{org}/remediation-policies``: every policy you may see.
* ``/api/v1/organizations/{org}/workspaces/{workspace}/remediation-policy``: GET, PUT (create or
  replace, validated), DELETE (also revokes the identity remediation acted as).
* ``POST /api/v1/alerts/alertmanager``: Alertmanager's webhook receiver, authenticated like every
  call (an API key in ``Authorization: Bearer`` or ``X-API-Key``).
"""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query, Response, status

from aiops.http.deps import Caller, DbSession, Org, State, WorkspaceDep
from aiops.remediation.alerts import AlertmanagerPayload, AlertOutcome
from platform_core.errors import InvalidInput
from platform_core.remediation import service
from platform_core.remediation.schemas import RemediationPolicyRead, RemediationPolicyWrite
from platform_core.tenancy.repository import resolve_org

router = APIRouter(tags=["remediation"])
POLICY = "/api/v1/organizations/{org}/workspaces/{workspace}/remediation-policy"


@router.get(
    "/api/v1/organizations/{org}/remediation-policies",
    name="remediation_policy.list",
    operation_id="listRemediationPolicies",
)
async def list_policies(org: Org, ctx: Caller, session: DbSession) -> list[RemediationPolicyRead]:
    """The remediation policies of the workspaces you can see."""
    return await service.list_policies(session, ctx, org)


@router.get(POLICY, name="remediation_policy.get", operation_id="getRemediationPolicy")
async def get_policy(
    org: Org, workspace: WorkspaceDep, ctx: Caller, session: DbSession
) -> RemediationPolicyRead:
    """What the remediation agent may do in this workspace without a person."""
    return await service.get_policy(session, ctx, org, workspace)


@router.put(POLICY, name="remediation_policy.put", operation_id="putRemediationPolicy")
async def put_policy(
    org: Org,
    workspace: WorkspaceDep,
    body: RemediationPolicyWrite,
    ctx: Caller,
    session: DbSession,
    state: State,
    response: Response,
) -> RemediationPolicyRead:
    """Create or replace the policy (workspace or organization admins). Anything it does not
    allow becomes an approval request instead of an action."""
    read, created = await service.put_policy(
        session, ctx, org, workspace, body, state.auth.api_keys
    )
    if created:
        response.status_code = status.HTTP_201_CREATED
    return read


@router.delete(
    POLICY,
    name="remediation_policy.delete",
    operation_id="deleteRemediationPolicy",
    status_code=status.HTTP_204_NO_CONTENT,
)
async def delete_policy(org: Org, workspace: WorkspaceDep, ctx: Caller, session: DbSession) -> None:
    """Turn remediation off here: incidents are still opened and announced, never acted on."""
    await service.delete_policy(session, ctx, org, workspace)


@router.post(
    "/api/v1/alerts/alertmanager",
    name="alert.alertmanager",
    operation_id="receiveAlertmanagerWebhook",
    status_code=status.HTTP_202_ACCEPTED,
)
async def alertmanager(
    body: AlertmanagerPayload,
    ctx: Caller,
    session: DbSession,
    state: State,
    organization: Annotated[
        str | None,
        Query(max_length=63, description="Needed only when the caller belongs to several"),
    ] = None,
) -> list[AlertOutcome]:
    """Each firing alert opens or joins its incident and starts a read-only investigation by the
    agent, whose findings go to the incident and its notifications; resolved alerts are noted.
    Alerts that cannot be placed are listed as rejected (422 if none could be)."""
    orgs = list(ctx.subject.grants.orgs)
    if organization is None and len(orgs) != 1:
        raise InvalidInput(
            "name the organization with ?organization=", details={"field": "organization"}
        )
    org = await resolve_org(session, ctx.subject, organization or str(orgs[0]))
    outcomes = await state.remediation.alerts.receive(session, ctx, org, body)
    if all(o.status == "rejected" for o in outcomes):
        raise InvalidInput(
            "no alert could be placed",
            details={"alerts": [o.model_dump() for o in outcomes]},
        )
    return outcomes
