"""platform_core.observability must not depend on the service layers or print from the library."""

from __future__ import annotations

import ast
from pathlib import Path

import platform_core.observability as observability

PACKAGE = Path(observability.__file__).parent
FORBIDDEN = ("aiops", "agents", "tools")
MAY_PRINT = {"cli.py"}


def _modules() -> list[Path]:
    return sorted(PACKAGE.rglob("*.py"))


def test_no_imports_from_upper_layers() -> None:
    offenders = []
    for path in _modules():
        for node in ast.walk(ast.parse(path.read_text())):
            names = []
            if isinstance(node, ast.Import):
                names = [alias.name for alias in node.names]
            elif isinstance(node, ast.ImportFrom) and node.module:
                names = [node.module]
            offenders += [f"{path.name}: {n}" for n in names if n.split(".")[0] in FORBIDDEN]
    assert offenders == []


def test_library_code_does_not_print() -> None:
    printing = [
        path.name
        for path in _modules()
        if path.name not in MAY_PRINT
        and any(
            isinstance(node, ast.Call) and getattr(node.func, "id", None) == "print"
            for node in ast.walk(ast.parse(path.read_text()))
        )
    ]
    assert printing == []
    assert len(_modules()) >= 10
