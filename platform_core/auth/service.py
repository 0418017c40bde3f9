"""Sign-in, token refresh, logout, and turning a credential into a Subject."""

from __future__ import annotations

import hashlib
import uuid
from dataclasses import dataclass, replace
from typing import Any

from redis.asyncio import Redis
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from platform_core.auth.api_keys import ApiKeys, looks_like_api_key
from platform_core.auth.grants import load_user_grants
from platform_core.auth.keys import KeyRing
from platform_core.auth.models import RefreshToken
from platform_core.auth.passwords import Passwords
from platform_core.auth.ratelimit import RateLimiter
from platform_core.auth.refresh import RefreshTokens
from platform_core.auth.revocation import Revocations
from platform_core.auth.tokens import IssuedToken, ServiceScope, TokenIssuer
from platform_core.config import Settings
from platform_core.db.base import utcnow
from platform_core.errors import NotFound, RateLimited, Unauthenticated
from platform_core.kv import KeySpace
from platform_core.rbac.roles import ORG_ROLES, WORKSPACE_ROLES, at_most
from platform_core.rbac.subject import Grants, Subject
from platform_core.tenancy.models import User


@dataclass(frozen=True)
class TokenPair:
    access_token: str
    refresh_token: str
    expires_in: int
    token_type: str = "bearer"  # noqa: S105 - the OAuth token type, not a secret


class AuthService:
    """Everything about credentials; one per process, stateless between calls."""

    def __init__(self, settings: Settings, keys: KeyRing, redis: Redis, keyspace: KeySpace):
        self.settings = settings
        self.keys = keys
        secret = settings.secret_key.get_secret_value()
        self.passwords = Passwords(settings)
        self.tokens = TokenIssuer(settings, keys)
        self.refresh_tokens = RefreshTokens(
            secret_key=secret, ttl_seconds=settings.refresh_token_ttl_seconds
        )
        self.api_keys = ApiKeys(secret_key=secret)
        self.revocations = Revocations(
            redis, keyspace, access_ttl=settings.access_token_ttl_seconds
        )
        self.limiter = RateLimiter(redis, keyspace)

    async def _limit_login(self, email: str, client_ip: str | None) -> None:
        if not self.settings.rate_limit_enabled:
            return
        limit = self.settings.rate_limit_login_per_minute
        email_bucket = hashlib.sha256(email.encode()).hexdigest()[:32]
        for bucket in (f"login-ip:{client_ip or 'unknown'}", f"login-email:{email_bucket}"):
            decision = await self.limiter.hit(bucket, limit=limit)
            if not decision.allowed:
                raise RateLimited(
                    "too many sign-in attempts; wait before trying again",
                    retry_after=decision.retry_after_seconds,
                )

    async def login(
        self, session: AsyncSession, *, email: str, password: str, client_ip: str | None
    ) -> TokenPair:
        email = email.strip().lower()
        await self._limit_login(email, client_ip)
        user = await session.scalar(select(User).where(func.lower(User.email) == email))
        valid = self.passwords.verify(user.password_hash if user else None, password)
        if user is None or not valid or not user.is_active:
            raise Unauthenticated("wrong email or password")
        if user.password_hash and self.passwords.needs_rehash(user.password_hash):
            user.password_hash = self.passwords.hash(password)
        user.last_login_at = utcnow()
        return await self.open_session(session, user.id)

    async def open_session(self, session: AsyncSession, user_id: uuid.UUID) -> TokenPair:
        """Start a login session (a refresh-token family) for a user."""
        rotation = await self.refresh_tokens.issue(session, user_id)
        access = self.tokens.access_token(user_id, rotation.family_id)
        return self._pair(access, rotation.token)

    def _pair(self, access: IssuedToken, refresh_token: str) -> TokenPair:
        return TokenPair(
            access_token=access.token,
            refresh_token=refresh_token,
            expires_in=self.settings.access_token_ttl_seconds,
        )

    async def refresh(self, session: AsyncSession, refresh_token: str) -> TokenPair:
        result = await self.refresh_tokens.rotate(session, refresh_token)
        if isinstance(result, RefreshToken):
            # Reuse of a rotated token: revoke the family and keep that revocation even though
            # the request fails, so this commit is deliberate.
            await self.revoke_session(session, result.family_id)
            await session.commit()
            raise Unauthenticated(
                "this refresh token was already used: the login session has been revoked "
                "for safety; sign in again"
            )
        user = await session.get(User, result.user_id)
        if user is None or not user.is_active:
            raise Unauthenticated("the account is disabled")
        return self._pair(self.tokens.access_token(result.user_id, result.family_id), result.token)

    async def revoke_session(self, session: AsyncSession, family_id: uuid.UUID) -> None:
        await self.refresh_tokens.revoke_family(session, family_id)
        await self.revocations.revoke_session(str(family_id))

    async def logout(
        self, session: AsyncSession, subject: Subject, refresh_token: str | None = None
    ) -> None:
        """Revoke the caller's login session and the access token used for this call."""
        families: set[uuid.UUID] = set()
        if subject.session_id:
            families.add(uuid.UUID(subject.session_id))
        if refresh_token:
            row = await self.refresh_tokens.family_of(session, refresh_token)
            if row is not None and row.user_id == subject.user_id:
                families.add(row.family_id)
        for family in families:
            await self.revoke_session(session, family)
        if subject.token_id and subject.token_expires_at:
            remaining = subject.token_expires_at - int(utcnow().timestamp())
            await self.revocations.revoke_token(subject.token_id, ttl=remaining)

    async def authenticate(self, session: AsyncSession, credential: str) -> Subject:
        """The subject behind a bearer token or API key, with its current roles."""
        if looks_like_api_key(credential):
            return await self.api_keys.authenticate(session, credential)
        claims = self.tokens.decode(credential)
        if await self.revocations.is_revoked(jti=claims["jti"], session_id=claims.get("sid")):
            raise Unauthenticated("the token has been revoked")
        user = await self._active_user(session, claims["sub"])
        grants = await load_user_grants(session, user.id)
        if claims["typ"] == "service":
            grants = _cap_service_grants(grants, claims)
        return Subject(
            kind="service" if claims["typ"] == "service" else "user",
            id=str(user.id),
            grants=grants,
            user_id=user.id,
            email=user.email,
            name=user.name,
            session_id=claims.get("sid"),
            token_id=claims["jti"],
            token_expires_at=int(claims["exp"]),
        )

    async def _active_user(self, session: AsyncSession, sub: str) -> User:
        try:
            user_id = uuid.UUID(sub)
        except ValueError:
            raise Unauthenticated("the token's subject is invalid") from None
        user = await session.get(User, user_id)
        if user is None or not user.is_active:
            raise Unauthenticated("the account no longer exists or is disabled")
        return user

    def service_token(
        self,
        subject: Subject,
        organization_id: uuid.UUID,
        workspace_id: uuid.UUID | None = None,
        *,
        ttl: int | None = None,
    ) -> IssuedToken:
        """A seconds-lived token for the agent to act as ``subject`` in one org (workspace)."""
        if subject.user_id is None:
            raise Unauthenticated("only a user can delegate to the agent")
        org_role = subject.grants.orgs.get(organization_id)
        if org_role is None:
            raise NotFound("organization not found")
        ws_role = subject.grants.workspaces.get(workspace_id) if workspace_id else None
        scope = ServiceScope(
            organization_id=organization_id,
            org_role=org_role,
            workspace_id=workspace_id,
            workspace_role=ws_role,
        )
        return self.tokens.service_token(subject.user_id, scope, ttl=ttl)


def _cap_service_grants(grants: Grants, claims: dict[str, Any]) -> Grants:
    """Keep only the pinned organization (and workspace), never above the carried roles.

    Workspace and project grants elsewhere may stay: ``authorize`` refuses anything in an
    organization the subject holds no role in, and only the pinned one remains.
    """
    org_id = uuid.UUID(claims["org"])
    current = grants.orgs.get(org_id)
    if current is None:
        return Grants()
    orgs = {org_id: at_most(current, claims["org_role"], ORG_ROLES)}
    if "ws" not in claims:
        return replace(grants, orgs=orgs)
    ws_id = uuid.UUID(claims["ws"])
    workspaces = {}
    if ws_id in grants.workspaces and claims.get("ws_role"):
        workspaces[ws_id] = at_most(grants.workspaces[ws_id], claims["ws_role"], WORKSPACE_ROLES)
    projects = {pid: g for pid, g in grants.projects.items() if g.workspace_id == ws_id}
    return Grants(orgs=orgs, workspaces=workspaces, projects=projects, pinned_workspace_id=ws_id)
