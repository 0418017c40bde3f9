"""``/api/v1/auth``: sign in, refresh, log out, who am I, and the public keys."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request, Response, status
from sqlalchemy import select

from aiops.http.deps import Caller, DbSession, State
from platform_core.audit.service import record
from platform_core.auth.schemas import (
    LoginRequest,
    LogoutRequest,
    MembershipSummary,
    MeResponse,
    RefreshRequest,
    TokenResponse,
)
from platform_core.auth.service import TokenPair
from platform_core.context import CallContext
from platform_core.rbac.subject import ANONYMOUS
from platform_core.tenancy.models import Organization

router = APIRouter(prefix="/api/v1/auth", tags=["auth"])


def _tokens(pair: TokenPair) -> TokenResponse:
    return TokenResponse(
        access_token=pair.access_token, refresh_token=pair.refresh_token, expires_in=pair.expires_in
    )


def _anonymous(request: Request) -> CallContext:
    ctx = CallContext(
        subject=ANONYMOUS,
        request_id=getattr(request.state, "request_id", None),
        client_ip=getattr(request.state, "client_ip", None),
    )
    request.state.ctx = ctx
    return ctx


@router.post("/token", name="auth.login", operation_id="login")
async def login(
    request: Request, body: LoginRequest, state: State, session: DbSession
) -> TokenResponse:
    """Sign in with email and password; returns an access and a refresh token."""
    ctx = _anonymous(request)
    pair = await state.auth.login(
        session, email=str(body.email), password=body.password, client_ip=ctx.client_ip
    )
    record(
        session,
        ctx,
        action="auth.login",
        organization_id=None,
        target_type="user",
        details={"email": str(body.email).lower()},
    )
    return _tokens(pair)


@router.post("/refresh", name="auth.refresh", operation_id="refreshToken")
async def refresh(
    request: Request, body: RefreshRequest, state: State, session: DbSession
) -> TokenResponse:
    """Exchange a refresh token for a new pair; the old refresh token stops working."""
    ctx = _anonymous(request)
    pair = await state.auth.refresh(session, body.refresh_token)
    record(session, ctx, action="auth.refresh", organization_id=None, target_type="session")
    return _tokens(pair)


@router.post(
    "/logout",
    name="auth.logout",
    operation_id="logout",
    status_code=status.HTTP_204_NO_CONTENT,
)
async def logout(
    ctx: Caller, state: State, session: DbSession, body: LogoutRequest | None = None
) -> Response:
    """Revoke this login session: its refresh tokens and the access token used here."""
    await state.auth.logout(session, ctx.subject, body.refresh_token if body else None)
    record(
        session,
        ctx,
        action="auth.logout",
        organization_id=None,
        target_type="session",
        target_id=ctx.subject.session_id,
    )
    return Response(status_code=status.HTTP_204_NO_CONTENT)


@router.get("/me", name="auth.me", operation_id="getMe")
async def me(ctx: Caller, session: DbSession) -> MeResponse:
    """The caller and the organizations it belongs to, with its role in each."""
    roles = ctx.subject.grants.orgs
    orgs = await session.scalars(select(Organization).where(Organization.id.in_(roles)))
    return MeResponse(
        kind=ctx.subject.kind,
        id=ctx.subject.id,
        email=ctx.subject.email,
        name=ctx.subject.name,
        organizations=[
            MembershipSummary(organization_id=o.id, organization=o.name, role=roles[o.id])
            for o in sorted(orgs, key=lambda o: o.name)
        ],
    )


@router.get("/jwks", name="auth.jwks", operation_id="getJwks")
async def jwks(state: State) -> dict[str, Any]:
    """The public keys that verify access tokens (JWKS)."""
    return state.auth.keys.jwks()
