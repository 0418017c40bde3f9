"""The operator CLI: migrate, create tenants and credentials, get a working token."""

from __future__ import annotations

from pathlib import Path

import pytest
from alembic.script import ScriptDirectory
from typer.testing import CliRunner

from aiops.cli.main import app
from platform_core.db.migrate import alembic_config


@pytest.fixture
def run(tmp_path: Path, monkeypatch: pytest.MonkeyPatch):  # type: ignore[no-untyped-def]
    monkeypatch.chdir(tmp_path)  # no stray .env, data under this test's directory
    env = {
        "AIOPS_DATA_DIR": str(tmp_path / "data"),
        "AIOPS_PASSWORD_HASH_MEMORY_KIB": "8192",
        "AIOPS_PASSWORD_HASH_TIME_COST": "1",
    }
    runner = CliRunner()

    def invoke(*args: str, expect: int = 0) -> str:
        result = runner.invoke(app, list(args), env=env)
        assert result.exit_code == expect, result.output
        return result.output

    return invoke


def test_operator_sets_up_a_tenant_end_to_end(run) -> None:  # type: ignore[no-untyped-def]
    assert "database at head" in run("db", "upgrade")
    head = ScriptDirectory.from_config(alembic_config("")).get_current_head()
    assert run("db", "current").strip() == head
    run("admin", "create-user", "ops@corp.example", "--name", "Ops", "--password", "long-password")
    assert "organization corp" in run("admin", "create-org", "corp", "--owner", "ops@corp.example")
    run("admin", "create-user", "dev@corp.example", "--password", "another-password")
    assert "admin of corp" in run(
        "admin", "add-member", "corp", "dev@corp.example", "--role", "admin"
    )
    assert "corp is on team" in run("admin", "set-plan", "corp", "team")
    assert "corp is suspended" in run("admin", "set-org-status", "corp", "suspended")
    token_lines = run("admin", "issue-token", "dev@corp.example").splitlines()
    assert token_lines[0].startswith("token: ey") and token_lines[1].startswith(
        "refresh_token: hxr_"
    )
    key = run("admin", "create-api-key", "corp", "--name", "ci", "--role", "admin")
    assert key.startswith("api_key: hxa_")


def test_errors_are_one_clear_line_and_exit_1(run) -> None:  # type: ignore[no-untyped-def]
    run("db", "upgrade")
    missing = run("admin", "create-org", "corp", "--owner", "nobody@corp.example", expect=1)
    assert "no user with email" in missing
    run("admin", "create-user", "a@corp.example", "--password", "long-password")
    duplicate = run(
        "admin", "create-user", "a@corp.example", "--password", "long-password", expect=1
    )
    assert "already exists" in duplicate
    bad_role = run("admin", "add-member", "corp", "a@corp.example", "--role", "king", expect=2)
    assert "choose one of" in bad_role


def test_seed_demo_is_idempotent(run) -> None:  # type: ignore[no-untyped-def]
    run("db", "upgrade")
    assert "created" in run("admin", "seed-demo")
    assert "already present" in run("admin", "seed-demo")
