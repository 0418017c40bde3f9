"""Building tenants for tests through the same services the API uses."""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field

from aiops.state import AppState
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


async def make_tenant(state: AppState, name: str, *, plan: str = "team") -> Tenant:
    """An organization with a workspace and project, and people in every role.

    Roles: ``owner``, ``admin`` (org admins), ``member`` (org member, no workspace role),
    ``ws_admin``, ``editor``, ``viewer`` (org members with that workspace role).
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
            quota_cpu="4",
            quota_memory="8Gi",
        )
        session.add(project)
        pair = await state.auth.open_session(session, owner.id)
        await session.commit()
    tenant = Tenant(org=org, workspace=workspace, project=project)
    tenant.people["owner"] = Person(owner, pair.access_token, pair.refresh_token)
    tenant.people["admin"] = await add_person(state, org, "admin", "admin")
    tenant.people["member"] = await add_person(state, org, "member", "member")
    for label, role in (("ws_admin", "admin"), ("editor", "editor"), ("viewer", "viewer")):
        tenant.people[label] = await add_person(state, org, label, "member", workspace, role)
    return tenant
