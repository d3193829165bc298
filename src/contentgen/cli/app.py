"""The root Typer app. Commands import the library lazily so `contentgen --help` is instant.

The root group (``ContentgenGroup``, cli/common.py) prints every failure as one line (or one
JSON object with ``--json``); shell completion comes from Typer (``--install-completion``,
``--show-completion``).
"""

from __future__ import annotations

import os
from typing import Annotated

import typer

from contentgen.cli import (
    batch,
    budgets_cmd,
    cache_cmd,
    check_cmd,
    clients,
    db_cmd,
    generate,
    jobs,
    keys_cmd,
    models_cmd,
    serve,
    settings_cmd,
    setup_cmds,
    strategies,
    usage_cmd,
    worker_cmd,
)
from contentgen.cli.common import ContentgenGroup

app = typer.Typer(
    name="contentgen",
    cls=ContentgenGroup,
    help="Generate marketing content from per-client strategies with LLMs.",
    no_args_is_help=True,
    add_completion=True,
    pretty_exceptions_enable=False,
    rich_markup_mode=None,
    context_settings={"help_option_names": ["--help", "-h"], "max_content_width": 100},
)


def _version(value: bool) -> None:
    if value:
        from contentgen import __version__

        typer.echo(f"contentgen {__version__}")
        raise typer.Exit()


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
    version: Annotated[
        bool,
        typer.Option(
            "--version",
            "-V",
            callback=_version,
            is_eager=True,
            help="Print the version and exit.",
        ),
    ] = False,
) -> None:
    """Generate marketing content from per-client strategies with LLMs."""
    if server:
        os.environ["CONTENTGEN_SERVER_URL"] = server


app.command("generate")(generate.generate)
app.command("prompt")(generate.prompt)
app.command("batch")(batch.batch)
app.command("status")(jobs.status)
app.add_typer(worker_cmd.jobs_app, name="jobs")
app.command("worker")(worker_cmd.worker)
app.command("models")(models_cmd.models)
app.command("serve")(serve.serve)
app.add_typer(serve.tokens, name="tokens")
app.command("check")(check_cmd.check)
app.command("settings")(settings_cmd.settings)
app.add_typer(clients.app, name="clients")
app.add_typer(strategies.app, name="strategies")
app.add_typer(setup_cmds.rules, name="rules")
app.add_typer(setup_cmds.prefs, name="prefs")
app.add_typer(setup_cmds.templates, name="templates")
app.add_typer(cache_cmd.app, name="cache")
app.add_typer(db_cmd.app, name="db")
app.add_typer(budgets_cmd.app, name="budgets")
app.command("usage")(usage_cmd.usage)
app.add_typer(keys_cmd.app, name="keys")


def main() -> None:
    app()
