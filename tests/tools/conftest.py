"""Tool calls against the twin and the metric store, without the database behind the toolset."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator

import pytest

from platform_core.context import CallContext
from platform_core.db import Database
from platform_core.observability.store import MetricStore
from platform_core.observability.twin_bench.runner import World
from platform_core.rbac.subject import Grants, Subject
from platform_core.tenancy.models import Organization, Project, Workspace
from tools.base import ToolContext
from tools.targets import Target


@pytest.fixture(scope="module")
async def metric_store(clickhouse_url: str) -> AsyncIterator[MetricStore]:
    """Closed after each module: chDB opens one path per process, and other modules (the
    execution-history tests) open their own once this engine is released."""
    store = MetricStore.from_url(clickhouse_url)
    yield store
    await store.close()


@pytest.fixture(scope="session")
async def unused_database() -> AsyncIterator[Database]:
    """Tools called directly never touch the database (the toolset resolves targets)."""
    db = Database("sqlite+aiosqlite://")
    yield db
    await db.dispose()


def tool_call(world: World, store: MetricStore | None, db: Database) -> tuple[ToolContext, Target]:
    """The context and resolved target of a call into ``world``'s project ``app``."""
    org_id = world.apps[0].organization_id
    org = Organization(id=org_id, name="acme", display_name="Acme", status="active")
    workspace = Workspace(
        id=uuid.UUID(world.workspace),
        organization_id=org_id,
        name="acme-ws",
        display_name="ws",
        plan="shared",
        status="active",
    )
    project = Project(
        id=uuid.uuid4(),
        organization_id=org_id,
        workspace_id=workspace.id,
        name="app",
        display_name="app",
    )
    subject = Subject(kind="user", id="tester", grants=Grants())
    ctx = ToolContext(
        call=CallContext(subject=subject),
        organization=org,
        gateway=world.twin,
        db=db,
        metrics=store,
    )
    return ctx, Target(organization=org, workspace=workspace, project=project)
