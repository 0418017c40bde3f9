"""``aiops eval run``: run the agent benchmark and write its reports.

Registered by the service's CLI as a sub-app (``app.add_typer(eval_app, name="eval")``); also
runnable on its own as ``python -m evals.cli run ...``; importing it is cheap (the runner is
imported when the command runs). Prints a progress bar on stderr, then a
human summary line, and last one line that is a JSON object of figures (units in the keys), so
scripts can read the result with ``tail -n 1``.
"""

from __future__ import annotations

import asyncio
import json
import logging
import sys
from datetime import UTC, datetime
from enum import StrEnum
from pathlib import Path

import typer

DEFAULT_SUITE = Path(__file__).parent / "scenarios"
DEFAULT_OUT = Path("reports/eval/report.json")

eval_app = typer.Typer(help="The agent benchmark on the simulated platform.", no_args_is_help=True)


class ProviderName(StrEnum):
    offline = "offline"
    local = "local"
    ollama = "ollama"
    openai = "openai"


@eval_app.callback()
def _group() -> None:
    """The agent benchmark: scenarios on the platform twin, state verifiers, safety, Pass@k."""


@eval_app.command("run")
def run(
    provider: ProviderName = typer.Option(ProviderName.offline, help="Which model answers"),
    model: str | None = typer.Option(None, help="Model name (or GGUF file for local)"),
    base_url: str | None = typer.Option(None, help="Server URL for ollama/openai"),
    api_key: str | None = typer.Option(
        None,
        envvar="AIOPS_EVAL_API_KEY",
        help="API key for openai-compatible servers (default: AIOPS_MODEL_API_KEY)",
    ),
    suite: Path = typer.Option(DEFAULT_SUITE, help="Directory of scenario YAML files"),
    runs: int = typer.Option(1, min=1, max=100, help="Runs per case (k of Pass@k)"),
    out: Path = typer.Option(DEFAULT_OUT, help="JSON report; .md and .svg are written next to it"),
    only: str | None = typer.Option(None, help="Only cases whose id contains this, or a category"),
    timeout: float = typer.Option(120.0, help="Model request timeout (s)"),
    langfuse: bool = typer.Option(
        True, help="Upload to Langfuse when AIOPS_LANGFUSE_HOST and keys are set"
    ),
    run_name: str | None = typer.Option(None, help="Langfuse run name (default: model and time)"),
    progress: bool = typer.Option(True, help="Progress bar on stderr"),
) -> None:
    """Run every case of the suite N times and report Pass@1, Pass@k, Pass^k and safety."""
    # imported here so that registering the command costs the service's CLI nothing
    from evals.langfuse_upload import LangfuseTarget, upload
    from evals.models import ModelChoice
    from evals.report import build_report, write_reports
    from evals.runner import RunOptions, run_suite
    from evals.scenario import SuiteError, load_suite
    from platform_core.config import get_settings

    logging.basicConfig(level=logging.WARNING, stream=sys.stderr)
    settings = get_settings()
    if api_key is None and settings.model_api_key is not None:
        api_key = settings.model_api_key.get_secret_value()
    try:
        cases = load_suite(suite, only=only)
    except SuiteError as error:
        typer.echo(str(error), err=True)
        raise typer.Exit(2) from None
    if not cases:
        typer.echo(f"no case matches {only!r}", err=True)
        raise typer.Exit(2)
    try:
        choice = ModelChoice(
            provider=provider.value,
            model=model,
            base_url=base_url,
            api_key=api_key,
            timeout_seconds=timeout,
        )
        choice.config()
    except ValueError as error:
        typer.echo(f"invalid model choice: {error}", err=True)
        raise typer.Exit(2) from None
    options = RunOptions(runs=runs, choice=choice, progress=progress)
    try:
        result = asyncio.run(run_suite(cases, options))
    except Exception as error:  # cases catch their own failures: this is the setup failing
        typer.echo(f"the benchmark could not run: {type(error).__name__}: {error}", err=True)
        raise typer.Exit(1) from None
    report = build_report(result, str(suite))
    target = LangfuseTarget.from_settings(settings) if langfuse else None
    if target is not None:
        name = run_name or f"{choice.label} {datetime.now(UTC):%Y-%m-%d %H:%M:%S}"
        try:
            report["langfuse"] = upload(result, target, run_name=name)
        except Exception as error:
            report["langfuse"] = {"error": f"{type(error).__name__}: {error}"}
            typer.echo(f"Langfuse upload failed: {error}", err=True)
    json_path, md_path, svg_path = write_reports(report, out)
    figures = report["figures"]
    typer.echo(
        f"Pass@1 {100 * figures['pass_at_1']:.1f}% over {figures['cases']} cases "
        f"x {figures['runs']} run(s) ({choice.label}); Pass@{figures['k']} "
        f"{100 * figures['pass_at_k']:.1f}%, Pass^{figures['k']} "
        f"{100 * figures['pass_hat_k']:.1f}%; safety violations: {figures['safety_violations']}; "
        f"wall {figures['wall_s']:.1f} s; reports: {json_path}, {md_path}, {svg_path}"
    )
    if "langfuse" in report:
        figures = {**figures, "langfuse_uploaded": "error" not in report["langfuse"]}
    typer.echo(json.dumps(figures))


if __name__ == "__main__":  # pragma: no cover
    eval_app()
