"""Request and response models of tenancy objects."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, model_validator

from platform_core.rbac.roles import OrgRole, ProjectRole, WorkspaceRole
from platform_core.tenancy.names import Email, Name, NamespaceName, Quantity

DisplayName = str
WorkspacePlan = Literal["shared", "dedicated"]
WorkspaceStatus = Literal["provisioning", "active", "suspended", "terminating", "terminated"]
OrganizationStatus = Literal["active", "suspended"]


class Schema(BaseModel):
    model_config = ConfigDict(from_attributes=True, extra="forbid")


class OrganizationCreate(Schema):
    name: Name
    display_name: str | None = Field(default=None, max_length=200)


class OrganizationUpdate(Schema):
    display_name: str = Field(min_length=1, max_length=200)


class OrganizationRead(Schema):
    id: uuid.UUID
    name: str
    display_name: str
    status: OrganizationStatus
    role: OrgRole | None = Field(description="The caller's role in the organization")
    created_at: datetime


class MemberRead(Schema):
    user_id: uuid.UUID
    email: str
    name: str
    role: OrgRole
    joined_at: datetime


class MemberUpdate(Schema):
    role: OrgRole


class InvitationCreate(Schema):
    email: Email
    role: OrgRole = "member"


class InvitationRead(Schema):
    id: uuid.UUID
    email: str
    role: OrgRole
    created_at: datetime
    expires_at: datetime
    accepted_at: datetime | None
    revoked_at: datetime | None


class InvitationCreated(InvitationRead):
    token: str = Field(description="Shown once: send it to the invitee")


class InvitationAccept(Schema):
    token: str = Field(min_length=10, max_length=200)
    name: str | None = Field(default=None, min_length=1, max_length=200)
    password: str | None = Field(default=None, min_length=8, max_length=200)


class WorkspaceCreate(Schema):
    name: Name
    display_name: str | None = Field(default=None, max_length=200)
    plan: WorkspacePlan = "shared"


class WorkspaceUpdate(Schema):
    display_name: str | None = Field(default=None, min_length=1, max_length=200)
    status: Literal["active", "suspended"] | None = Field(
        default=None, description="Suspend a workspace or bring a suspended one back"
    )


class WorkspaceRead(Schema):
    id: uuid.UUID
    organization_id: uuid.UUID
    name: str
    display_name: str
    plan: WorkspacePlan
    status: WorkspaceStatus
    status_changed_at: datetime
    created_at: datetime
    updated_at: datetime


class PrincipalRef(Schema):
    """Exactly one of a user (by id or email) or a group (by id or name)."""

    user_id: uuid.UUID | None = None
    email: Email | None = None
    group: str | None = Field(default=None, max_length=63, description="Group id or name")

    @model_validator(mode="after")
    def _exactly_one(self) -> PrincipalRef:
        given = [v for v in (self.user_id, self.email, self.group) if v is not None]
        if len(given) != 1:
            raise ValueError("give exactly one of user_id, email or group")
        return self


class WorkspaceMemberGrant(PrincipalRef):
    role: WorkspaceRole


class ProjectMemberGrant(PrincipalRef):
    role: ProjectRole


class RoleBindingRead(Schema):
    id: uuid.UUID
    user_id: uuid.UUID | None
    email: str | None
    group_id: uuid.UUID | None
    group_name: str | None
    role: str
    created_at: datetime


class Quota(Schema):
    cpu: Quantity | None = None
    memory: Quantity | None = None
    storage: Quantity | None = None
    pods: int | None = Field(default=None, ge=1, le=100_000)


class ProjectCreate(Schema):
    name: NamespaceName
    display_name: str | None = Field(default=None, max_length=200)
    parent: str | None = Field(default=None, max_length=63, description="Parent project id or name")
    quota: Quota = Field(default_factory=Quota)


class ProjectUpdate(Schema):
    display_name: str | None = Field(default=None, min_length=1, max_length=200)
    quota: Quota | None = None


class ProjectRead(Schema):
    id: uuid.UUID
    workspace_id: uuid.UUID
    name: str
    display_name: str
    parent_id: uuid.UUID | None
    quota: Quota
    created_at: datetime
    updated_at: datetime


class GroupCreate(Schema):
    name: Name
    description: str = Field(default="", max_length=500)


class GroupUpdate(Schema):
    description: str = Field(max_length=500)


class GroupRead(Schema):
    id: uuid.UUID
    name: str
    description: str
    member_count: int
    created_at: datetime


class GroupMemberAdd(Schema):
    user_id: uuid.UUID | None = None
    email: Email | None = None

    @model_validator(mode="after")
    def _exactly_one(self) -> GroupMemberAdd:
        if (self.user_id is None) == (self.email is None):
            raise ValueError("give exactly one of user_id or email")
        return self


class UserRead(Schema):
    id: uuid.UUID
    email: str
    name: str
