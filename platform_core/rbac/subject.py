"""Who is calling: a user, an API key, or the agent acting with a user's service token."""

from __future__ import annotations

import uuid
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Literal

from platform_core.rbac.roles import OrgRole, ProjectRole, WorkspaceRole

SubjectKind = Literal["user", "api_key", "service"]


@dataclass(frozen=True)
class ProjectGrant:
    workspace_id: uuid.UUID
    role: ProjectRole


@dataclass(frozen=True)
class Grants:
    """Every role the subject holds, keyed by the object it is held on."""

    orgs: Mapping[uuid.UUID, OrgRole] = field(default_factory=dict)
    workspaces: Mapping[uuid.UUID, WorkspaceRole] = field(default_factory=dict)
    projects: Mapping[uuid.UUID, ProjectGrant] = field(default_factory=dict)
    # Set for a service token pinned to one workspace: nothing outside it may be touched, and
    # above it only reads are allowed.
    pinned_workspace_id: uuid.UUID | None = None


@dataclass(frozen=True)
class Subject:
    """The authenticated caller and everything it may hold.

    ``user_id`` is set for users and for service tokens (the user the agent acts for); API keys
    act for themselves. ``session_id`` is the refresh-token family of a user's login (logout
    revokes it); ``token_id`` is the access token's ``jti``.
    """

    kind: SubjectKind
    id: str
    grants: Grants
    user_id: uuid.UUID | None = None
    email: str | None = None
    name: str | None = None
    session_id: str | None = None
    token_id: str | None = None
    token_expires_at: int | None = None

    @property
    def display(self) -> str:
        return self.email or f"{self.kind}:{self.id}"


ANONYMOUS = Subject(kind="user", id="anonymous", grants=Grants())
