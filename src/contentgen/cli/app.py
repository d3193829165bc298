"""The root Typer app. Commands import the library lazily so `contentgen --help` is instant.

The root group (``ContentgenGroup``, cli/common.py) prints every failure as one line (or one
JSON object with ``--json``); shell completion comes from Typer (``--install-completion``,
``--show-completion``).
"""

from __future__ import annotations

import os
import sys
from collections.abc import Sequence
from typing import Annotated, Any

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

ROOT: dict[str, Any] = {
    "name": "contentgen",
    "cls": ContentgenGroup,
    "help": "Generate marketing content from per-client strategies with LLMs.",
    "no_args_is_help": True,
    "add_completion": True,
    "pretty_exceptions_enable": False,
    "rich_markup_mode": None,
    "context_settings": {"help_option_names": ["--help", "-h"], "max_content_width": 100},
}
app = typer.Typer(**ROOT)


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


def invoked_command(argv: Sequence[str]) -> str | None:
    """The command a command line runs (``jobs`` in ``--server URL jobs list``), or None when
    the root itself does the work (no command, ``--help``, ``--version``, completion) or the
    name is not a command (the whole app then says so, with suggestions)."""
    if os.environ.get("_CONTENTGEN_COMPLETE"):
        return None
    args = iter(argv)
    for arg in args:
        if arg == "--server":
            next(args, None)
        elif not arg.startswith("--server="):
            names = {c.name for c in app.registered_commands}
            names |= {g.name for g in app.registered_groups}
            return arg if arg in names else None
    return None


def only(command: str) -> typer.Typer:
    """The root app with just ``command``: Typer inspects every function of the app it runs
    and builds its parameters before parsing (about 45 ms for the whole tree, a fifth of a
    command's start-up); the rest of the tree is built only for root help and completion."""
    slim = typer.Typer(**ROOT)
    slim.registered_callback = app.registered_callback
    slim.registered_commands = [c for c in app.registered_commands if c.name == command]
    slim.registered_groups = [g for g in app.registered_groups if g.name == command]
    return slim


def main() -> None:
    # pydantic looks for plugins in every installed distribution's entry points before it
    # builds the first model (~40 ms of each command); the CLI loads none unless the
    # variable is set (an empty value enables them again)
    os.environ.setdefault("PYDANTIC_DISABLE_PLUGINS", "__all__")
    command = invoked_command(sys.argv[1:])
    (only(command) if command else app)()
