"""Request dependencies, declared once as ``Annotated`` aliases.

``DbSession`` commits when the endpoint returns and rolls back when it raises: services flush,
the edge commits. ``Caller`` authenticates (bearer token or API key), applies the per-user rate
limit and gives the ``CallContext`` services take. ``Org``, ``WorkspaceDep`` and ``ProjectDep``
resolve path references through the scoped lookups, so a route never touches another tenant's
object.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Annotated

from fastapi import Depends, Path, Request
from fastapi.security import APIKeyHeader, HTTPAuthorizationCredentials, HTTPBearer
from sqlalchemy.ext.asyncio import AsyncSession

from aiops.state import AppState
from platform_core.context import CallContext
from platform_core.errors import NotFound, RateLimited, Unauthenticated
from platform_core.operations.workspaces import sync_status
from platform_core.rbac.subject import ANONYMOUS
from platform_core.tenancy.models import Organization, Project, Workspace
from platform_core.tenancy.repository import resolve_org, resolve_project, resolve_workspace

bearer_scheme = HTTPBearer(auto_error=False, description="Access token or API key")
api_key_scheme = APIKeyHeader(name="X-API-Key", auto_error=False, description="API key")


def get_state(request: Request) -> AppState:
    state: AppState = request.app.state.aiops
    return state


State = Annotated[AppState, Depends(get_state)]


async def db_session(request: Request, state: State) -> AsyncIterator[AsyncSession]:
    async with state.db.session() as session:
        try:
            yield session
            await session.commit()
        except BaseException:
            await session.rollback()
            ctx: CallContext | None = getattr(request.state, "ctx", None)
            if ctx is not None:
                ctx.audited = False  # whatever was recorded was rolled back with the change
            raise


DbSession = Annotated[AsyncSession, Depends(db_session, scope="function")]


def _context(request: Request, ctx: CallContext) -> CallContext:
    request.state.ctx = ctx
    return ctx


async def _authenticate(
    request: Request,
    state: AppState,
    session: AsyncSession,
    bearer: HTTPAuthorizationCredentials | None,
    api_key: str | None,
) -> CallContext | None:
    credential = bearer.credentials if bearer else api_key
    if not credential:
        return None
    subject = await state.auth.authenticate(session, credential)
    ctx = _context(
        request,
        CallContext(
            subject=subject,
            request_id=getattr(request.state, "request_id", None),
            client_ip=getattr(request.state, "client_ip", None),
        ),
    )
    settings = state.settings
    if settings.rate_limit_enabled:
        decision = await state.auth.limiter.hit(
            f"subject:{subject.kind}:{subject.id}", limit=settings.rate_limit_user_per_minute
        )
        if not decision.allowed:
            request.app.state.metrics.rate_limited.labels("subject").inc()
            raise RateLimited(
                "too many requests for this account", retry_after=decision.retry_after_seconds
            )
    return ctx


async def caller(
    request: Request,
    state: State,
    session: DbSession,
    bearer: Annotated[HTTPAuthorizationCredentials | None, Depends(bearer_scheme)],
    api_key: Annotated[str | None, Depends(api_key_scheme)],
) -> CallContext:
    ctx = await _authenticate(request, state, session, bearer, api_key)
    if ctx is None:
        raise Unauthenticated("sign in: send 'Authorization: Bearer <token>' or 'X-API-Key'")
    return ctx


async def optional_caller(
    request: Request,
    state: State,
    session: DbSession,
    bearer: Annotated[HTTPAuthorizationCredentials | None, Depends(bearer_scheme)],
    api_key: Annotated[str | None, Depends(api_key_scheme)],
) -> CallContext:
    ctx = await _authenticate(request, state, session, bearer, api_key)
    if ctx is not None:
        return ctx
    return _context(
        request,
        CallContext(
            subject=ANONYMOUS,
            request_id=getattr(request.state, "request_id", None),
            client_ip=getattr(request.state, "client_ip", None),
        ),
    )


Caller = Annotated[CallContext, Depends(caller)]
OptionalCaller = Annotated[CallContext, Depends(optional_caller)]

OrgRef = Annotated[str, Path(max_length=63, description="Organization id or name")]
WorkspaceRef = Annotated[str, Path(max_length=63, description="Workspace id or name")]
ProjectRef = Annotated[str, Path(max_length=63, description="Project id or name")]


async def org_dep(request: Request, org: OrgRef, ctx: Caller, session: DbSession) -> Organization:
    organization = await resolve_org(session, ctx.subject, org)
    request.state.audit_org_id = organization.id
    return organization


Org = Annotated[Organization, Depends(org_dep)]


async def workspace_dep(
    workspace: WorkspaceRef, organization: Org, ctx: Caller, session: DbSession, state: State
) -> Workspace:
    """The workspace, brought up to date with its cluster; a terminated one is not found."""
    found = await resolve_workspace(session, ctx.subject, organization, workspace)
    await sync_status(state.cluster, found)
    if found.status == "terminated":
        raise NotFound("workspace not found")
    return found


WorkspaceDep = Annotated[Workspace, Depends(workspace_dep)]


async def project_dep(
    project: ProjectRef,
    organization: Org,
    workspace: WorkspaceDep,
    ctx: Caller,
    session: DbSession,
) -> Project:
    found, _ = await resolve_project(session, ctx.subject, organization, workspace, project)
    return found


ProjectDep = Annotated[Project, Depends(project_dep)]
