"""The demo tenant seeded by ``make run``: idempotent, safe to run on every start.

Organization ``demo`` (Team plan) with workspace ``demo`` and its project ``default``, and three
users: ``admin@demo.local`` (organization owner, workspace admin), ``editor@demo.local``
(workspace editor) and ``viewer@demo.local`` (workspace viewer), all with the demo password
(``AIOPS_DEMO_PASSWORD``, default ``hexabase-demo``, refused outside development).
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from platform_core.auth.passwords import Passwords
from platform_core.billing.service import create_subscription
from platform_core.cluster.schemas import ApplicationSpec
from platform_core.cluster.twin.cluster import SimulatedCluster
from platform_core.config import DEMO_PASSWORD, Settings
from platform_core.errors import NotFound
from platform_core.tenancy.models import (
    Membership,
    Organization,
    Project,
    User,
    Workspace,
    WorkspaceMember,
)
from platform_core.tenancy.repository import user_by_email
from platform_core.tenancy.users import create_user

DEMO_ORG = "demo"
DEMO_WORKSPACE = "demo"
DEMO_PROJECT = "default"
DEMO_USERS = (
    ("admin@demo.local", "Demo Admin", "owner", "admin"),
    ("editor@demo.local", "Demo Editor", "member", "editor"),
    ("viewer@demo.local", "Demo Viewer", "member", "viewer"),
)


@dataclass(frozen=True)
class DemoTenant:
    organization: Organization
    workspace: Workspace
    project: Project
    admin: User
    created: bool


async def _organization(session: AsyncSession) -> tuple[Organization, bool]:
    org = await session.scalar(select(Organization).where(Organization.name == DEMO_ORG))
    if org is not None:
        return org, False
    org = Organization(name=DEMO_ORG, display_name="Demo")
    session.add(org)
    await session.flush()
    await create_subscription(session, org.id, "team")
    return org, True


async def _workspace(session: AsyncSession, org: Organization) -> Workspace:
    workspace = await session.scalar(
        select(Workspace).where(
            Workspace.organization_id == org.id,
            Workspace.name == DEMO_WORKSPACE,
            Workspace.status != "terminated",
        )
    )
    if workspace is None:
        workspace = Workspace(
            organization_id=org.id,
            name=DEMO_WORKSPACE,
            display_name="Demo",
            plan="shared",
            status="active",
        )
        session.add(workspace)
        await session.flush()
    return workspace


async def _project(session: AsyncSession, org: Organization, workspace: Workspace) -> Project:
    project = await session.scalar(
        select(Project).where(Project.workspace_id == workspace.id, Project.name == DEMO_PROJECT)
    )
    if project is None:
        project = Project(
            organization_id=org.id,
            workspace_id=workspace.id,
            name=DEMO_PROJECT,
            display_name="Default",
            quota_cpu="8",
            quota_memory="16Gi",
            quota_storage="100Gi",
            quota_pods=100,
        )
        session.add(project)
        await session.flush()
    return project


async def _user(
    session: AsyncSession, passwords: Passwords, password: str, email: str, name: str
) -> User:
    user = await user_by_email(session, email)
    if user is None:
        user = await create_user(session, passwords, email=email, name=name, password=password)
    return user


async def seed_demo(session: AsyncSession, settings: Settings, passwords: Passwords) -> DemoTenant:
    """Create whatever part of the demo tenant is missing; never duplicates or resets."""
    password = settings.demo_password.get_secret_value()
    if not settings.is_development and password == DEMO_PASSWORD:
        raise ValueError("set AIOPS_DEMO_PASSWORD before seeding the demo outside development")
    org, created = await _organization(session)
    workspace = await _workspace(session, org)
    project = await _project(session, org, workspace)
    admin: User | None = None
    for email, name, org_role, ws_role in DEMO_USERS:
        user = await _user(session, passwords, password, email, name)
        if await session.get(Membership, (org.id, user.id)) is None:
            session.add(Membership(organization_id=org.id, user_id=user.id, role=org_role))
        bound = await session.scalar(
            select(WorkspaceMember.id).where(
                WorkspaceMember.workspace_id == workspace.id, WorkspaceMember.user_id == user.id
            )
        )
        if bound is None:
            session.add(WorkspaceMember(workspace_id=workspace.id, user_id=user.id, role=ws_role))
        admin = admin or user
    await session.flush()
    assert admin is not None
    return DemoTenant(org, workspace, project, admin, created)


DEMO_APPLICATIONS = (
    ("web", "ghcr.io/hexabase/demo-web:1.4.2", 2),
    ("api", "ghcr.io/hexabase/demo-api:2.3.0", 3),
    ("worker", "ghcr.io/hexabase/demo-worker:0.9.1", 1),
)
DEMO_WARMUP_SECONDS = 2 * 3600


async def seed_demo_cluster(gateway: SimulatedCluster, demo: DemoTenant) -> bool:
    """Give the demo workspace its applications in the twin (once): web, api and worker.

    The clock then runs two virtual hours so pods are ready and metrics have history.
    """
    workspace = str(demo.workspace.id)
    try:
        status = await gateway.get_workspace(workspace)
    except NotFound:
        status = None
    if status is not None and status.phase != "terminated":
        return False
    await gateway.provision_workspace(workspace)
    await gateway.advance(120)
    names = {ns.name for ns in await gateway.list_namespaces(workspace)}
    if DEMO_PROJECT not in names:
        await gateway.create_namespace(workspace, DEMO_PROJECT)
    for name, image, replicas in DEMO_APPLICATIONS:
        spec = ApplicationSpec(name=name, image=image, replicas=replicas)
        await gateway.create_application(workspace, DEMO_PROJECT, spec)
    await gateway.advance(DEMO_WARMUP_SECONDS)
    return True
