"""`contentgen keys ...`: provider keys kept in the data dir (file mode 0600), read like the
environment variables (the environment wins). Values are never printed."""

from __future__ import annotations

import sys
from typing import Annotated

import typer

from contentgen.cli.common import load_settings, sub_app
from contentgen.cli.options import AsJson
from contentgen.cli.output import out, print_json, say

app = sub_app(
    "Provider keys stored in the data dir (mode 0600); the environment wins over them."
)

Provider = Annotated[
    str,
    typer.Argument(
        metavar="PROVIDER",
        help="A provider (openai, anthropic, gemini, ...), a catalogue endpoint, or a key "
        "variable name.",
    ),
]


def _endpoint_keys() -> dict[str, str]:
    from contentgen.llm.catalogue import load_catalogue

    catalogue = load_catalogue(load_settings())
    return {name: e.key_env for name, e in catalogue.endpoints.items() if e.key_env}


def _read_key(variable: str) -> str:
    """The key from a hidden prompt on a terminal, else the first line of stdin."""
    if sys.stdin.isatty():
        import getpass

        return getpass.getpass(f"{variable} (input hidden): ")
    return sys.stdin.readline()


@app.command("set")
def set_(provider: Provider, as_json: AsJson = False) -> None:
    """Store a provider's key: typed at a hidden prompt, or piped on stdin."""
    import os

    from contentgen.llm.keys import check_value, read_keys, variable_for, write_keys

    settings = load_settings()
    variable = variable_for(provider, _endpoint_keys())
    key = check_value(_read_key(variable))
    keys = read_keys(settings.home)
    keys[variable] = key
    write_keys(settings.home, keys)
    shadowed = bool(os.environ.get(variable))
    if as_json:
        print_json({"provider": provider, "variable": variable, "stored": True,
                    "overridden_by_environment": shadowed})  # fmt: skip
        return
    say("stored ", (variable, "bold"), " in the data dir")
    if shadowed:
        say((f"note: {variable} is also set in the environment, which wins", "yellow"),
            to_err=True)  # fmt: skip


@app.command("remove")
def remove(provider: Provider, as_json: AsJson = False) -> None:
    """Remove a stored key (the environment is not touched)."""
    from contentgen.llm.keys import read_keys, variable_for, write_keys

    settings = load_settings()
    variable = variable_for(provider, _endpoint_keys())
    keys = read_keys(settings.home)
    removed = keys.pop(variable, None) is not None
    if removed:
        write_keys(settings.home, keys)
    if as_json:
        print_json({"provider": provider, "variable": variable, "removed": removed})
    elif removed:
        say("removed ", (variable, "bold"))
    else:
        say(variable, " was not stored; nothing removed")


@app.command("list")
def list_(as_json: AsJson = False) -> None:
    """Show which keys are set and where (environment or keys file), never their values."""
    from rich.table import Table

    from contentgen.llm.keys import describe_keys, key_file

    settings = load_settings()
    rows = describe_keys(settings.home, _endpoint_keys())
    if as_json:
        print_json([{"provider": r.provider, "variable": r.variable, "set": r.source is not None,
                     "source": r.source} for r in rows])  # fmt: skip
        return
    table = Table("provider", "variable", "set", "from", box=None, pad_edge=False)
    for r in rows:
        table.add_row(r.provider, r.variable, "yes" if r.source else "no", r.source or "-")
    out.print(table)
    say(f"keys file: {key_file(settings.home)}")
