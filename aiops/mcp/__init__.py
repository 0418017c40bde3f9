"""The platform's agent tools over the Model Context Protocol.

An MCP client (an IDE, a desktop assistant, another agent) sees exactly the tools the agent would
be offered for the same caller, and calling one goes through ``agents.direct``: the same
permission filter, target resolution inside the caller's organization, read-only mode, audit and
redaction. A read runs at once; a change answers ``approval_required`` with an approval id and
runs only after a person approves it in the web UI, Slack or ``aiops chat --approve``. The
``get_approval`` tool reports the decision and, once run, the result.

Two transports share one server definition (``aiops.mcp.server``):

- streamable HTTP at ``/mcp`` in the service (``aiops.mcp.http.mount_mcp``), authenticated on
  every request with the same bearer tokens and API keys as the REST API;
- stdio (``aiops mcp``, ``aiops.mcp.cli``) for a local client that starts the server itself.
"""

from aiops.mcp.http import McpService, mount_mcp
from aiops.mcp.server import McpCaller, build_server

__all__ = ["McpCaller", "McpService", "build_server", "mount_mcp"]
