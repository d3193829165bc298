"""The root Typer app. Commands import the library lazily so `contentgen --help` is instant."""

from __future__ import annotations

import typer

from contentgen.cli import clients, generate, jobs, models_cmd

app = typer.Typer(
    name="contentgen",
    help="Generate marketing content from per-client strategies with LLMs.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)
app.command("generate")(generate.generate)
app.command("prompt")(generate.prompt)
app.command("status")(jobs.status)
app.command("jobs")(jobs.jobs)
app.command("models")(models_cmd.models)
app.add_typer(clients.app, name="clients")


def main() -> None:
    app()
