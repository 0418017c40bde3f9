"""The permission table decides, scope by scope."""

from __future__ import annotations

import uuid

import pytest

from platform_core.errors import Forbidden, NotFound
from platform_core.rbac.authorize import Resource, authorize, require
from platform_core.rbac.permissions import PERMISSIONS
from platform_core.rbac.subject import Grants, ProjectGrant, Subject

ORG, OTHER_ORG = uuid.uuid4(), uuid.uuid4()
WS, OTHER_WS = uuid.uuid4(), uuid.uuid4()
PARENT, CHILD, SIBLING = uuid.uuid4(), uuid.uuid4(), uuid.uuid4()


def subject(
    org_role: str | None = "member",
    ws_role: str | None = None,
    project_roles: dict[uuid.UUID, str] | None = None,
    pinned: uuid.UUID | None = None,
) -> Subject:
    return Subject(
        kind="user",
        id="u",
        grants=Grants(
            orgs={ORG: org_role} if org_role else {},  # type: ignore[dict-item]
            workspaces={WS: ws_role} if ws_role else {},  # type: ignore[dict-item]
            projects={
                pid: ProjectGrant(workspace_id=WS, role=role)  # type: ignore[arg-type]
                for pid, role in (project_roles or {}).items()
            },
            pinned_workspace_id=pinned,
        ),
    )


def ws_resource(ws: uuid.UUID = WS, org: uuid.UUID = ORG, active: bool = True) -> Resource:
    return Resource(
        kind="workspace", organization_id=org, workspace_id=ws, organization_active=active
    )


def project(path: tuple[uuid.UUID, ...]) -> Resource:
    return Resource(kind="project", organization_id=ORG, workspace_id=WS, project_path=path)


def test_org_admins_reach_every_workspace_of_their_org_only() -> None:
    admin = subject("admin")
    assert authorize(admin, "workspace.delete", ws_resource())
    assert authorize(admin, "workload.delete", project((CHILD, PARENT)))
    assert not authorize(admin, "workspace.read", ws_resource(org=OTHER_ORG))
    assert not authorize(admin, "organization.delete", Resource("organization", ORG))


@pytest.mark.parametrize(
    ("ws_role", "action", "allowed"),
    [
        ("viewer", "workspace.read", True),
        ("viewer", "workload.read", True),
        ("viewer", "workload.write", False),
        ("viewer", "project.create", False),
        ("editor", "workload.write", True),
        ("editor", "project.create", True),
        ("editor", "project.delete", False),
        ("editor", "workspace_member.manage", False),
        ("admin", "workspace_member.manage", True),
        ("admin", "workspace.delete", True),
    ],
)
def test_workspace_roles(ws_role: str, action: str, allowed: bool) -> None:
    resource = (
        project((CHILD,)) if action.startswith(("workload", "project.delete")) else ws_resource()
    )
    assert authorize(subject("member", ws_role), action, resource) is allowed


def test_a_workspace_role_does_not_leak_to_another_workspace() -> None:
    assert not authorize(subject("member", "admin"), "workspace.read", ws_resource(OTHER_WS))


def test_project_roles_reach_down_not_sideways_or_up() -> None:
    developer = subject("member", project_roles={PARENT: "developer"})
    assert authorize(developer, "workload.write", project((CHILD, PARENT)))
    assert not authorize(developer, "workload.read", project((SIBLING,)))
    assert authorize(developer, "workspace.read", ws_resource())  # sees where it lives
    assert not authorize(developer, "workspace.update", ws_resource())
    assert not authorize(developer, "project.delete", project((CHILD, PARENT)))


def test_suspended_organization_allows_reads_only() -> None:
    owner = subject("owner")
    assert authorize(owner, "workspace.read", ws_resource(active=False))
    assert not authorize(owner, "workspace.update", ws_resource(active=False))


def test_pinned_subject_stays_in_its_workspace() -> None:
    pinned = subject("owner", pinned=WS)
    assert authorize(pinned, "workspace.update", ws_resource())
    assert not authorize(pinned, "workspace.read", ws_resource(OTHER_WS))
    assert authorize(pinned, "organization.read", Resource("organization", ORG))
    assert not authorize(pinned, "workspace.create", Resource("workspace", ORG))


def test_require_hides_what_cannot_be_seen_and_forbids_what_can() -> None:
    with pytest.raises(NotFound):
        require(subject("member"), "workspace.update", ws_resource(), read_action="workspace.read")
    with pytest.raises(Forbidden):
        require(
            subject("member", "viewer"),
            "workspace.update",
            ws_resource(),
            read_action="workspace.read",
        )
    with pytest.raises(NotFound):
        require(
            subject(None),
            "organization.read",
            Resource("organization", ORG),
            read_action="organization.read",
        )


def test_unknown_actions_are_a_programming_error() -> None:
    with pytest.raises(ValueError, match="permission table"):
        authorize(subject("owner"), "workspace.teleport", ws_resource())


def test_every_mutating_action_is_denied_to_a_workspace_viewer() -> None:
    viewer = subject("member", "viewer", {CHILD: "viewer"})
    for action, rule in PERMISSIONS.items():
        if rule.mutates:
            assert not authorize(viewer, action, project((CHILD,))), action
            assert not authorize(viewer, action, ws_resource()), action
