"""`contentgen rules|prefs|templates ...`: SEO rules, content preferences, prompt templates."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer

from contentgen.cli.common import fail, run, sub_app
from contentgen.cli.options import AsJson, ClientArg, ContentTypeName, input_path, read_input
from contentgen.cli.output import out, print_json, say

if TYPE_CHECKING:
    from contentgen.client.local import Client

rules = sub_app("SEO rules per client (inherited by child clients).")
prefs = sub_app("Content preferences per client (key = value).")
templates = sub_app("Prompt templates per client and content type (versioned).")

RuleName = Annotated[str, typer.Argument(metavar="NAME", help="The rule's name, e.g. title.")]
PrefKey = Annotated[str, typer.Argument(metavar="KEY", help="The preference, e.g. avoid.")]


def _done(as_json: bool, data: dict[str, Any], *line: Any) -> None:
    if as_json:
        print_json(data)
    else:
        say(*line)


@rules.command("set")
def rules_set(
    client: ClientArg,
    name: RuleName,
    rule: Annotated[str, typer.Argument(metavar="RULE", help="The rule, in plain words.")],
    as_json: AsJson = False,
) -> None:
    """Add or replace the rule NAME, e.g. `rules set acme title "Titles under 60 chars"`."""

    async def work(cg: Client) -> Any:
        return await cg.set_seo_rule(client, name, rule)

    run(work)
    _done(as_json, {"name": name, "rule": rule, "set": True}, f"rule {name!r} set")


@rules.command("remove")
def rules_remove(client: ClientArg, name: RuleName, as_json: AsJson = False) -> None:
    """Remove the client's own rule NAME."""

    async def work(cg: Client) -> Any:
        return await cg.remove_seo_rule(client, name)

    if not run(work):
        fail(f"rule: {client} has no rule named {name!r}", field="rule")
    _done(as_json, {"name": name, "removed": True}, f"rule {name!r} removed")


@prefs.command("set")
def prefs_set(
    client: ClientArg,
    key: PrefKey,
    value: Annotated[str, typer.Argument(metavar="VALUE", help="The preference's value.")],
    as_json: AsJson = False,
) -> None:
    """Set a preference, e.g. `prefs set acme avoid "jargon, exclamation marks"`."""

    async def work(cg: Client) -> Any:
        return await cg.set_preference(client, key, value)

    run(work)
    _done(as_json, {"key": key, "value": value, "set": True}, f"preference {key!r} set")


@prefs.command("remove")
def prefs_remove(client: ClientArg, key: PrefKey, as_json: AsJson = False) -> None:
    """Remove the client's own preference KEY."""

    async def work(cg: Client) -> Any:
        return await cg.remove_preference(client, key)

    if not run(work):
        fail(f"preference: {client} has no preference {key!r}", field="preference")
    _done(as_json, {"key": key, "removed": True}, f"preference {key!r} removed")


def _effective_list(kind: str, client: str, as_json: bool) -> None:
    from rich.table import Table

    async def work(cg: Client) -> Any:
        return await cg.effective_setup(client)

    setup = run(work)
    items = setup.seo_rules if kind == "rules" else setup.preferences
    if as_json:
        print_json({k: v.model_dump() for k, v in items.items()})
        return
    table = Table("name" if kind == "rules" else "key", "value", "from")
    for key, item in items.items():
        table.add_row(key, item.value, item.origin)
    out.print(table if items else f"no {kind} (own or inherited)")


@rules.command("list")
def rules_list(client: ClientArg, as_json: AsJson = False) -> None:
    """The client's effective rules, with the client each comes from."""
    _effective_list("rules", client, as_json)


@prefs.command("list")
def prefs_list(client: ClientArg, as_json: AsJson = False) -> None:
    """The client's effective preferences, with the client each comes from."""
    _effective_list("preferences", client, as_json)


@templates.command("set")
def templates_set(
    client: ClientArg,
    content_type: Annotated[
        ContentTypeName, typer.Argument(metavar="TYPE", help="blog, social or local.")
    ],
    file: Annotated[Path, input_path("A jinja2 template file.")],
    as_json: AsJson = False,
) -> None:
    """Store a new template version (validated: syntax and variables; see docs/strategies.md)."""
    body = read_input(file)

    async def work(cg: Client) -> Any:
        return await cg.set_template(client, content_type, body)

    tpl = run(work)
    _done(as_json, tpl.model_dump(mode="json"),
          f"{tpl.content_type.value} template v{tpl.version} is active")  # fmt: skip


@templates.command("list")
def templates_list(client: ClientArg, as_json: AsJson = False) -> None:
    """The client's own template versions."""
    from rich.table import Table

    async def work(cg: Client) -> Any:
        return await cg.list_templates(client)

    found = run(work)
    if as_json:
        print_json([t.model_dump(mode="json") for t in found])
        return
    table = Table("type", "version", "active", "created", "first line")
    for t in found:
        created = t.created_at.strftime("%Y-%m-%d %H:%M")
        first = (t.body.splitlines() or [""])[0][:50]
        table.add_row(t.content_type.value, f"v{t.version}", "yes" if t.active else "",
                      created, first)  # fmt: skip
    out.print(table if found else "no own templates (built-in or inherited ones apply)")


@templates.command("variables")
def templates_variables(as_json: AsJson = False) -> None:
    """The variables a template may use."""
    from contentgen.instructions.templates import TEMPLATE_VARIABLES

    names = sorted(TEMPLATE_VARIABLES)
    if as_json:
        print_json(names)
        return
    for name in names:
        say(name)
