"""What ``aiops chat`` needs from the agent, whether over HTTP or in-process.

Two implementations: ``chat_http.HttpBackend`` (a running service, SSE) and
``chat_local.LocalBackend`` (the runtime in this process). Both speak in the chat API's own
schemas and the agent's events, and turn every refusal into a ``ChatError`` with the service's
message, so the terminal shows one clear line instead of a traceback.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Protocol

from agents.events import AgentEvent
from aiops.chat.schemas import ApprovalRead, SessionRead
from platform_core.errors import DomainError


class ChatError(Exception):
    """A refusal or failure to show as one line: ``error: <message>``."""

    def __init__(self, message: str, *, code: str = "error", status: int | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.code = code
        self.status = status


@dataclass(frozen=True)
class Defaults:
    """Where new conversations start: the command line's ``--org``, ``--workspace``, ..."""

    organization: str
    workspace: str | None = None
    read_only: bool = False


class ChatBackend(Protocol):
    """The agent as the CLI sees it. Methods raise ``ChatError``; streams may raise it too."""

    where: str
    """Where the agent runs, for the banner."""
    left_running: str
    """Where a turn goes on when the person stops waiting for it."""

    async def start(self) -> str:
        """Connect and check the caller; returns who the caller is."""
        ...

    async def close(self) -> None: ...

    def send(self, session_id: str | None, message: str) -> AsyncIterator[AgentEvent]:
        """One message; a new conversation (with the defaults) when ``session_id`` is None."""
        ...

    def decide(self, approval_id: str, approve: bool) -> AsyncIterator[AgentEvent]:
        """Approve or deny a paused change; the events of the turn it continues."""
        ...

    async def sessions(self) -> list[SessionRead]:
        """The caller's conversations in the organization, most recent first."""
        ...

    async def session(self, session_id: str) -> SessionRead: ...

    async def approvals(self) -> list[ApprovalRead]:
        """Pending approvals of the organization that the caller may decide."""
        ...


@contextmanager
def refusals() -> Iterator[None]:
    """A domain refusal (not found, forbidden, busy, ...) as a ``ChatError`` with its message."""
    try:
        yield
    except DomainError as error:
        raise ChatError(error.message, code=error.code, status=error.status_code) from None
