"""The root Typer app. Commands import the library lazily so `contentgen --help` is instant."""

from __future__ import annotations

import os
from typing import Annotated

import typer

from contentgen.cli import (
    batch,
    cache_cmd,
    clients,
    generate,
    jobs,
    models_cmd,
    serve,
    setup_cmds,
    strategies,
)

app = typer.Typer(
    name="contentgen",
    help="Generate marketing content from per-client strategies with LLMs.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)


@app.callback()
def root(
    server: Annotated[
        str | None,
        typer.Option(
            "--server", metavar="URL",
            help="Use a contentgen server (token: CONTENTGEN_TOKEN) instead of the local "
            "database; same as CONTENTGEN_SERVER_URL.",
        ),
    ] = None,
) -> None:
    """Generate marketing content from per-client strategies with LLMs."""
    if server:
        os.environ["CONTENTGEN_SERVER_URL"] = server


app.command("generate")(generate.generate)
app.command("prompt")(generate.prompt)
app.command("batch")(batch.batch)
app.command("status")(jobs.status)
app.command("jobs")(jobs.jobs)
app.command("models")(models_cmd.models)
app.command("serve")(serve.serve)
app.add_typer(serve.tokens, name="tokens")
app.add_typer(clients.app, name="clients")
app.add_typer(strategies.app, name="strategies")
app.add_typer(setup_cmds.rules, name="rules")
app.add_typer(setup_cmds.prefs, name="prefs")
app.add_typer(setup_cmds.templates, name="templates")
app.add_typer(cache_cmd.app, name="cache")


def main() -> None:
    app()
