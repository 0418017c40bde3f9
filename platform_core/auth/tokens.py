"""Signed JWTs: access tokens for people, short-lived service tokens for the agent.

Access tokens carry only the user (``sub``), the login session (``sid``, the refresh-token
family) and a ``jti``; roles are read from the database on each request so a removed member
loses access at once. Service tokens are minted for the agent to call platform operations on a
user's behalf: they live seconds, are pinned to one organization (and optionally one
workspace), and carry role caps that can only narrow what the user holds.
"""

from __future__ import annotations

import time
import uuid
from dataclasses import dataclass
from typing import Any, Literal

import jwt

from platform_core.auth.keys import ALGORITHM, KeyRing
from platform_core.config import Settings
from platform_core.errors import Unauthenticated

TokenType = Literal["access", "service"]
REQUIRED_CLAIMS = ["exp", "iat", "sub", "jti", "typ", "iss", "aud"]


@dataclass(frozen=True)
class IssuedToken:
    token: str
    jti: str
    expires_at: int


@dataclass(frozen=True)
class ServiceScope:
    """What a service token is pinned to, and the strongest roles it may exercise."""

    organization_id: uuid.UUID
    org_role: str
    workspace_id: uuid.UUID | None = None
    workspace_role: str | None = None


class TokenIssuer:
    def __init__(self, settings: Settings, keys: KeyRing) -> None:
        self._settings = settings
        self._keys = keys
        self._service_audience = f"{settings.jwt_audience}:internal"

    def _sign(self, claims: dict[str, Any], ttl: int) -> IssuedToken:
        now = int(time.time())
        jti = uuid.uuid4().hex
        payload = {
            "iss": self._settings.jwt_issuer,
            "iat": now,
            "nbf": now,
            "exp": now + ttl,
            "jti": jti,
            **claims,
        }
        token = jwt.encode(
            payload, self._keys.private_key, algorithm=ALGORITHM, headers={"kid": self._keys.kid}
        )
        return IssuedToken(token=token, jti=jti, expires_at=now + ttl)

    def access_token(self, user_id: uuid.UUID, session_id: uuid.UUID) -> IssuedToken:
        return self._sign(
            {
                "sub": str(user_id),
                "sid": str(session_id),
                "typ": "access",
                "aud": self._settings.jwt_audience,
            },
            self._settings.access_token_ttl_seconds,
        )

    def service_token(
        self, user_id: uuid.UUID, scope: ServiceScope, *, ttl: int | None = None
    ) -> IssuedToken:
        claims: dict[str, Any] = {
            "sub": str(user_id),
            "typ": "service",
            "aud": self._service_audience,
            "org": str(scope.organization_id),
            "org_role": scope.org_role,
        }
        if scope.workspace_id is not None:
            claims["ws"] = str(scope.workspace_id)
            claims["ws_role"] = scope.workspace_role
        lifetime = min(ttl or self._settings.service_token_ttl_seconds, 900)
        return self._sign(claims, lifetime)

    def decode(self, token: str) -> dict[str, Any]:
        """Verify signature, issuer, audience and lifetime; return the claims."""
        try:
            header = jwt.get_unverified_header(token)
        except jwt.InvalidTokenError:
            raise Unauthenticated("the token is malformed") from None
        key = self._keys.public_keys.get(str(header.get("kid")))
        if key is None or header.get("alg") != ALGORITHM:
            raise Unauthenticated("the token was not signed by a known key")
        try:
            claims: dict[str, Any] = jwt.decode(
                token,
                key,
                algorithms=[ALGORITHM],
                audience=[self._settings.jwt_audience, self._service_audience],
                issuer=self._settings.jwt_issuer,
                options={"require": REQUIRED_CLAIMS},
                leeway=5,
            )
        except jwt.ExpiredSignatureError:
            raise Unauthenticated("the token has expired") from None
        except jwt.InvalidTokenError as error:
            raise Unauthenticated(f"the token is invalid: {error}") from None
        expected_audience = (
            self._service_audience if claims["typ"] == "service" else self._settings.jwt_audience
        )
        if claims["typ"] not in ("access", "service") or claims["aud"] != expected_audience:
            raise Unauthenticated("the token is not an access or service token")
        return claims
