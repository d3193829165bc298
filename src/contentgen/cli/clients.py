"""`contentgen clients ...`: add, list (tree), show (own vs inherited), rename, remove,
export, import."""

from __future__ import annotations

import json
import sys
import uuid
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer
from rich.markup import escape
from rich.tree import Tree

from contentgen.cli.common import err, fail, out, print_json, run

if TYPE_CHECKING:
    from contentgen.client.local import Client

app = typer.Typer(help="Manage clients (agencies, brands, locations).", no_args_is_help=True)
ClientArg = Annotated[str, typer.Argument(help="Client name or UUID.")]


@app.command("add")
def add(
    name: Annotated[str, typer.Argument(help="A unique name, e.g. acme-denver.")],
    parent: Annotated[str | None, typer.Option("--parent", "-p", help="Parent client.")] = None,
) -> None:
    """Add a client, optionally under a parent whose setup it inherits."""

    async def work(cg: Client) -> Any:
        return await cg.add_client(name, parent)

    client = run(work)
    out.print(f"added client [bold]{escape(client.name)}[/bold] ({client.id})")


@app.command("list")
def list_(as_json: Annotated[bool, typer.Option("--json")] = False) -> None:
    """List clients as a tree."""

    async def work(cg: Client) -> Any:
        return await cg.list_clients()

    clients = run(work)
    if as_json:
        print_json([c.model_dump(mode="json") for c in clients])
        return
    if not clients:
        out.print("no clients yet — add one with `contentgen clients add NAME`")
        return
    children: dict[uuid.UUID | None, list[Any]] = {}
    for c in sorted(clients, key=lambda c: c.name.lower()):
        children.setdefault(c.parent_id, []).append(c)
    root = Tree("clients")

    def grow(node: Tree, parent: uuid.UUID | None) -> None:
        for c in children.get(parent, []):
            grow(node.add(f"[bold]{escape(c.name)}[/bold] [dim]{c.id}[/dim]"), c.id)

    grow(root, None)
    out.print(root)


@app.command("show")
def show(client: ClientArg, as_json: Annotated[bool, typer.Option("--json")] = False) -> None:
    """Show a client's effective setup and where each field comes from."""

    async def work(cg: Client) -> Any:
        return await cg.effective_setup(client)

    setup = run(work)
    if as_json:
        print_json(setup.model_dump(mode="json"))
        return
    me = setup.client.name

    def tag(origin: str) -> str:
        where = "own" if origin == me else f"inherited from {escape(origin)}"
        return f"[dim]({where})[/dim]"

    lineage = " → ".join(c.name for c in reversed(setup.chain))
    out.print(f"[bold]{escape(me)}[/bold] ({setup.client.id})\nlineage: {escape(lineage)}")
    origin = setup.strategy_origin
    out.print(f"strategy: v{setup.strategy_version} of {escape(origin)}" if origin else
              "strategy: none (built-in defaults)")  # fmt: skip
    for path, value in _flat(setup.config.model_dump(exclude_none=True)):
        shown = escape(json.dumps(value, ensure_ascii=False))
        out.print(f"  {path}: {shown}  {tag(setup.origins.get(path, '?'))}")
    for title, items in (("seo rules", setup.seo_rules), ("preferences", setup.preferences)):
        out.print(f"{title}:" + ("" if items else " -"))
        for key, item in items.items():
            out.print(f"  {escape(key)}: {escape(item.value)}  {tag(item.origin)}")
    from contentgen.models import ContentType

    out.print("templates:")
    for ctype in ContentType:
        tpl = setup.templates.get(ctype)
        if tpl is None:
            out.print(f"  {ctype.value}: built-in")
        else:
            out.print(f"  {ctype.value}: v{tpl.version}  {tag(setup.template_origins[ctype])}")


def _flat(data: dict[str, Any], prefix: str = "") -> list[tuple[str, Any]]:
    rows: list[tuple[str, Any]] = []
    for key, value in data.items():
        if isinstance(value, dict):
            rows += _flat(value, f"{prefix}{key}.")
        else:
            rows.append((f"{prefix}{key}", value))
    return rows


@app.command("rename")
def rename(client: ClientArg, new_name: Annotated[str, typer.Argument()]) -> None:
    """Rename a client (its id and history stay)."""

    async def work(cg: Client) -> Any:
        return await cg.rename_client(client, new_name)

    renamed = run(work)
    out.print(f"renamed to [bold]{renamed.name}[/bold]")


@app.command("remove")
def remove(
    client: ClientArg,
    force: Annotated[
        bool, typer.Option("--force", help="Also remove its jobs and child clients.")
    ] = False,
) -> None:
    """Remove a client (refused while it has jobs or children, unless --force)."""

    async def work(cg: Client) -> Any:
        return await cg.remove_client(client, force=force)

    for line in run(work):
        out.print(line, markup=False)


@app.command("export")
def export(
    client: ClientArg,
    out_file: Annotated[Path | None, typer.Option("--out", "-o")] = None,
    parents: Annotated[
        bool, typer.Option("--parents/--no-parents", help="Include its ancestors (default).")
    ] = True,
    children: Annotated[bool, typer.Option("--children", help="Include its descendants.")] = False,
) -> None:
    """Export a client's whole setup as YAML (stdout or --out), parents first."""
    from contentgen.client.transfer import dump_yaml, export_setup

    async def work(cg: Client) -> Any:
        return await export_setup(cg, client, parents=parents, children=children)

    text = dump_yaml(run(work))
    if out_file is None:
        sys.stdout.write(text)
    else:
        out_file.write_text(text, encoding="utf-8")
        err.print(f"wrote {out_file}")


@app.command("import")
def import_(
    file: Annotated[Path, typer.Argument(help="A YAML file from `clients export`.")],
) -> None:
    """Import clients' setups from YAML (idempotent)."""
    from contentgen.client.transfer import import_setup, load_yaml

    if not file.is_file():
        fail(f"file: {file} does not exist", code=2)
    text = file.read_text(encoding="utf-8")

    async def work(cg: Client) -> Any:
        return await import_setup(cg, load_yaml(text, str(file)))

    for line in run(work):
        out.print(line, markup=False)
