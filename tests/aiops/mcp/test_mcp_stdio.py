"""``aiops mcp`` over stdio, started as a subprocess by the official MCP client.

The data directory (SQLite, the saved twin) is seeded with ``aiops admin seed-demo``; the server
acts as an API key of the demo organization, made with ``aiops admin create-api-key``.
"""

from __future__ import annotations

import subprocess
import sys
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from pathlib import Path

import pytest
from mcp import ClientSession, StdioServerParameters, types
from mcp.client.stdio import stdio_client
from typer.testing import CliRunner

from aiops.cli.main import app as aiops


@dataclass
class Demo:
    env: dict[str, str]
    cwd: Path
    api_key: str


@pytest.fixture
def demo(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Demo:
    monkeypatch.chdir(tmp_path)
    env = {
        "AIOPS_DATA_DIR": str(tmp_path / "data"),
        "AIOPS_PASSWORD_HASH_MEMORY_KIB": "8192",
        "AIOPS_PASSWORD_HASH_TIME_COST": "1",
        "AIOPS_LOG_LEVEL": "WARNING",
    }
    for key, value in env.items():
        monkeypatch.setenv(key, value)
    runner = CliRunner()

    def run(*args: str) -> str:
        result = runner.invoke(aiops, list(args))
        assert result.exit_code == 0, result.output
        return result.output

    run("db", "upgrade")
    run("admin", "seed-demo")
    created = run("admin", "create-api-key", "demo", "--name", "mcp", "--role", "admin")
    api_key = created.split("api_key:", 1)[1].strip()
    return Demo(env=env, cwd=tmp_path, api_key=api_key)


def command(*args: str) -> list[str]:
    """``aiops mcp ...``, or the same command as ``python -m aiops.mcp`` until it is registered."""
    registered = any(
        (c.name or getattr(c.callback, "__name__", None)) == "mcp"
        for c in aiops.registered_commands
    )
    if not registered:
        return [sys.executable, "-m", "aiops.mcp", *args]
    script = Path(sys.executable).with_name("aiops")
    prefix = [str(script)] if script.exists() else [sys.executable, "-m", "aiops.cli.main"]
    return [*prefix, "mcp", *args]


@asynccontextmanager
async def stdio_session(demo: Demo, *args: str) -> AsyncIterator[ClientSession]:
    executable, *rest = command(*args)
    server = StdioServerParameters(command=executable, args=rest, env=demo.env, cwd=demo.cwd)
    async with (
        stdio_client(server) as (read, write),
        ClientSession(read, write, read_timeout_seconds=60) as session,
    ):
        await session.initialize()
        yield session


def text(result: types.CallToolResult) -> str:
    return "\n".join(c.text for c in result.content if isinstance(c, types.TextContent))


async def test_the_tools_over_stdio(demo: Demo) -> None:
    async with stdio_session(demo, "--token", demo.api_key, "--workspace", "demo") as session:
        names = {tool.name for tool in (await session.list_tools()).tools}
        assert {"describe_application", "scale_application", "get_approval"} <= names

        read = await session.call_tool("describe_application", {"application": "web"})
        assert not read.is_error, text(read)
        assert text(read).startswith("status: ok\napplication web: 2/2 ready")

        asked = await session.call_tool("scale_application", {"application": "web", "replicas": 3})
        assert text(asked).startswith("status: approval_required")
        assert isinstance(asked.structured_content, dict)
        approval_id = asked.structured_content["approval_id"]
        pending = await session.call_tool("get_approval", {"approval_id": approval_id})
        assert "is pending: nothing has changed yet" in text(pending)


def test_a_refused_credential_stops_the_server_at_start(demo: Demo) -> None:
    finished = subprocess.run(
        command("--token", "hxa_not-a-key"),
        env={"PATH": "/usr/bin:/bin", **demo.env},
        cwd=demo.cwd,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert finished.returncode == 1
    assert finished.stdout == ""  # stdout carries the protocol and nothing else
    assert "error: the API key is invalid or revoked" in finished.stderr
