"""The reports of a suite run: JSON (everything), Markdown (for a person) and the summary line.

The JSON holds every run of every case with its reasons, violations and figures, plus the
aggregates; the Markdown puts the aggregates in tables and lists the failures with their
reasons, so the first screen says how good the agent is and the rest says where it is weak.
``figures`` is the one-line summary the CLI prints last: numbers only, units in the keys.
"""

from __future__ import annotations

import json
from collections import Counter
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from evals.runner import SuiteRun
from evals.stats import Group, breakdown, by_case, group, pass_at_k, pass_hat_k


def build_report(run: SuiteRun, suite: str) -> dict[str, Any]:
    results = run.results
    overall = group(results)
    titles = {c.id: c for c in run.cases}
    cases = []
    for case_id, items in by_case(results).items():
        n, c = len(items), sum(r.passed for r in items)
        case = titles[case_id]
        cases.append(
            {
                "id": case_id,
                "title": case.title,
                "category": case.category,
                "difficulty": case.difficulty,
                "tags": case.tags,
                "runs": n,
                "passes": c,
                "pass_at_1": round(pass_at_k(n, c, 1), 4),
                "pass_at_k": round(pass_at_k(n, c, n), 4),
                "pass_hat_k": round(pass_hat_k(n, c, n), 4),
                "results": [r.to_json() for r in items],
            }
        )
    kinds = Counter(kind for r in results for kind in r.violation_kinds)
    return {
        "suite": suite,
        "provider": run.options.choice.provider,
        "model": run.options.choice.label,
        "runs": run.options.runs,
        "k": run.options.runs,
        "finished_at": datetime.now(UTC).isoformat(timespec="seconds"),
        "wall_s": round(run.wall_seconds, 2),
        "overall": overall.to_json(),
        "by_category": {
            k: g.to_json() for k, g in breakdown(results, lambda r: r.category).items()
        },
        "by_difficulty": {
            k: g.to_json() for k, g in breakdown(results, lambda r: r.difficulty).items()
        },
        "safety": {
            "violations": sum(kinds.values()),
            "by_kind": dict(sorted(kinds.items())),
            "list": [
                {"case": r.case_id, "run": r.run + 1, "violation": v}
                for r in results
                for v in r.violations
            ],
        },
        "failures": [
            {"case": r.case_id, "run": r.run + 1, "category": r.category, "reasons": r.reasons}
            for r in results
            if not r.passed
        ],
        "cases": cases,
        "figures": figures(run, overall),
    }


def figures(run: SuiteRun, overall: Group) -> dict[str, Any]:
    results = run.results
    return {
        "pass_at_1": round(overall.pass_at_1, 4),
        "pass_at_k": round(overall.pass_at_k, 4),
        "pass_hat_k": round(overall.pass_hat_k, 4),
        "k": run.options.runs,
        "cases": overall.cases,
        "runs": run.options.runs,
        "failed_runs": sum(not r.passed for r in results),
        "safety_violations": overall.safety_violations,
        "tool_precision": round(overall.precision, 4),
        "tool_recall": round(overall.recall, 4),
        "argument_accuracy": round(overall.argument_accuracy, 4),
        "mean_steps_per_case": round(overall.mean_steps, 2),
        "mean_tokens_per_case": round(overall.mean_tokens, 1),
        "mean_case_latency_s": round(overall.mean_seconds, 3),
        "fallback_turns": sum(r.fallbacks for r in results),
        "wall_s": round(run.wall_seconds, 2),
    }


def _pct(value: float) -> str:
    return f"{100 * value:.1f}%"


def _row(name: str, g: dict[str, Any]) -> str:
    return (
        f"| {name} | {g['cases']} | {_pct(g['pass_at_1'])} | {_pct(g['pass_at_k'])} | "
        f"{_pct(g['pass_hat_k'])} | {g['safety_violations']} | {g['precision']:.2f} | "
        f"{g['recall']:.2f} | {g['argument_accuracy']:.2f} | {g['mean_steps']:.1f} | "
        f"{g['mean_tokens']:.0f} | {g['mean_seconds']:.2f} |"
    )


HEADER = (
    "| | cases | Pass@1 | Pass@k | Pass^k | safety violations | tool precision | tool recall "
    "| argument accuracy | steps | tokens | latency (s) |\n"
    "|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|"
)


def _cell(text: str) -> str:
    return text.replace("|", "\\|").replace("\n", " ")


def markdown(report: dict[str, Any], chart_name: str | None = None) -> str:
    k = report["k"]
    lines = [
        f"# Agent benchmark: {report['model']}",
        "",
        f"Suite `{report['suite']}`: {report['overall']['cases']} cases x {report['runs']} "
        f"run(s), k = {k}; wall time {report['wall_s']:.1f} s; finished "
        f"{report['finished_at']}.",
        "",
        HEADER,
        _row("**overall**", report["overall"]),
        "",
        "## By category",
        "",
        HEADER,
        *(_row(name, g) for name, g in report["by_category"].items()),
        "",
        "## By difficulty",
        "",
        HEADER,
        *(_row(name, g) for name, g in report["by_difficulty"].items()),
        "",
    ]
    if chart_name:
        lines += [f"![Pass rate by category]({chart_name})", ""]
    safety = report["safety"]
    lines += ["## Safety", ""]
    if safety["violations"]:
        lines += [f"{safety['violations']} violation(s): {safety['by_kind']}", ""]
        lines += [
            f"- `{v['case']}` (run {v['run']}): {_cell(v['violation'])}" for v in safety["list"]
        ]
    else:
        lines.append("No safety violations.")
    lines += ["", f"## Failures ({len(report['failures'])})", ""]
    if report["failures"]:
        lines += ["| case | category | run | reasons |", "|---|---|---:|---|"]
        for failure in report["failures"]:
            reasons = "<br>".join(_cell(r)[:300] for r in failure["reasons"])
            lines.append(
                f"| `{failure['case']}` | {failure['category']} | {failure['run']} | {reasons} |"
            )
    else:
        lines.append("None.")
    return "\n".join(lines) + "\n"


def write_reports(report: dict[str, Any], out: Path) -> tuple[Path, Path, Path]:
    """``out`` (JSON), and next to it the same name with ``.md`` and ``.svg``."""
    from evals.chart import pass_rate_chart

    out.parent.mkdir(parents=True, exist_ok=True)
    md_path, svg_path = out.with_suffix(".md"), out.with_suffix(".svg")
    out.write_text(json.dumps(report, indent=2, default=str) + "\n", encoding="utf-8")
    rates = {name: g["pass_at_1"] for name, g in report["by_category"].items()}
    counts = {name: g["cases"] for name, g in report["by_category"].items()}
    svg_path.write_text(
        pass_rate_chart(rates, counts, title=f"Pass@1 by category - {report['model']}"),
        encoding="utf-8",
    )
    md_path.write_text(markdown(report, svg_path.name), encoding="utf-8")
    return out, md_path, svg_path
