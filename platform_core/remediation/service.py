"""Remediation policies: CRUD with the caller's rights, and the identity remediation acts as."""

from __future__ import annotations

import uuid
from dataclasses import fields

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from platform_core.audit.service import record
from platform_core.auth.api_keys import ApiKeys
from platform_core.auth.models import ApiKey
from platform_core.context import CallContext
from platform_core.db.base import utcnow
from platform_core.errors import NotFound
from platform_core.rbac.authorize import authorize, require
from platform_core.remediation.models import RemediationPolicy
from platform_core.remediation.policy import PolicyRules
from platform_core.remediation.schemas import RemediationPolicyRead, RemediationPolicyWrite
from platform_core.tenancy.models import Organization, Workspace
from platform_core.tenancy.repository import visible_workspaces, workspace_resource

SERVICE_KEY_PREFIX = "remediation"


def rules_of(policy: RemediationPolicy) -> PolicyRules:
    """The stored policy as the limits the remediation agent checks (sets where it looks up)."""
    values = {rule.name: getattr(policy, rule.name) for rule in fields(PolicyRules)}
    values["allowed_actions"] = frozenset(policy.allowed_actions)
    values["applications"] = frozenset(policy.applications)
    return PolicyRules(**values)


def to_read(policy: RemediationPolicy, workspace: Workspace) -> RemediationPolicyRead:
    """The stored policy as the API shows it: what was written, and where and when."""
    written = {name: getattr(policy, name) for name in RemediationPolicyWrite.model_fields}
    return RemediationPolicyRead(
        workspace_id=str(workspace.id),
        workspace=workspace.name,
        service_key_id=str(policy.service_key_id) if policy.service_key_id else None,
        updated_at=policy.updated_at,
        **written,
    )


async def get_policy(
    session: AsyncSession, ctx: CallContext, org: Organization, workspace: Workspace
) -> RemediationPolicyRead:
    resource = workspace_resource(org, workspace, kind="remediation_policy")
    require(ctx.subject, "remediation_policy.read", resource, read_action="workspace.read")
    policy = await session.get(RemediationPolicy, workspace.id)
    if policy is None:
        raise NotFound("this workspace has no remediation policy")
    return to_read(policy, workspace)


async def list_policies(
    session: AsyncSession, ctx: CallContext, org: Organization
) -> list[RemediationPolicyRead]:
    workspaces = {
        w.id: w
        for w in await visible_workspaces(session, ctx.subject, org)
        if authorize(
            ctx.subject,
            "remediation_policy.read",
            workspace_resource(org, w, kind="remediation_policy"),
        )
    }
    rows = await session.scalars(
        select(RemediationPolicy).where(RemediationPolicy.workspace_id.in_(workspaces))
    )
    return sorted((to_read(p, workspaces[p.workspace_id]) for p in rows), key=lambda r: r.workspace)


async def put_policy(
    session: AsyncSession,
    ctx: CallContext,
    org: Organization,
    workspace: Workspace,
    data: RemediationPolicyWrite,
    keys: ApiKeys,
) -> tuple[RemediationPolicyRead, bool]:
    """Create or replace the policy; returns it and whether it was created."""
    resource = workspace_resource(org, workspace, kind="remediation_policy")
    require(ctx.subject, "remediation_policy.manage", resource, read_action="workspace.read")
    policy = await session.get(RemediationPolicy, workspace.id)
    created = policy is None
    if policy is None:
        policy = RemediationPolicy(workspace_id=workspace.id, organization_id=org.id)
        session.add(policy)
    for name, value in data.model_dump().items():
        setattr(policy, name, value)
    policy.updated_by_id = ctx.subject.user_id
    policy.updated_at = utcnow()
    await _ensure_service_key(session, ctx, org, workspace, policy, keys)
    record(
        session,
        ctx,
        action="remediation_policy.create" if created else "remediation_policy.update",
        organization_id=org.id,
        target_type="workspace",
        target_id=workspace.id,
        details=data.model_dump(mode="json"),
    )
    await session.flush()
    return to_read(policy, workspace), created


async def _ensure_service_key(
    session: AsyncSession,
    ctx: CallContext,
    org: Organization,
    workspace: Workspace,
    policy: RemediationPolicy,
    keys: ApiKeys,
) -> None:
    """Give the policy a live identity: a workspace-editor key whose secret nobody ever sees."""
    if policy.service_key_id is not None:
        current = await session.get(ApiKey, policy.service_key_id)
        if current is not None and current.revoked_at is None:
            return
    new = await keys.create(
        session,
        organization_id=org.id,
        name=f"{SERVICE_KEY_PREFIX}: {workspace.name}"[:100],
        role="member",
        created_by=ctx.subject.user_id,
        workspace_id=workspace.id,
        workspace_role="editor",
    )
    policy.service_key_id = new.row.id


async def delete_policy(
    session: AsyncSession, ctx: CallContext, org: Organization, workspace: Workspace
) -> None:
    """Remove the policy and revoke the identity remediation acted as."""
    resource = workspace_resource(org, workspace, kind="remediation_policy")
    require(ctx.subject, "remediation_policy.manage", resource, read_action="workspace.read")
    policy = await session.get(RemediationPolicy, workspace.id)
    if policy is None:
        raise NotFound("this workspace has no remediation policy")
    if policy.service_key_id is not None:
        key = await session.get(ApiKey, policy.service_key_id)
        if key is not None and key.revoked_at is None:
            key.revoked_at = utcnow()
    await session.delete(policy)
    record(
        session,
        ctx,
        action="remediation_policy.delete",
        organization_id=org.id,
        target_type="workspace",
        target_id=workspace.id,
    )
    await session.flush()


async def active_identity(session: AsyncSession, policy: RemediationPolicy) -> ApiKey | None:
    """The key remediation acts as, if it is still live (revoked or expired: none)."""
    if policy.service_key_id is None:
        return None
    key = await session.get(ApiKey, policy.service_key_id)
    if key is None or key.revoked_at is not None:
        return None
    if key.expires_at is not None and key.expires_at <= utcnow():
        return None
    return key


async def policy_for(session: AsyncSession, workspace_id: uuid.UUID) -> RemediationPolicy | None:
    return await session.get(RemediationPolicy, workspace_id)
