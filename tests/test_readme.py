"""The README stays true: the two commands at the top, every setting documented."""

from __future__ import annotations

from pathlib import Path

from platform_core.config import Settings

README = (Path(__file__).parents[1] / "README.md").read_text()


def test_the_two_commands_open_the_readme() -> None:
    head = "\n".join(README.splitlines()[:15])
    assert "make run" in head and "make test" in head


def test_every_setting_is_in_the_configuration_table() -> None:
    missing = [
        f"AIOPS_{name.upper()}"
        for name in Settings.model_fields
        if f"`AIOPS_{name.upper()}`" not in README
    ]
    assert missing == []
