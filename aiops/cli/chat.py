"""``aiops chat``: talk to the agent from a terminal.

With ``-m`` it sends one message and exits (``--yes`` approves what the agent proposes,
``--json`` prints the events as JSON lines); ``--approve ID``/``--deny ID`` decide a pending
change; without either it is an interactive session (see ``chat_repl``).

It talks to the running service when one answers at ``AIOPS_PUBLIC_URL`` (or ``--url``), so the
service's cluster sees the change; otherwise it runs the agent in-process against the same
database and twin state. It acts as the demo admin unless ``--token`` names someone else.
"""

from __future__ import annotations

import asyncio
import sys
from collections.abc import AsyncIterator
from dataclasses import dataclass

import httpx
import typer

from agents.events import AgentEvent
from aiops.cli.chat_backend import ChatBackend, ChatError, Defaults
from aiops.cli.chat_bridge import Bridge
from aiops.cli.chat_http import HttpBackend
from aiops.cli.chat_local import LocalBackend, demo_admin_token
from aiops.cli.chat_render import render
from aiops.cli.chat_repl import Repl
from aiops.cli.runtime import cli_runtime
from platform_core.config import Settings, get_settings


@dataclass(frozen=True)
class OneShot:
    message: str | None
    session: str | None
    yes: bool
    as_json: bool
    decide: tuple[str, bool] | None


def service_answers(url: str) -> bool:
    try:
        return httpx.get(f"{url.rstrip('/')}/healthz", timeout=1.0).status_code == 200
    except httpx.HTTPError:
        return False


async def _demo_token(settings: Settings) -> str:
    async with cli_runtime(settings) as rt:
        return await demo_admin_token(rt.session, rt.state.auth)


def backend_for(
    settings: Settings, *, url: str | None, token: str | None, local: bool, defaults: Defaults
) -> ChatBackend:
    """The running service if one answers (and ``--local`` is not given), else in-process."""
    target = url or settings.base_url
    if local or not service_answers(target):
        return LocalBackend(settings, token, defaults)

    async def renew() -> str:
        return await _demo_token(settings)

    if token:
        return HttpBackend(target, token, defaults)
    return HttpBackend(target, asyncio.run(_demo_token(settings)), defaults, renew=renew)


async def _print_all(events: AsyncIterator[AgentEvent], as_json: bool) -> AgentEvent | None:
    last = None
    async for event in events:
        render(event, as_json=as_json)
        last = event
    return last


async def one_shot(backend: ChatBackend, job: OneShot) -> AgentEvent | None:
    await backend.start()
    try:
        if job.decide is not None:
            events = backend.decide(*job.decide)
        else:
            events = backend.send(job.session, job.message or "")
        last = await _print_all(events, job.as_json)
        while last is not None and last.type == "approval_required" and job.yes:
            last = await _print_all(backend.decide(last.approval_id, True), job.as_json)
        return last
    finally:
        await backend.close()


def interactive(backend: ChatBackend, *, session: str | None, organization: str) -> int:
    """The prompt until the person leaves; the exit code."""
    if sys.stdin.isatty():
        import readline  # noqa: F401  (line editing and history for input())
    bridge = Bridge()
    try:
        who = bridge.call(backend.start())
        typer.secho(
            f"aiops chat · {who} in {organization} · {backend.where}\n"
            "type a message; /help for commands; /quit or Ctrl-D to leave",
            fg=typer.colors.BRIGHT_BLACK,
        )
        Repl(backend, bridge, session_id=session).run()
        return 0
    except ChatError as error:
        typer.secho(f"error: {error.message}", fg=typer.colors.RED, err=True)
        return 1
    except KeyboardInterrupt:
        return 130
    finally:
        try:
            bridge.call(backend.close())
        finally:
            bridge.close()


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
    """Ask the agent something: -m for one message (--yes approves its changes); without -m, an
    interactive session (/help lists its commands)."""
    interactive_mode = message is None and approve is None and deny is None
    if interactive_mode and (as_json or yes):
        raise typer.BadParameter("--json and --yes go with -m; the interactive mode asks instead")
    settings = get_settings()
    defaults = Defaults(organization=organization, workspace=workspace, read_only=read_only)
    try:
        backend = backend_for(settings, url=url, token=token, local=local, defaults=defaults)
    except ChatError as error:
        typer.secho(f"error: {error.message}", fg=typer.colors.RED, err=True)
        raise typer.Exit(code=1) from None
    if interactive_mode:
        raise typer.Exit(code=interactive(backend, session=session, organization=organization))
    decide = (approve, True) if approve else ((deny, False) if deny else None)
    job = OneShot(message=message, session=session, yes=yes, as_json=as_json, decide=decide)
    try:
        last = asyncio.run(one_shot(backend, job))
    except ChatError as error:
        typer.secho(f"error: {error.message}", fg=typer.colors.RED, err=True)
        raise typer.Exit(code=1) from None
    if last is not None and last.type == "approval_required" and not as_json:
        typer.echo(
            f"  nothing changed yet: rerun with --yes, or `aiops chat --approve {last.approval_id}`"
        )
    if last is not None and last.type == "error":
        sys.exit(1)
