"""``/api/v1/organizations/{org}/groups``: groups and their members."""

from __future__ import annotations

import uuid
from typing import Annotated

from fastapi import APIRouter, Depends, Path, Response, status

from aiops.http.deps import Caller, DbSession, Org
from platform_core.tenancy import groups as service
from platform_core.tenancy.models import Group
from platform_core.tenancy.repository import resolve_group
from platform_core.tenancy.schemas import (
    GroupCreate,
    GroupMemberAdd,
    GroupRead,
    GroupUpdate,
    UserRead,
)

router = APIRouter(prefix="/api/v1/organizations/{org}/groups", tags=["groups"])


async def group_dep(
    group: Annotated[str, Path(max_length=63, description="Group id or name")],
    org: Org,
    session: DbSession,
) -> Group:
    return await resolve_group(session, org, group)


GroupDep = Annotated[Group, Depends(group_dep)]


async def _read(session: DbSession, group: Group) -> GroupRead:
    return (await service.to_reads(session, [group]))[0]


@router.get("", name="group.list", operation_id="listGroups")
async def list_groups(org: Org, ctx: Caller, session: DbSession) -> list[GroupRead]:
    return await service.list_groups(session, ctx, org)


@router.post(
    "", name="group.create", operation_id="createGroup", status_code=status.HTTP_201_CREATED
)
async def create_group(org: Org, body: GroupCreate, ctx: Caller, session: DbSession) -> GroupRead:
    return await _read(session, await service.create_group(session, ctx, org, body))


@router.get("/{group}", name="group.get", operation_id="getGroup")
async def get_group(org: Org, group: GroupDep, ctx: Caller, session: DbSession) -> GroupRead:
    return await _read(session, group)


@router.patch("/{group}", name="group.update", operation_id="updateGroup")
async def update_group(
    org: Org, group: GroupDep, body: GroupUpdate, ctx: Caller, session: DbSession
) -> GroupRead:
    return await _read(session, await service.update_group(session, ctx, org, group, body))


@router.delete(
    "/{group}",
    name="group.delete",
    operation_id="deleteGroup",
    status_code=status.HTTP_204_NO_CONTENT,
)
async def delete_group(org: Org, group: GroupDep, ctx: Caller, session: DbSession) -> Response:
    await service.delete_group(session, ctx, org, group)
    return Response(status_code=status.HTTP_204_NO_CONTENT)


@router.get("/{group}/members", name="group_member.list", operation_id="listGroupMembers")
async def list_members(
    org: Org, group: GroupDep, ctx: Caller, session: DbSession
) -> list[UserRead]:
    return await service.list_group_members(session, ctx, org, group)


@router.post(
    "/{group}/members",
    name="group_member.add",
    operation_id="addGroupMember",
    status_code=status.HTTP_201_CREATED,
)
async def add_member(
    org: Org, group: GroupDep, body: GroupMemberAdd, ctx: Caller, session: DbSession
) -> UserRead:
    return UserRead.model_validate(await service.add_group_member(session, ctx, org, group, body))


@router.delete(
    "/{group}/members/{user_id}",
    name="group_member.remove",
    operation_id="removeGroupMember",
    status_code=status.HTTP_204_NO_CONTENT,
)
async def remove_member(
    org: Org, group: GroupDep, user_id: uuid.UUID, ctx: Caller, session: DbSession
) -> Response:
    await service.remove_group_member(session, ctx, org, group, user_id)
    return Response(status_code=status.HTTP_204_NO_CONTENT)
