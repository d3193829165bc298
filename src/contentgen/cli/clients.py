"""`contentgen clients ...`: add, list (tree), show (own vs inherited), rename, remove,
export, import."""

from __future__ import annotations

import uuid
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer
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
    out.print(f"added client [bold]{client.name}[/bold] ({client.id})")


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
            grow(node.add(f"[bold]{c.name}[/bold] [dim]{c.id}[/dim]"), c.id)

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
    lineage = " → ".join(c.name for c in reversed(setup.chain))
    out.print(f"[bold]{me}[/bold] ({setup.client.id})\nlineage: {lineage}")
    out.print(f"strategy: v{setup.strategy_version} from {setup.strategy_origin or '-'}")
    for path, value in _flat(setup.config.model_dump(exclude_none=True)):
        origin = setup.origins.get(path, "?")
        tag = "own" if origin == me else f"inherited from {origin}"
        out.print(f"  {path} = {value!r}  [dim]({tag})[/dim]")
    for title, items in (("seo rules", setup.seo_rules), ("preferences", setup.preferences)):
        out.print(f"{title}:" + ("" if items else " -"))
        for key, item in items.items():
            tag = "own" if item.origin == me else f"inherited from {item.origin}"
            out.print(f"  {key}: {item.value}  [dim]({tag})[/dim]")
    out.print("templates:" + ("" if setup.templates else " built-in"))
    for ctype, tpl in setup.templates.items():
        origin = setup.template_origins[ctype]
        tag = "own" if origin == me else f"inherited from {origin}"
        out.print(f"  {ctype.value}: v{tpl.version}  [dim]({tag})[/dim]")


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
        out.print(line)


@app.command("export")
def export(
    client: ClientArg,
    out_file: Annotated[Path | None, typer.Option("--out", "-o")] = None,
) -> None:
    """Export a client's whole setup as YAML (stdout or --out)."""
    from contentgen.client.transfer import dump_yaml, export_setup

    async def work(cg: Client) -> Any:
        return await export_setup(cg, client)

    text = dump_yaml(run(work))
    if out_file is None:
        out.print(text, markup=False, end="")
    else:
        out_file.write_text(text, encoding="utf-8")
        err.print(f"wrote {out_file}")


@app.command("import")
def import_(file: Annotated[Path, typer.Argument(help="A YAML file from `clients export`.")]) -> None:
    """Import clients' setups from YAML (idempotent)."""
    from contentgen.client.transfer import import_setup, load_yaml

    if not file.is_file():
        fail(f"file: {file} does not exist", code=2)
    data = load_yaml(file.read_text(encoding="utf-8"), str(file))

    async def work(cg: Client) -> Any:
        return await import_setup(cg, data)

    for line in run(work):
        out.print(line)
