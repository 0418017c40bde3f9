"""``aiops chat``: talk to the agent from a terminal.

It talks to the running service when one answers at ``AIOPS_PUBLIC_URL`` (or ``--url``), so the
service's cluster sees the change; otherwise it runs the agent in-process against the same
database and twin state. It acts as the demo admin unless ``--token`` names someone else.
"""

from __future__ import annotations

import asyncio
import sys
from collections.abc import AsyncIterator, Iterable
from typing import Any

import httpx
import typer
from pydantic import TypeAdapter

from agents.events import AgentEvent
from agents.runtime import TurnRequest
from aiops.cli.runtime import cli_runtime
from aiops.state import AppState
from platform_core.config import Settings, get_settings
from platform_core.context import CallContext
from platform_core.errors import DomainError, NotFound
from platform_core.tenancy.repository import resolve_org, user_by_email

EVENTS: TypeAdapter[AgentEvent] = TypeAdapter(AgentEvent)
DEMO_ADMIN = "admin@demo.local"


def render(event: AgentEvent, *, as_json: bool) -> None:
    """One event, for a person or (``as_json``) as a JSON line."""
    if as_json:
        typer.echo(event.model_dump_json())
        return
    if event.type == "session":
        typer.secho(
            f"[{event.organization} · {event.provider}:{event.model} · cluster: {event.cluster}"
            f"{' · read-only' if event.read_only else ''}]",
            fg=typer.colors.BRIGHT_BLACK,
        )
    elif event.type == "tool_call":
        args = ", ".join(f"{k}={v}" for k, v in event.arguments.items())
        typer.secho(f"→ {event.tool}({args})", fg=typer.colors.CYAN)
    elif event.type == "tool_result":
        first = event.summary.splitlines()[0] if event.summary else ""
        colour = typer.colors.RED if event.status == "error" else typer.colors.BRIGHT_BLACK
        typer.secho(f"  {event.status}: {first}", fg=colour)
    elif event.type == "approval_required":
        who = "an admin must approve" if event.approver == "admin" else "confirm to proceed"
        typer.secho(f"⏸ approval needed ({who}): {event.description}", fg=typer.colors.YELLOW)
        typer.echo(f"  approval id: {event.approval_id} (expires {event.expires_at:%H:%M} UTC)")
    elif event.type == "final":
        typer.echo(event.text)
    elif event.type == "error":
        typer.secho(f"error ({event.code}): {event.message}", fg=typer.colors.RED, err=True)


class Client:
    """The agent as the running service offers it over HTTP."""

    def __init__(self, base_url: str, token: str) -> None:
        self.http = httpx.Client(
            base_url=base_url, headers={"Authorization": f"Bearer {token}"}, timeout=300
        )

    def _events(self, response: httpx.Response) -> list[AgentEvent]:
        if response.status_code >= 400:
            error = response.json().get("error", {})
            raise typer.BadParameter(f"{error.get('code')}: {error.get('message')}")
        return [EVENTS.validate_python(e) for e in response.json()["events"]]

    def open(self, organization: str, workspace: str | None, read_only: bool) -> str:
        response = self.http.post(
            "/api/v1/chat/sessions",
            json={"organization": organization, "workspace": workspace, "read_only": read_only},
        )
        if response.status_code >= 400:
            raise typer.BadParameter(response.json()["error"]["message"])
        return str(response.json()["id"])

    def send(self, session_id: str, message: str) -> list[AgentEvent]:
        return self._events(
            self.http.post(
                f"/api/v1/chat/sessions/{session_id}/messages", json={"content": message}
            )
        )

    def decide(self, approval_id: str, approve: bool) -> list[AgentEvent]:
        verb = "approve" if approve else "deny"
        return self._events(self.http.post(f"/api/v1/chat/approvals/{approval_id}/{verb}"))


def service_answers(url: str) -> bool:
    try:
        return httpx.get(f"{url.rstrip('/')}/healthz", timeout=1.0).status_code == 200
    except httpx.HTTPError:
        return False


async def _demo_token(settings: Settings) -> str:
    async with cli_runtime(settings) as rt:
        user = await user_by_email(rt.session, DEMO_ADMIN)
        if user is None:
            raise typer.BadParameter("no demo admin: run `make run` once, or pass --token")
        return (await rt.state.auth.open_session(rt.session, user.id)).access_token


def _finish(events: Iterable[AgentEvent], as_json: bool) -> AgentEvent | None:
    last = None
    for event in events:
        render(event, as_json=as_json)
        last = event
    return last


def over_http(
    url: str, token: str, message: str | None, options: dict[str, Any]
) -> AgentEvent | None:
    client = Client(url, token)
    if options["decide"] is not None:
        approval_id, approve = options["decide"]
        return _finish(client.decide(approval_id, approve), options["as_json"])
    session_id = options["session"] or client.open(
        options["organization"], options["workspace"], options["read_only"]
    )
    last = _finish(client.send(session_id, message or ""), options["as_json"])
    while last is not None and last.type == "approval_required" and options["yes"]:
        last = _finish(client.decide(last.approval_id, True), options["as_json"])
    return last


async def in_process(
    settings: Settings, token: str | None, message: str | None, options: dict[str, Any]
) -> AgentEvent | None:
    state = AppState.build(settings)
    await state.start()
    try:
        async with state.db.session() as session:
            if token:
                subject = await state.auth.authenticate(session, token)
            else:
                user = await user_by_email(session, DEMO_ADMIN)
                if user is None:
                    raise typer.BadParameter("no demo admin: run `make run` once, or pass --token")
                pair = await state.auth.open_session(session, user.id)
                subject = await state.auth.authenticate(session, pair.access_token)
            await session.commit()
        call = CallContext(subject=subject, request_id="cli")
        if options["decide"] is not None:
            approval_id, approve = options["decide"]
            approval = await state.runtime.approvals.find(approval_id)
            if approval is None:
                raise NotFound("approval not found")
            org = await _organization(state, subject, approval.organization_id)
            events = await state.runtime.decide(
                call=call, organization=org, approval_id=approval_id, approve=approve
            )
            return await _print_all(events, options["as_json"])
        org = await _organization(state, subject, options["organization"])
        request = TurnRequest(
            call=call,
            organization=org,
            message=message or "",
            session_id=options["session"],
            workspace=options["workspace"],
            read_only=options["read_only"],
        )
        last = await _print_all(await state.runtime.chat(request), options["as_json"])
        while last is not None and last.type == "approval_required" and options["yes"]:
            events = await state.runtime.decide(
                call=call, organization=org, approval_id=last.approval_id, approve=True
            )
            last = await _print_all(events, options["as_json"])
        return last
    finally:
        await state.close()


async def _organization(state: AppState, subject: Any, ref: str) -> Any:
    async with state.db.session() as session:
        return await resolve_org(session, subject, ref)


async def _print_all(events: AsyncIterator[AgentEvent], as_json: bool) -> AgentEvent | None:
    last = None
    async for event in events:
        render(event, as_json=as_json)
        last = event
    return last


def chat(
    message: str = typer.Option(None, "-m", "--message", help="Send one message and exit"),
    yes: bool = typer.Option(False, "--yes", "-y", help="Approve the changes the agent proposes"),
    as_json: bool = typer.Option(False, "--json", help="Print events as JSON lines"),
    organization: str = typer.Option("demo", "--org", help="Organization id or name"),
    workspace: str | None = typer.Option(None, "--workspace", "-w", help="Workspace to talk about"),
    session: str | None = typer.Option(None, "--session", help="Continue this conversation"),
    read_only: bool = typer.Option(False, "--read-only", help="Allow no change at all"),
    approve: str | None = typer.Option(None, "--approve", help="Approve this pending change"),
    deny: str | None = typer.Option(None, "--deny", help="Deny this pending change"),
    token: str | None = typer.Option(None, "--token", help="Access token or API key"),
    url: str | None = typer.Option(None, "--url", help="Service URL (default AIOPS_PUBLIC_URL)"),
    local: bool = typer.Option(False, "--local", help="Run in-process even if a service answers"),
) -> None:
    """Ask the agent something (one-shot with -m; --yes approves its changes)."""
    if message is None and approve is None and deny is None:
        raise typer.BadParameter("give a message with -m (the interactive mode needs a terminal)")
    settings = get_settings()
    options = {
        "yes": yes,
        "as_json": as_json,
        "organization": organization,
        "workspace": workspace,
        "session": session,
        "read_only": read_only,
        "decide": (approve, True) if approve else ((deny, False) if deny else None),
    }
    target = url or settings.base_url
    try:
        if not local and service_answers(target):
            last = over_http(target, token or asyncio.run(_demo_token(settings)), message, options)
        else:
            last = asyncio.run(in_process(settings, token, message, options))
    except DomainError as error:
        typer.secho(f"error: {error.message}", fg=typer.colors.RED, err=True)
        raise typer.Exit(code=1) from None
    if last is not None and last.type == "approval_required" and not as_json:
        typer.echo(
            f"  nothing changed yet: rerun with --yes, or `aiops chat --approve {last.approval_id}`"
        )
    if last is not None and last.type == "error":
        sys.exit(1)
