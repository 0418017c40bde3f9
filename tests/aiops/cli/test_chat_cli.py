"""``aiops chat`` one-shot: stops at the approval, --yes applies it, the answer reflects it.

Run in-process (no service) on a SQLite file and the saved twin, and over HTTP against a
running service.
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import Callable
from pathlib import Path

import pytest
from typer.testing import CliRunner

from aiops.app import create_app
from aiops.cli.main import app
from platform_core.config import Settings

Invoke = Callable[..., str]


@pytest.fixture
def run(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Invoke:
    monkeypatch.chdir(tmp_path)
    env = {
        "AIOPS_DATA_DIR": str(tmp_path / "data"),
        "AIOPS_PASSWORD_HASH_MEMORY_KIB": "8192",
        "AIOPS_PASSWORD_HASH_TIME_COST": "1",
        "AIOPS_PORT": "1",  # nothing listens there: in-process unless --url is given
    }
    for key, value in env.items():
        monkeypatch.setenv(key, value)
    runner = CliRunner()

    def invoke(*args: str, expect: int = 0) -> str:
        result = runner.invoke(app, list(args))
        assert result.exit_code == expect, result.output
        return result.output

    invoke("db", "upgrade")
    invoke("admin", "seed-demo")
    return invoke


def test_the_demo_walkthrough_in_process(run: Invoke) -> None:
    asked = run("chat", "-m", "scale web in workspace demo to 3 replicas")
    assert "approval needed" in asked and "scale web in demo/default to 3 replicas" in asked
    assert "nothing changed yet" in asked
    before = run("chat", "-m", "how many replicas does web have in workspace demo?")
    assert "web has 2 replicas" in before

    done = run("chat", "-m", "scale web in workspace demo to 3 replicas", "--yes")
    assert "scaled web in demo/default from 2 to 3 replicas" in done
    after = run("chat", "-m", "how many replicas does web have in workspace demo?")
    assert "web has 3 replicas" in after


def test_json_output_is_one_event_per_line(run: Invoke) -> None:
    output = run("chat", "-m", "list workspaces", "--json")
    events = [json.loads(line) for line in output.splitlines()]
    assert [e["type"] for e in events] == ["session", "tool_call", "tool_result", "delta", "final"]
    assert events[0]["cluster"] == "simulated"


def test_a_pending_change_can_be_approved_later(run: Invoke) -> None:
    asked = run("chat", "-m", "restart api in workspace demo", "--json")
    approval_id = next(
        json.loads(line)["approval_id"]
        for line in asked.splitlines()
        if json.loads(line)["type"] == "approval_required"
    )
    decided = run("chat", "--approve", approval_id)
    assert "restarted api" in decided
    again = run("chat", "--approve", approval_id, expect=1)
    assert "already approved" in again


def test_the_cli_talks_to_a_running_service(run: Invoke, tmp_path: Path) -> None:
    from tests.support.server import running_server

    settings = Settings(_env_file=None, data_dir=tmp_path / "data")  # type: ignore[call-arg]
    service = create_app(settings)
    asyncio.run(service.state.aiops.db.dispose())
    with running_server(service) as url:
        asked = run(
            "chat", "--url", url, "-m", "scale web in workspace demo to 3 replicas", "--yes"
        )
        assert "from 2 to 3 replicas" in asked
        answer = run(
            "chat", "--url", url, "-m", "how many replicas does web have in workspace demo?"
        )
        assert "web has 3 replicas" in answer
