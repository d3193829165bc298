"""`contentgen settings`: the effective settings and where each value came from."""

from __future__ import annotations

from contentgen.cli.common import load_settings
from contentgen.cli.options import AsJson
from contentgen.cli.output import out, print_json, say


def settings(as_json: AsJson = False) -> None:
    """Show every setting's effective value and its origin (environment, .env,
    contentgen.toml or default); secrets are masked. README.md lists what each one takes."""
    from rich.table import Column, Table

    from contentgen.settings_report import effective_settings

    views = effective_settings(load_settings())
    if as_json:
        print_json([v.as_dict() for v in views])
        return
    # values wrap rather than lose their end (a database URL, a catalogue path)
    table = Table("variable", Column("value", overflow="fold"), "from", box=None,
                  pad_edge=False)  # fmt: skip
    for v in views:
        value = v.value
        shown = "" if value is None else value if isinstance(value, str) else _json(value)
        table.add_row(v.env, shown, v.origin)
    out.print(table)
    from contentgen.settings import Settings
    from contentgen.settings_sources import unknown_variables

    unknown = unknown_variables(Settings.model_fields)
    if unknown:
        say(("ignored (no such setting): " + ", ".join(unknown), "yellow"), to_err=True)


def _json(value: object) -> str:
    import json

    return json.dumps(value)
