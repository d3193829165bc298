"""`contentgen rules|prefs|templates ...`: SEO rules, content preferences, prompt templates."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer
from rich.markup import escape
from rich.table import Table

from contentgen.cli.common import fail, out, print_json, run

if TYPE_CHECKING:
    from contentgen.client.local import Client

ClientArg = Annotated[str, typer.Argument(help="Client name or UUID.")]
rules = typer.Typer(help="SEO rules per client (inherited by child clients).", no_args_is_help=True)
prefs = typer.Typer(help="Content preferences per client (key = value).", no_args_is_help=True)
templates = typer.Typer(help="Prompt templates per client and content type (versioned).",
                        no_args_is_help=True)  # fmt: skip


@rules.command("set")
def rules_set(client: ClientArg, name: str, rule: str) -> None:
    """Add or replace the rule NAME, e.g. `rules set acme title "Titles under 60 chars"`."""

    async def work(cg: Client) -> Any:
        return await cg.set_seo_rule(client, name, rule)

    run(work)
    out.print(f"rule {name!r} set")


@rules.command("remove")
def rules_remove(client: ClientArg, name: str) -> None:
    """Remove the client's own rule NAME."""

    async def work(cg: Client) -> Any:
        return await cg.remove_seo_rule(client, name)

    if not run(work):
        fail(f"rule: {client} has no rule named {name!r}")
    out.print(f"rule {name!r} removed")


@prefs.command("set")
def prefs_set(client: ClientArg, key: str, value: str) -> None:
    """Set a preference, e.g. `prefs set acme avoid "jargon, exclamation marks"`."""

    async def work(cg: Client) -> Any:
        return await cg.set_preference(client, key, value)

    run(work)
    out.print(f"preference {key!r} set")


@prefs.command("remove")
def prefs_remove(client: ClientArg, key: str) -> None:
    """Remove the client's own preference KEY."""

    async def work(cg: Client) -> Any:
        return await cg.remove_preference(client, key)

    if not run(work):
        fail(f"preference: {client} has no preference {key!r}")
    out.print(f"preference {key!r} removed")


def _effective_list(kind: str, client: str, as_json: bool) -> None:
    async def work(cg: Client) -> Any:
        return await cg.effective_setup(client)

    setup = run(work)
    items = setup.seo_rules if kind == "rules" else setup.preferences
    if as_json:
        print_json({k: v.model_dump() for k, v in items.items()})
        return
    table = Table("name" if kind == "rules" else "key", "value", "from")
    for key, item in items.items():
        table.add_row(escape(key), escape(item.value), escape(item.origin))
    out.print(table if items else f"no {kind} (own or inherited)")


@rules.command("list")
def rules_list(client: ClientArg, as_json: Annotated[bool, typer.Option("--json")] = False) -> None:
    """The client's effective rules, with the client each comes from."""
    _effective_list("rules", client, as_json)


@prefs.command("list")
def prefs_list(client: ClientArg, as_json: Annotated[bool, typer.Option("--json")] = False) -> None:
    """The client's effective preferences, with the client each comes from."""
    _effective_list("preferences", client, as_json)


@templates.command("set")
def templates_set(
    client: ClientArg,
    content_type: Annotated[str, typer.Argument(help="blog | social | local")],
    file: Annotated[Path, typer.Argument(help="A jinja2 template file.")],
) -> None:
    """Store a new template version (validated: syntax and variables; see docs/strategies.md)."""
    if not file.is_file():
        fail(f"file: {file} does not exist", code=2)
    body = file.read_text(encoding="utf-8")

    async def work(cg: Client) -> Any:
        return await cg.set_template(client, content_type, body)

    tpl = run(work)
    out.print(f"{tpl.content_type.value} template v{tpl.version} is active")


@templates.command("list")
def templates_list(client: ClientArg) -> None:
    """The client's own template versions."""

    async def work(cg: Client) -> Any:
        return await cg.list_templates(client)

    found = run(work)
    table = Table("type", "version", "active", "created", "first line")
    for t in found:
        created = t.created_at.strftime("%Y-%m-%d %H:%M")
        first = escape(t.body.splitlines()[0][:50])
        table.add_row(t.content_type.value, f"v{t.version}", "yes" if t.active else "",
                      created, first)  # fmt: skip
    out.print(table if found else "no own templates (built-in or inherited ones apply)")


@templates.command("variables")
def templates_variables() -> None:
    """The variables a template may use."""
    from contentgen.instructions.templates import TEMPLATE_VARIABLES

    for name in sorted(TEMPLATE_VARIABLES):
        out.print(name)
