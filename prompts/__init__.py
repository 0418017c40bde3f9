"""Prompt templates (Jinja2, with partials) and one ``render()``.

Templates live in ``prompts/templates``; per-turn facts (date, organization, workspace, the
caller's role, the enabled tools) are passed to ``render`` on every turn, never baked in.
"""

from __future__ import annotations

from functools import cache
from pathlib import Path
from typing import Any

from jinja2 import Environment, FileSystemLoader, StrictUndefined

TEMPLATES = Path(__file__).with_name("templates")


@cache
def _environment() -> Environment:
    return Environment(
        loader=FileSystemLoader(TEMPLATES),
        undefined=StrictUndefined,
        autoescape=False,  # noqa: S701 - prompts are plain text for a model, not HTML
        trim_blocks=True,
        lstrip_blocks=True,
        keep_trailing_newline=False,
    )


def render(name: str, **values: Any) -> str:
    """Render ``templates/<name>.j2`` with ``values``; a missing value is an error."""
    return _environment().get_template(f"{name}.j2").render(**values).strip()


__all__ = ["render"]
