"""``python -m aiops.mcp``: the same command as ``aiops mcp``."""

from aiops.mcp.cli import app

app(prog_name="aiops mcp")
