"""Request and response models for sign-in, tokens and API keys."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, model_validator

from platform_core.rbac.roles import OrgRole, WorkspaceRole
from platform_core.tenancy.names import Email


class AuthSchema(BaseModel):
    model_config = ConfigDict(from_attributes=True, extra="forbid")


class LoginRequest(AuthSchema):
    email: Email
    password: str = Field(min_length=1, max_length=200)


class RefreshRequest(AuthSchema):
    refresh_token: str = Field(min_length=10, max_length=200)


class LogoutRequest(AuthSchema):
    refresh_token: str | None = Field(default=None, min_length=10, max_length=200)


class TokenResponse(AuthSchema):
    access_token: str
    refresh_token: str
    token_type: Literal["bearer"] = "bearer"  # noqa: S105 - the OAuth token type
    expires_in: int = Field(description="Seconds until the access token expires")


class MembershipSummary(AuthSchema):
    organization_id: uuid.UUID
    organization: str
    role: OrgRole


class MeResponse(AuthSchema):
    kind: Literal["user", "api_key", "service"]
    id: str
    email: str | None
    name: str | None
    organizations: list[MembershipSummary]


class ApiKeyCreate(AuthSchema):
    name: str = Field(min_length=1, max_length=100)
    role: Literal["admin", "member"] = "member"
    workspace: str | None = Field(
        default=None, max_length=63, description="Workspace id or name for a member key"
    )
    workspace_role: WorkspaceRole | None = None
    expires_in_days: int | None = Field(default=None, ge=1, le=3650)

    @model_validator(mode="after")
    def _workspace_grant_complete(self) -> ApiKeyCreate:
        if (self.workspace is None) != (self.workspace_role is None):
            raise ValueError("workspace and workspace_role go together")
        if self.workspace is not None and self.role == "admin":
            raise ValueError("an admin key already reaches every workspace; drop workspace")
        return self


class ApiKeyRead(AuthSchema):
    id: uuid.UUID
    name: str
    prefix: str
    role: Literal["admin", "member"]
    workspace_id: uuid.UUID | None
    workspace_role: WorkspaceRole | None
    created_at: datetime
    expires_at: datetime | None
    last_used_at: datetime | None
    revoked_at: datetime | None


class ApiKeyCreated(ApiKeyRead):
    key: str = Field(description="Shown once; store it now")
