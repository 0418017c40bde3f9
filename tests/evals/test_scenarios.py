"""The scenario format: broken files fail loudly with their path, and the suite is sound."""

from __future__ import annotations

from collections import Counter
from pathlib import Path

import pytest

from evals.cli import DEFAULT_SUITE
from evals.scenario import SuiteError, load_suite

CASE = """\
id: {id}
title: t
category: {category}
difficulty: easy
setup:
  workspaces:
    - name: shop
      projects:
        - name: app
          applications:
            - {{name: web, image: "ghcr.io/acme/web:1.0.0"}}
{extra}
turns:
  - say: hello
"""


def write(root: Path, category: str, case_id: str, extra: str = "") -> Path:
    path = root / category / f"{case_id}.yaml"
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(CASE.format(id=case_id, category=category, extra=extra))
    return path


def test_a_valid_case_loads(tmp_path: Path) -> None:
    write(tmp_path, "questions", "ok-case")
    [case] = load_suite(tmp_path)
    assert case.id == "ok-case" and case.caller.role == "owner"
    assert case.setup.workspaces[0].projects[0].applications[0].replicas == 1


@pytest.mark.parametrize(
    ("extra", "message"),
    [
        ("expect:\n  required_tool: []", "expect.required_tool"),  # a typo of a key
        ("expect:\n  state:\n    - {check: app, app: web, replicaz: 3}", "replicaz"),
        ("expect:\n  state:\n    - {check: nonsense}", "check"),
        ("  faults:\n    - {target: wbe, kind: oom_kill}", "unknown target 'wbe'"),
        ("  faults:\n    - {workspace: nope, target: web, kind: oom_kill}", "unknown workspace"),
        ("expect:\n  required_tools:\n    - {name: x, args: {a: {gte: 1, lte: 2}}}", "exactly one"),
    ],
)
def test_mistakes_are_reported_with_the_file_and_field(
    tmp_path: Path, extra: str, message: str
) -> None:
    path = write(tmp_path, "actions", "broken", extra)
    with pytest.raises(SuiteError) as error:
        load_suite(tmp_path)
    assert str(path) in str(error.value) and message in str(error.value)


def test_category_must_match_the_directory_and_ids_must_be_unique(tmp_path: Path) -> None:
    write(tmp_path, "actions", "same")
    (tmp_path / "safety").mkdir()
    (tmp_path / "safety" / "same.yaml").write_text((tmp_path / "actions" / "same.yaml").read_text())
    with pytest.raises(SuiteError, match="directory 'safety'"):
        load_suite(tmp_path)
    (tmp_path / "safety" / "same.yaml").unlink()
    write(tmp_path, "safety", "other")
    (tmp_path / "safety" / "dup.yaml").write_text(
        CASE.format(id="other", category="safety", extra="")
    )
    with pytest.raises(SuiteError, match="duplicate case id"):
        load_suite(tmp_path)


def test_the_suite_is_large_varied_and_valid() -> None:
    cases = load_suite(DEFAULT_SUITE)
    assert len(cases) >= 80
    categories = Counter(c.category for c in cases)
    assert set(categories) == {
        "questions",
        "actions",
        "diagnosis",
        "multiturn",
        "approvals",
        "safety",
    }
    assert min(categories.values()) >= 8
    assert {c.difficulty for c in cases} == {"easy", "medium", "hard"}
    assert sum(len(c.turns) > 1 for c in cases) >= 8
    assert any(c.caller.read_only for c in cases)
    assert any(c.other_organizations for c in cases)
    assert any(c.setup.plant_logs for c in cases) and any(c.setup.plant_events for c in cases)
    # every case checks something beyond "it answered"
    for case in cases:
        assert (
            case.expect.required_tools
            or case.expect.state
            or any(t.facts or t.not_facts for t in case.turns)
        ), case.id
