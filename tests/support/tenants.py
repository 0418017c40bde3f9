"""Building tenants for tests through the same services the API uses."""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field

from sqlalchemy import select

from aiops.state import AppState
from platform_core.cluster.schemas import ApplicationSpec, ResourceQuotaSpec
from platform_core.cluster.twin.cluster import SimulatedCluster
from platform_core.context import CallContext
from platform_core.rbac.subject import Grants, Subject
from platform_core.tenancy.models import (
    Membership,
    Organization,
    Project,
    User,
    Workspace,
    WorkspaceMember,
)
from platform_core.tenancy.organizations import create_organization
from platform_core.tenancy.schemas import OrganizationCreate
from platform_core.tenancy.users import create_user

PASSWORD = "correct horse battery"
WORKSPACE_IDS = uuid.UUID("5d1e4c4a-2b0f-4f6e-9a57-0c1d2e3f4a5b")
# The twin draws each application's traffic and noise from its workspace id. A test's workspace
# ids are derived from the test's name (set by ``tests/conftest.py``), so a test sees the same
# twin on every run and on both databases, and a failure can be reproduced.
current_test = "unnamed"


def stable_workspace_id(name: str) -> uuid.UUID:
    return uuid.uuid5(WORKSPACE_IDS, f"{current_test}/{name}")


SETUP = CallContext(subject=Subject(kind="user", id="test-setup", grants=Grants()))


@dataclass
class Person:
    user: User
    token: str
    refresh_token: str

    @property
    def headers(self) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.token}"}


@dataclass
class Tenant:
    org: Organization
    workspace: Workspace
    project: Project
    people: dict[str, Person] = field(default_factory=dict)

    def __getitem__(self, role: str) -> Person:
        return self.people[role]


async def add_person(
    state: AppState,
    org: Organization,
    label: str,
    org_role: str,
    ws: Workspace | None = None,
    ws_role: str | None = None,
) -> Person:
    async with state.db.session() as session:
        user = await create_user(
            session,
            state.auth.passwords,
            email=f"{label}-{uuid.uuid4().hex[:6]}@{org.name}.test",
            name=label,
            password=PASSWORD,
        )
        session.add(Membership(organization_id=org.id, user_id=user.id, role=org_role))
        if ws is not None and ws_role is not None:
            session.add(WorkspaceMember(workspace_id=ws.id, user_id=user.id, role=ws_role))
        pair = await state.auth.open_session(session, user.id)
        await session.commit()
    return Person(user=user, token=pair.access_token, refresh_token=pair.refresh_token)


async def make_tenant(
    state: AppState, name: str, *, plan: str = "team", apps: bool = False
) -> Tenant:
    """An organization with a workspace and project, and people in every role.

    Roles: ``owner``, ``admin`` (org admins), ``member`` (org member, no workspace role),
    ``ws_admin``, ``editor``, ``viewer`` (org members with that workspace role). The workspace
    exists in the twin too, with project ``app`` (and, with ``apps``, applications ``web``,
    ``api`` and ``worker`` running in it for an hour of virtual time).
    """
    async with state.db.session() as session:
        owner = await create_user(
            session,
            state.auth.passwords,
            email=f"owner@{name}.test",
            name="owner",
            password=PASSWORD,
        )
        org = await create_organization(
            session, SETUP, OrganizationCreate(name=name), owner=owner, plan_id=plan
        )
        workspace = Workspace(
            id=stable_workspace_id(f"{name}-ws"),
            organization_id=org.id,
            name=f"{name}-ws",
            display_name="ws",
            plan="shared",
            status="active",
        )
        session.add(workspace)
        await session.flush()
        project = Project(
            organization_id=org.id,
            workspace_id=workspace.id,
            name="app",
            display_name="app",
            quota_cpu="16",
            quota_memory="32Gi",
        )
        session.add(project)
        pair = await state.auth.open_session(session, owner.id)
        await session.commit()
    if state.gateway is not None:
        await provision_in_cluster(state, workspace, apps=apps)
    tenant = Tenant(org=org, workspace=workspace, project=project)
    tenant.people["owner"] = Person(owner, pair.access_token, pair.refresh_token)
    tenant.people["admin"] = await add_person(state, org, "admin", "admin")
    tenant.people["member"] = await add_person(state, org, "member", "member")
    for label, role in (("ws_admin", "admin"), ("editor", "editor"), ("viewer", "viewer")):
        tenant.people[label] = await add_person(state, org, label, "member", workspace, role)
    return tenant


APPS = (
    ("web", "ghcr.io/acme/web:1.4.2", 2),
    ("api", "ghcr.io/acme/api:2.3.0", 3),
    ("worker", "ghcr.io/acme/worker:0.9.1", 1),
)


async def provision_in_cluster(state: AppState, workspace: Workspace, *, apps: bool) -> None:
    twin = state.gateway
    assert isinstance(twin, SimulatedCluster)
    cluster_id = str(workspace.id)
    await twin.provision_workspace(cluster_id)
    await twin.advance(120)
    quota = ResourceQuotaSpec(cpu="16", memory="32Gi")
    await twin.create_namespace(cluster_id, "app", quota=quota)
    if apps:
        for name, image, replicas in APPS:
            await twin.create_application(
                cluster_id, "app", ApplicationSpec(name=name, image=image, replicas=replicas)
            )
        await twin.advance(3600)


@dataclass
class Objects:
    """One object of every kind a tenant can own, by id, for isolation tests."""

    values: dict[str, str]

    def fill(self, path: str) -> str:
        for name, value in self.values.items():
            path = path.replace("{" + name + "}", value)
        return path


async def populate(state: AppState, tenant: Tenant) -> Objects:
    """Give the tenant a group, role bindings, an invitation and an API key."""
    from datetime import timedelta

    from platform_core.db.base import utcnow
    from platform_core.incidents.models import Incident
    from platform_core.notifications.models import NotificationChannel
    from platform_core.tenancy.models import Group, GroupMember, Invitation, ProjectMember

    async with state.db.session() as session:
        group = Group(organization_id=tenant.org.id, name="ops", description="operators")
        session.add(group)
        await session.flush()
        member = tenant["member"].user
        session.add(GroupMember(group_id=group.id, user_id=member.id))
        ws_binding = await session.scalar(
            select(WorkspaceMember).where(WorkspaceMember.workspace_id == tenant.workspace.id)
        )
        project_binding = ProjectMember(
            project_id=tenant.project.id, user_id=member.id, role="viewer"
        )
        session.add(project_binding)
        invitation = Invitation(
            organization_id=tenant.org.id,
            email="invitee@example.org",
            role="member",
            token_hash=uuid.uuid4().hex,
            expires_at=utcnow() + timedelta(days=1),
        )
        session.add(invitation)
        key = await state.auth.api_keys.create(
            session, organization_id=tenant.org.id, name="bot", role="member", created_by=None
        )
        incident = Incident(
            organization_id=tenant.org.id,
            workspace_id=tenant.workspace.id,
            project_id=tenant.project.id,
            project=tenant.project.name,
            application="web",
            source="detector",
            fingerprint=f"{tenant.workspace.id}/app/web",
            open_key=f"{tenant.workspace.id}/app/web",
            status="escalated",
            severity="warning",
            title="web: crash_looping",
            signals=["crash_looping"],
        )
        channel = NotificationChannel(
            organization_id=tenant.org.id,
            name="ops-hook",
            kind="webhook",
            settings_encrypted="not-readable",
        )
        session.add_all([incident, channel])
        await session.commit()
    assert ws_binding is not None
    return Objects(
        {
            "org": str(tenant.org.id),
            "workspace": str(tenant.workspace.id),
            "project": str(tenant.project.id),
            "group": str(group.id),
            "user_id": str(member.id),
            "binding_id": str(ws_binding.id),
            "invitation_id": str(invitation.id),
            "key_id": str(key.row.id),
            "project_binding_id": str(project_binding.id),
            "session_id": "no-such-session",
            "approval_id": "no-such-approval",
            "incident_id": str(incident.id),
            "channel_id": str(channel.id),
        }
    )
