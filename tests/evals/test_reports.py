"""The reports: JSON with everything, Markdown for a person, a well-formed SVG chart; the CLI."""

from __future__ import annotations

import json
import xml.etree.ElementTree as ET
from pathlib import Path

from typer.testing import CliRunner

from evals.chart import pass_rate_chart
from evals.cli import eval_app
from evals.models import ModelChoice
from evals.report import build_report, markdown, write_reports
from evals.runner import RunOptions, SuiteRun
from evals.scenario import Scenario
from evals.score import CaseResult

SVG = "{http://www.w3.org/2000/svg}"


def _run() -> SuiteRun:
    cases = [
        Scenario.model_validate(
            {
                "id": cid,
                "title": f"title {cid}",
                "category": cat,
                "difficulty": diff,
                "turns": [{"say": "hi"}],
            }
        )
        for cid, cat, diff in (("a", "actions", "easy"), ("b", "safety", "hard"))
    ]
    results = [
        CaseResult("a", "actions", "easy", 0, True),
        CaseResult(
            "b",
            "safety",
            "hard",
            0,
            False,
            reasons=["turn 1: answer lacks /x|y/"],
            violations=["unsafe_call (turn 1): delete_workspace({})"],
            violation_kinds=["unsafe_call"],
        ),
    ]
    return SuiteRun(cases, results, RunOptions(choice=ModelChoice()), wall_seconds=3.2)


def test_the_json_report_has_aggregates_failures_and_figures(tmp_path: Path) -> None:
    report = build_report(_run(), "suite")
    assert report["overall"]["pass_at_1"] == 0.5
    assert report["by_category"]["safety"]["pass_at_1"] == 0.0
    assert report["by_difficulty"]["easy"]["pass_at_1"] == 1.0
    assert report["safety"] == {
        "violations": 1,
        "by_kind": {"unsafe_call": 1},
        "list": [
            {"case": "b", "run": 1, "violation": "unsafe_call (turn 1): delete_workspace({})"}
        ],
    }
    assert report["failures"][0]["case"] == "b"
    figures = report["figures"]
    assert figures["cases"] == 2 and figures["safety_violations"] == 1 and figures["wall_s"] == 3.2
    paths = write_reports(report, tmp_path / "out" / "report.json")
    assert [p.name for p in paths] == ["report.json", "report.md", "report.svg"]
    assert json.loads(paths[0].read_text())["figures"] == figures


def test_the_markdown_reads_at_a_glance() -> None:
    text = markdown(build_report(_run(), "suite"), "report.svg")
    assert "| **overall** | 2 | 50.0% |" in text
    assert "## By category" in text and "| safety | 1 | 0.0% |" in text
    assert "![Pass rate by category](report.svg)" in text
    assert "answer lacks /x\\|y/" in text  # pipes in reasons do not break the table


def test_the_chart_is_well_formed_svg_with_a_bar_per_category() -> None:
    svg = pass_rate_chart({"actions": 0.95, "safety & more": 0.5}, {"actions": 20}, title="T <1>")
    root = ET.fromstring(svg)  # noqa: S314 - our own output
    assert root.tag == f"{SVG}svg"
    bars = [r for r in root.iter(f"{SVG}rect") if r.find(f"{SVG}title") is not None]
    assert len(bars) == 2
    widths = [float(r.attrib["width"]) for r in bars]
    assert widths[0] > widths[1] > 0
    texts = "".join(t.text or "" for t in root.iter(f"{SVG}text"))
    assert "safety & more" in texts and "95%  (n=20)" in texts and "T <1>" in texts


def test_the_cli_runs_a_case_and_ends_with_one_json_line(tmp_path: Path) -> None:
    out = tmp_path / "eval" / "report.json"
    result = CliRunner().invoke(
        eval_app,
        ["run", "--only", "a-scale-exact", "--out", str(out), "--no-progress", "--no-langfuse"],
    )
    assert result.exit_code == 0, result.output
    lines = result.output.strip().splitlines()
    figures = json.loads(lines[-1])
    assert figures["cases"] == 1 and figures["pass_at_1"] == 1.0
    assert figures["safety_violations"] == 0 and "wall_s" in figures
    assert lines[-2].startswith("Pass@1 100.0%") and "safety violations: 0" in lines[-2]
    assert out.exists() and out.with_suffix(".md").exists() and out.with_suffix(".svg").exists()


def test_the_cli_reports_a_broken_suite(tmp_path: Path) -> None:
    (tmp_path / "actions").mkdir()
    (tmp_path / "actions" / "bad.yaml").write_text("id: bad\n")
    result = CliRunner().invoke(eval_app, ["run", "--suite", str(tmp_path), "--no-progress"])
    assert result.exit_code == 2
    assert "bad.yaml" in result.output


def test_the_cli_drives_a_real_provider_client_against_a_fake_ollama(tmp_path: Path) -> None:
    """``--provider ollama`` goes through the real ChatOllama client; tokens are counted."""
    from tests.support.fake_ollama import FakeOllama, Reply

    out = tmp_path / "report.json"
    with FakeOllama() as server:
        server.script(
            Reply.call(
                "scale_application", {"workspace": "shop", "application": "web", "replicas": 4}
            ),
            Reply.say("Scaled web ", "to 4 replicas."),
        )
        result = CliRunner().invoke(
            eval_app,
            [
                "run",
                "--provider",
                "ollama",
                "--base-url",
                server.base_url,
                "--timeout",
                "10",
                "--only",
                "a-scale-exact",
                "--out",
                str(out),
                "--no-progress",
                "--no-langfuse",
            ],
        )
    assert result.exit_code == 0, result.output
    figures = json.loads(result.output.strip().splitlines()[-1])
    assert figures["pass_at_1"] == 1.0 and figures["fallback_turns"] == 0
    assert figures["mean_tokens_per_case"] > 0 and figures["mean_steps_per_case"] == 2
    assert json.loads(out.read_text())["model"] == "ollama:qwen2.5:7b-instruct"
