"""``aiops admin``: operator commands for tenants, users, tokens and API keys.

These act directly on the database as the platform operator (audited as ``cli-operator``); they
are for setting up and repairing tenants, not a way around the REST API's rules.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from typing import TypeVar

import typer
from sqlalchemy import select

from aiops.cli.runtime import CliRuntime, cli_runtime, seed_everything
from platform_core.audit.service import record
from platform_core.billing.models import Plan, Subscription
from platform_core.config import get_settings
from platform_core.errors import DomainError, NotFound
from platform_core.tenancy.models import Organization, User
from platform_core.tenancy.organizations import add_member, create_organization
from platform_core.tenancy.repository import find_workspace, user_by_email
from platform_core.tenancy.schemas import OrganizationCreate
from platform_core.tenancy.users import create_user

admin_app = typer.Typer(
    help="Operator commands (act directly on the database).", no_args_is_help=True
)
T = TypeVar("T")


def _run(action: Callable[[CliRuntime], Awaitable[T]]) -> T:
    async def main() -> T:
        async with cli_runtime() as rt:
            return await action(rt)

    try:
        return asyncio.run(main())
    except DomainError as error:
        typer.secho(f"error: {error.message}", fg=typer.colors.RED, err=True)
        raise typer.Exit(code=1) from None


async def _org(rt: CliRuntime, name: str) -> Organization:
    org = await rt.session.scalar(select(Organization).where(Organization.name == name))
    if org is None:
        raise NotFound(f"no organization named {name!r}")
    return org


async def _user(rt: CliRuntime, email: str) -> User:
    user = await user_by_email(rt.session, email)
    if user is None:
        raise NotFound(f"no user with email {email!r}")
    return user


@admin_app.command("create-user")
def create_user_command(
    email: str,
    name: str = typer.Option("", help="Display name (default: the email)"),
    password: str = typer.Option(
        ..., prompt=True, hide_input=True, confirmation_prompt=True, help="Sign-in password"
    ),
) -> None:
    """Create a user who can sign in with a password."""

    async def action(rt: CliRuntime) -> User:
        return await create_user(
            rt.session, rt.state.auth.passwords, email=email, name=name, password=password
        )

    user = _run(action)
    typer.echo(f"user {user.email} ({user.id})")


@admin_app.command("create-org")
def create_org_command(
    name: str,
    owner: str = typer.Option(..., help="Email of the existing user who will own it"),
    plan: str = typer.Option("free", help="Plan id: free, team or enterprise"),
) -> None:
    """Create an organization owned by an existing user."""

    async def action(rt: CliRuntime) -> Organization:
        user = await _user(rt, owner)
        return await create_organization(
            rt.session, rt.context(), OrganizationCreate(name=name), owner=user, plan_id=plan
        )

    org = _run(action)
    typer.echo(f"organization {org.name} ({org.id})")


@admin_app.command("add-member")
def add_member_command(
    org: str,
    email: str,
    role: str = typer.Option("member", help="owner, admin or member"),
) -> None:
    """Add an existing user to an organization."""
    org_role = _choice(role, ("owner", "admin", "member"))

    async def action(rt: CliRuntime) -> None:
        organization, user = await _org(rt, org), await _user(rt, email)
        await add_member(rt.session, organization, user, org_role)  # type: ignore[arg-type]
        record(
            rt.session,
            rt.context(),
            action="member.add",
            organization_id=organization.id,
            target_type="user",
            target_id=user.id,
            details={"role": role},
        )

    _run(action)
    typer.echo(f"{email} is now {role} of {org}")


@admin_app.command("issue-token")
def issue_token_command(email: str) -> None:
    """Sign a user in and print an access token (15 min) and a refresh token."""

    async def action(rt: CliRuntime) -> tuple[str, str]:
        user = await _user(rt, email)
        pair = await rt.state.auth.open_session(rt.session, user.id)
        return pair.access_token, pair.refresh_token

    access, refresh = _run(action)
    typer.echo(f"token: {access}")
    typer.echo(f"refresh_token: {refresh}")


@admin_app.command("create-api-key")
def create_api_key_command(
    org: str,
    name: str = typer.Option(..., help="What the key is for"),
    role: str = typer.Option("member", help="admin or member"),
    workspace: str | None = typer.Option(None, help="Workspace a member key may use"),
    workspace_role: str | None = typer.Option(None, help="admin, editor or viewer"),
) -> None:
    """Create an API key for a bot or service; the key is printed once."""
    key_role = _choice(role, ("admin", "member"))
    ws_role = _choice(workspace_role, ("admin", "editor", "viewer")) if workspace_role else None
    if (workspace is None) != (ws_role is None):
        raise typer.BadParameter("--workspace and --workspace-role go together")

    async def action(rt: CliRuntime) -> str:
        organization = await _org(rt, org)
        ws = await find_workspace(rt.session, organization, workspace) if workspace else None
        if workspace and ws is None:
            raise NotFound(f"no workspace {workspace!r} in {org}")
        created = await rt.state.auth.api_keys.create(
            rt.session,
            organization_id=organization.id,
            name=name,
            role=key_role,  # type: ignore[arg-type]
            created_by=None,
            workspace_id=ws.id if ws else None,
            workspace_role=ws_role,  # type: ignore[arg-type]
        )
        record(
            rt.session,
            rt.context(),
            action="api_key.create",
            organization_id=organization.id,
            target_type="api_key",
            target_id=created.row.id,
            details={"name": name},
        )
        return created.key

    typer.echo(f"api_key: {_run(action)}")


@admin_app.command("set-org-status")
def set_org_status_command(org: str, status: str) -> None:
    """Suspend an organization (reads only) or make it active again."""
    chosen = _choice(status, ("active", "suspended"))

    async def action(rt: CliRuntime) -> None:
        organization = await _org(rt, org)
        organization.status = chosen
        record(
            rt.session,
            rt.context(),
            action="organization.status",
            organization_id=organization.id,
            target_type="organization",
            target_id=organization.id,
            details={"status": chosen},
        )

    _run(action)
    typer.echo(f"{org} is {chosen}")


@admin_app.command("set-plan")
def set_plan_command(org: str, plan: str) -> None:
    """Move an organization to another plan."""

    async def action(rt: CliRuntime) -> None:
        organization = await _org(rt, org)
        if await rt.session.get(Plan, plan) is None:
            raise NotFound(f"no plan {plan!r}")
        subscription = await rt.session.scalar(
            select(Subscription).where(Subscription.organization_id == organization.id)
        )
        if subscription is None:
            raise NotFound(f"{org} has no subscription")
        subscription.plan_id = plan
        record(
            rt.session,
            rt.context(),
            action="billing.plan",
            organization_id=organization.id,
            target_type="subscription",
            target_id=subscription.id,
            details={"plan": plan},
        )

    _run(action)
    typer.echo(f"{org} is on {plan}")


@admin_app.command("seed-demo")
def seed_demo_command() -> None:
    """Create the demo tenant if it is missing (idempotent)."""

    try:
        demo = asyncio.run(seed_everything(get_settings()))
    except DomainError as error:
        typer.secho(f"error: {error.message}", fg=typer.colors.RED, err=True)
        raise typer.Exit(code=1) from None
    typer.echo("demo tenant created" if demo.created else "demo tenant already present")


def _choice(value: str, allowed: tuple[str, ...]) -> str:
    if value not in allowed:
        raise typer.BadParameter(f"choose one of: {', '.join(allowed)}")
    return value
