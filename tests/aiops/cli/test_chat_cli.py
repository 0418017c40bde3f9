"""``aiops chat``: one-shot (stops at the approval, --yes applies it, the answer reflects it)
and interactive (a prompt fed line by line on stdin: streamed answers, approvals asked on the
spot, slash commands, errors as one line).

Run in-process (no service) on a SQLite file and the saved twin, and over HTTP against a
running service.
"""

from __future__ import annotations

import asyncio
import json
import re
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest
from typer.testing import CliRunner

from aiops.app import create_app
from aiops.cli.main import app
from platform_core.config import Settings

Invoke = Callable[..., str]


@contextmanager
def service_on(tmp_path: Path) -> Iterator[str]:
    """The service running on the CLI's data directory; its URL."""
    from tests.support.server import running_server

    settings = Settings(_env_file=None, data_dir=tmp_path / "data")  # type: ignore[call-arg]
    service = create_app(settings)
    asyncio.run(service.state.aiops.db.dispose())
    with running_server(service) as url:
        yield url


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

    def invoke(*args: str, expect: int = 0, stdin: str | None = None) -> str:
        result = runner.invoke(app, list(args), input=stdin)
        assert result.exit_code == expect, result.output
        assert "Traceback" not in result.output
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
    with service_on(tmp_path) as url:
        asked = run(
            "chat", "--url", url, "-m", "scale web in workspace demo to 3 replicas", "--yes"
        )
        assert "from 2 to 3 replicas" in asked
        answer = run(
            "chat", "--url", url, "-m", "how many replicas does web have in workspace demo?"
        )
        assert "web has 3 replicas" in answer


def lines(*typed: str) -> str:
    return "".join(f"{line}\n" for line in typed)


def replicas_of_web(run: Invoke) -> str:
    """What the twin (saved by the session that just ended) says about web, asked afresh."""
    answer = run("chat", "-m", "how many replicas does web have in workspace demo?")
    found = re.search(r"web has (\d+) replicas", answer)
    assert found, answer
    return found.group(1)


def test_an_interactive_session_approves_on_the_spot_and_keeps_its_conversations(
    run: Invoke,
) -> None:
    output = run(
        "chat",
        "--local",
        stdin=lines(
            "scale web in workspace demo to 3 replicas",
            "y",
            "/new",
            "list workspaces",
            "/sessions",
            "/quit",
        ),
    )
    asked, _, rest = output.partition("approve? [y/N]")
    assert "▸ scale_application  application=web replicas=3 workspace=demo" in asked
    assert "approval needed (confirm to proceed): scale web in demo/default to 3 replicas" in asked
    assert "ok: scaled web in demo/default from 2 to 3 replicas" in rest
    assert "1 workspace(s)" in rest and "cluster: simulated" in rest
    row = r"^(?:you> )?([ *]) ([0-9a-f]{32})  \S+ \S+  (.+)$"  # mark, id, last use, title
    listed = re.findall(row, rest, flags=re.MULTILINE)
    assert [(mark, title) for mark, _, title in listed] == [
        ("*", "list workspaces"),  # the current one, most recent first
        (" ", "scale web in workspace demo to 3 replicas"),
    ]
    assert replicas_of_web(run) == "3"


def test_denying_leaves_the_twin_unchanged(run: Invoke) -> None:
    output = run("chat", "--local", stdin=lines("scale web in workspace demo to 5 replicas", "N"))
    assert "approve? [y/N]" in output
    assert "the user did not approve this action" in output  # the denied call's card
    assert "the change was not approved" in output
    assert replicas_of_web(run) == "2"


def test_errors_are_one_line_and_the_prompt_goes_on(run: Invoke) -> None:
    output = run(
        "chat",
        "--local",
        stdin=lines("/approve 0123456789abcdef0123456789abcdef", "/open nope", "/frob", "/open"),
    )
    assert "error: approval not found" in output
    assert "error: session not found" in output
    assert "error: unknown command /frob: /help lists the commands" in output
    assert "error: usage: /open ID" in output
    after = run("chat", "--local", stdin=lines("/approvals", "/sessions", "/help"))
    assert "no pending approvals that you may decide" in after and "no conversations yet" in after
    assert "/approve ID" in after


def test_an_approval_left_unanswered_stays_pending_and_can_be_decided_by_id(run: Invoke) -> None:
    output = run("chat", "--local", stdin=lines("restart api in workspace demo"))  # then EOF
    approval_id = re.search(r"left pending: /approve ([0-9a-f]{32})", output)
    assert approval_id, output
    listed = run(
        "chat", "--local", stdin=lines("/approvals", f"/approve {approval_id.group(1)[:8]}")
    )
    assert approval_id.group(1) in listed and "restart api in demo/default" in listed
    assert "restarted api" in listed


def test_only_an_admin_may_decide_a_destructive_change(run: Invoke) -> None:
    asked = run("chat", "-m", "delete workspace demo", "--json")
    pending = json.loads(asked.splitlines()[-1])
    assert pending["type"] == "approval_required" and pending["approver"] == "admin"
    editor = run("admin", "issue-token", "editor@demo.local").split("token: ", 1)[1].split()[0]
    output = run(
        "chat",
        "--local",
        "--token",
        editor,
        stdin=lines("/approvals", f"/approve {pending['approval_id']}", "list workspaces"),
    )
    assert "no pending approvals that you may decide" in output
    assert "error: a workspace or organization admin must decide this action" in output
    assert "demo: active" in output  # the prompt went on, and the workspace is still there


def test_one_shot_options_are_refused_in_the_interactive_mode(run: Invoke) -> None:
    output = run("chat", "--json", stdin="", expect=2)
    assert "--json and --yes go with -m" in output


def test_an_interactive_session_over_http(run: Invoke, tmp_path: Path) -> None:
    with service_on(tmp_path) as url:
        output = run(
            "chat",
            "--url",
            url,
            stdin=lines(
                "scale web in workspace demo to 4 replicas",
                "y",
                "how many replicas does web have in workspace demo?",
                "/sessions",
                "/approve 0123456789abcdef0123456789abcdef",
                "/quit",
            ),
        )
    assert f"the service at {url}" in output
    assert "ok: scaled web in demo/default from 2 to 4 replicas" in output
    assert "web has 4 replicas" in output
    assert len(re.findall(r"^(?:you> )?\* [0-9a-f]{32}  ", output, flags=re.MULTILINE)) == 1
    assert "error: approval not found" in output
