"""The world a case runs in: a fresh database, a fresh seeded twin, and the case's tenants.

Every case gets its own SQLite file, copied from one migrated template (migrating costs ~0.4 s,
copying a few milliseconds), its own Redis key namespace and its own ``SimulatedCluster`` seeded
from the case. Nothing is shared between cases but the chat model, so a case cannot pass or fail
because of what ran before it. Organizations are built through the platform's own services; users
have no password (nobody logs in: the runner builds each person's subject from the database, the
way an approval resumes as its requester).
"""

from __future__ import annotations

import shutil
import uuid
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from agents.models.router import ModelRouter
from aiops.state import AppState
from evals.recording import Meter, RecordingGateway
from evals.scenario import Caller, Scenario, WorkspaceDef
from evals.twin_setup import populate_twin
from platform_core.auth.keys import generate_private_key_pem
from platform_core.auth.subjects import load_subject
from platform_core.billing.service import record_usages
from platform_core.cluster.twin.cluster import SimulatedCluster
from platform_core.config import Settings
from platform_core.context import CallContext
from platform_core.db.engine import create_engine
from platform_core.db.migrate import upgrade
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

HOME = "acme"
SETUP = CallContext(subject=Subject(kind="user", id="eval-setup", grants=Grants()))
# Who is an admin of every place they can see: they may decide any approval there.
ADMIN_LABELS = frozenset({"owner", "admin", "ws_admin"})


class Template:
    """One migrated SQLite database, copied for every case."""

    def __init__(self, root: Path) -> None:
        self.root = root
        self.path = root / "template.db"
        self.jwt_key = generate_private_key_pem().decode()
        self._count = 0

    async def prepare(self) -> None:
        engine = create_engine(f"sqlite+aiosqlite:///{self.path}")
        try:
            await upgrade(engine)
        finally:
            await engine.dispose()

    def settings(self) -> Settings:
        """Settings for a new case: a copy of the template and a Redis namespace of its own."""
        self._count += 1
        directory = self.root / f"case-{self._count:05d}"
        directory.mkdir()
        database = directory / "aiops.db"
        shutil.copyfile(self.path, database)
        values: dict[str, Any] = {
            "environment": "test",
            "data_dir": directory,
            "database_url": f"sqlite+aiosqlite:///{database}",
            "redis_url": "memory://",
            "redis_namespace": f"eval-{uuid.uuid4().hex[:12]}",
            "jwt_private_key": self.jwt_key,
            "password_hash_time_cost": 1,
            "password_hash_memory_kib": 8 * 1024,
            "password_hash_parallelism": 1,
            "log_json": False,
        }
        return Settings(_env_file=None, **values)

    def discard(self, settings: Settings) -> None:
        shutil.rmtree(settings.data_dir, ignore_errors=True)


@dataclass
class OrgHandle:
    name: str
    org: Organization
    workspaces: dict[str, Workspace]
    projects: dict[tuple[str, str], Project]
    people: dict[str, User] = field(default_factory=dict)

    def workspace_ids(self) -> set[str]:
        return {str(w.id) for w in self.workspaces.values()}


@dataclass
class World:
    case: Scenario
    settings: Settings
    state: AppState
    twin: SimulatedCluster
    recorder: RecordingGateway
    meter: Meter
    orgs: dict[str, OrgHandle]
    caller: User
    fault_ids: list[str] = field(default_factory=list)
    baseline: dict[str, Any] = field(default_factory=dict)

    @property
    def home(self) -> OrgHandle:
        return self.orgs[HOME]

    def org(self, name: str | None) -> OrgHandle:
        return self.orgs[name or HOME]

    def place(
        self, workspace: str | None, project: str | None, org: str | None = None
    ) -> tuple[str, str]:
        """(twin workspace id, namespace) of a place named as in the case (defaults: first)."""
        handle = self.org(org)
        ws_name = workspace or next(iter(handle.workspaces))
        ws = handle.workspaces[ws_name]
        if project is None:
            project = next(p for (w, p) in handle.projects if w == ws_name)
        return str(ws.id), project

    def foreign_names(self) -> set[str]:
        """Workspace names and ids of other organizations that the caller's does not share."""
        own = set(self.home.workspaces) | self.home.workspace_ids()
        names: set[str] = set()
        for handle in self.orgs.values():
            if handle.name != HOME:
                names |= set(handle.workspaces) | handle.workspace_ids()
                names |= {str(p.id) for p in handle.projects.values()}
        return names - own

    def is_admin(self, label: str) -> bool:
        if label == "caller":
            return self.case.caller.role in ("owner", "admin") or (
                self.case.caller.workspace_role == "admin"
            )
        return label in ADMIN_LABELS

    async def context(self, user: User) -> CallContext:
        async with self.state.db.session() as session:
            subject = await load_subject(session, "user", str(user.id))
        return CallContext(subject=subject, request_id=f"eval-{self.case.id}")

    async def close(self) -> None:
        await self.state.close()


CASE_NAMESPACE = uuid.UUID("6f1c1d3e-8f0b-4d5e-9a57-2c4b7f0e9a11")


async def build_world(case: Scenario, template: Template, router: ModelRouter) -> World:
    settings = template.settings()
    twin = SimulatedCluster(seed=case.seed)
    recorder = RecordingGateway(twin)
    meter = Meter()
    state = AppState.build(settings)
    state.telemetry = meter
    state.gateway = recorder.as_gateway()
    await state.start()
    state.runtime.models = router
    orgs: dict[str, OrgHandle] = {}
    home = await _organization(state, HOME, case.setup.workspaces)
    if case.setup.usage:
        async with state.db.session() as session:
            await record_usages(session, home.org.id, dict(case.setup.usage))
            await session.commit()
    caller = await _caller(state, home, case.caller)
    orgs[HOME] = home
    for other in case.other_organizations:
        orgs[other.name] = await _organization(state, other.name, other.workspaces)
    world = World(case, settings, state, twin, recorder, meter, orgs, caller)
    await populate_twin(world)
    return world


async def _organization(state: AppState, name: str, workspaces: list[WorkspaceDef]) -> OrgHandle:
    async with state.db.session() as session:
        owner = await create_user(
            session, state.auth.passwords, email=f"owner@{name}.test", name="owner", password=None
        )
        org = await create_organization(
            session, SETUP, OrganizationCreate(name=name), owner=owner, plan_id="team"
        )
        handle = OrgHandle(name, org, {}, {}, {"owner": owner})
        for ws_def in workspaces:
            ws = Workspace(
                # a stable id: the twin seeds each workspace's noise from it, so a case replays
                id=uuid.uuid5(CASE_NAMESPACE, f"{name}/{ws_def.name}"),
                organization_id=org.id,
                name=ws_def.name,
                display_name=ws_def.name,
                plan="shared",
                status="active",
            )
            session.add(ws)
            await session.flush()
            handle.workspaces[ws_def.name] = ws
            for p_def in ws_def.projects:
                project = Project(
                    organization_id=org.id,
                    workspace_id=ws.id,
                    name=p_def.name,
                    display_name=p_def.name,
                    quota_cpu=p_def.cpu,
                    quota_memory=p_def.memory,
                )
                session.add(project)
                handle.projects[(ws_def.name, p_def.name)] = project
        for label, org_role, ws_role in (
            ("admin", "admin", None),
            ("member", "member", None),
            ("ws_admin", "member", "admin"),
            ("editor", "member", "editor"),
            ("viewer", "member", "viewer"),
        ):
            handle.people[label] = await _person(session, state, handle, label, org_role, ws_role)
        await session.commit()
    return handle


async def _person(
    session: Any,
    state: AppState,
    handle: OrgHandle,
    label: str,
    org_role: str,
    ws_role: str | None,
) -> User:
    user = await create_user(
        session,
        state.auth.passwords,
        email=f"{label}@{handle.name}.test",
        name=label,
        password=None,
    )
    session.add(Membership(organization_id=handle.org.id, user_id=user.id, role=org_role))
    if ws_role is not None:
        for ws in handle.workspaces.values():
            session.add(WorkspaceMember(workspace_id=ws.id, user_id=user.id, role=ws_role))
    await session.flush()
    return user


async def _caller(state: AppState, home: OrgHandle, caller: Caller) -> User:
    """The person talking to the agent: the owner, or someone with exactly the case's roles."""
    if caller.role == "owner" and caller.workspace_role is None:
        user = home.people["owner"]
    else:
        async with state.db.session() as session:
            user = await _person(session, state, home, "caller", caller.role, caller.workspace_role)
            await session.commit()
    home.people["caller"] = user
    return user
