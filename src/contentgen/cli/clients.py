"""`contentgen clients ...`: add, list (tree), show (own vs inherited), rename, remove,
export, import."""

from __future__ import annotations

import json
import sys
import uuid
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer

from contentgen.cli.common import run, sub_app
from contentgen.cli.options import AsJson, ClientArg, input_path, read_input
from contentgen.cli.output import err, out, plain, print_json, say

if TYPE_CHECKING:
    from contentgen.client.local import Client

app = sub_app("Manage clients (agencies, brands, locations).")


@app.command("add")
def add(
    name: Annotated[
        str, typer.Argument(metavar="NAME", help="A unique name, e.g. acme-denver.")
    ],
    parent: Annotated[
        str | None,
        typer.Option("--parent", "-p", metavar="CLIENT", help="Parent client it inherits from."),
    ] = None,
    as_json: AsJson = False,
) -> None:
    """Add a client, optionally under a parent whose setup it inherits. Adding a client that
    already exists under the same parent changes nothing."""

    async def work(cg: Client) -> Any:
        from contentgen.errors import ClientNotFound, Conflict

        parent_record = await cg.resolve_client(parent) if parent is not None else None
        try:
            existing = await cg.resolve_client(name) if name.strip() else None
        except ClientNotFound:
            existing = None
        if existing is None:
            return await cg.add_client(name, parent), False
        wanted = parent_record.id if parent_record else None
        if existing.parent_id != wanted:
            where = "at the top level" if existing.parent_id is None else "under another parent"
            raise Conflict(
                f"client: {existing.name!r} already exists {where}; moving clients is not "
                "supported (choose another name)",
                field="client",
            )
        return existing, True

    client, existed = run(work)
    if as_json:
        print_json(client.model_dump(mode="json") | {"created": not existed})
    elif existed:
        say("client ", (client.name, "bold"), f" already exists ({client.id}); unchanged")
    else:
        say("added client ", (client.name, "bold"), f" ({client.id})")


@app.command("list")
def list_(as_json: AsJson = False) -> None:
    """List clients as a tree."""
    from rich.tree import Tree

    async def work(cg: Client) -> Any:
        return await cg.list_clients()

    clients = run(work)
    if as_json:
        print_json([c.model_dump(mode="json") for c in clients])
        return
    if not clients:
        say("no clients yet — add one with `contentgen clients add NAME`")
        return
    children: dict[uuid.UUID | None, list[Any]] = {}
    for c in sorted(clients, key=lambda c: c.name.lower()):
        children.setdefault(c.parent_id, []).append(c)
    root = Tree("clients")

    def grow(node: Tree, parent: uuid.UUID | None) -> None:
        for c in children.get(parent, []):
            grow(node.add(plain((c.name, "bold"), " ", (str(c.id), "dim"))), c.id)

    grow(root, None)
    out.print(root)


@app.command("show")
def show(client: ClientArg, as_json: AsJson = False) -> None:
    """Show a client's effective setup and where each field comes from."""

    async def work(cg: Client) -> Any:
        return await cg.effective_setup(client)

    setup = run(work)
    if as_json:
        print_json(setup.model_dump(mode="json"))
        return
    me = setup.client.name

    def tag(origin: str) -> tuple[str, str]:
        return ("(own)" if origin == me else f"(inherited from {origin})", "dim")

    lineage = " → ".join(c.name for c in reversed(setup.chain))
    say((me, "bold"), f" ({setup.client.id})")
    say("lineage: ", lineage)
    origin = setup.strategy_origin
    if origin:
        say(f"strategy: v{setup.strategy_version} of ", origin)
    else:
        say("strategy: none (built-in defaults)")
    for path, value in _flat(setup.config.model_dump(exclude_none=True)):
        shown = json.dumps(value, ensure_ascii=False)
        say(f"  {path}: ", shown, "  ", tag(setup.origins.get(path, "?")))
    for title, items in (("seo rules", setup.seo_rules), ("preferences", setup.preferences)):
        say(f"{title}:" + ("" if items else " -"))
        for key, item in items.items():
            say("  ", key, ": ", item.value, "  ", tag(item.origin))
    from contentgen.models import ContentType

    say("templates:")
    for ctype in ContentType:
        tpl = setup.templates.get(ctype)
        if tpl is None:
            say(f"  {ctype.value}: built-in")
        else:
            say(f"  {ctype.value}: v{tpl.version}  ", tag(setup.template_origins[ctype]))


def _flat(data: dict[str, Any], prefix: str = "") -> list[tuple[str, Any]]:
    rows: list[tuple[str, Any]] = []
    for key, value in data.items():
        if isinstance(value, dict):
            rows += _flat(value, f"{prefix}{key}.")
        else:
            rows.append((f"{prefix}{key}", value))
    return rows


@app.command("rename")
def rename(
    client: ClientArg,
    new_name: Annotated[str, typer.Argument(metavar="NEW_NAME", help="The new unique name.")],
    as_json: AsJson = False,
) -> None:
    """Rename a client (its id and history stay)."""

    async def work(cg: Client) -> Any:
        return await cg.rename_client(client, new_name)

    renamed = run(work)
    if as_json:
        print_json(renamed.model_dump(mode="json"))
        return
    say("renamed to ", (renamed.name, "bold"))


@app.command("remove")
def remove(
    client: ClientArg,
    force: Annotated[
        bool, typer.Option("--force", help="Also remove its jobs and child clients.")
    ] = False,
    as_json: AsJson = False,
) -> None:
    """Remove a client (refused while it has jobs or children, unless --force)."""

    async def work(cg: Client) -> Any:
        return await cg.remove_client(client, force=force)

    lines = run(work)
    if as_json:
        print_json({"removed": lines})
        return
    for line in lines:
        say(line)


@app.command("export")
def export(
    client: ClientArg,
    out_file: Annotated[
        Path | None,
        typer.Option("--out", "-o", metavar="FILE", help="Write to FILE instead of stdout."),
    ] = None,
    parents: Annotated[
        bool, typer.Option("--parents/--no-parents", help="Include its ancestors (default).")
    ] = True,
    children: Annotated[bool, typer.Option("--children", help="Include its descendants.")] = False,
    as_json: Annotated[
        bool, typer.Option("--json", help="Write JSON instead of YAML (import reads both).")
    ] = False,
) -> None:
    """Export a client's whole setup as YAML (stdout or --out), parents first."""
    from contentgen.client.transfer import dump_yaml, export_setup

    if out_file is not None:
        from contentgen.cli.generate import check_out_file

        check_out_file(out_file)

    async def work(cg: Client) -> Any:
        return await export_setup(cg, client, parents=parents, children=children)

    data = run(work)
    text = json.dumps(data, indent=2, default=str) + "\n" if as_json else dump_yaml(data)
    if out_file is None:
        sys.stdout.write(text)
    else:
        out_file.write_text(text, encoding="utf-8")
        err.print(plain("wrote ", str(out_file)))


@app.command("import")
def import_(
    file: Annotated[Path, input_path("A YAML (or JSON) file from `clients export`.")],
    as_json: AsJson = False,
) -> None:
    """Import clients' setups from YAML (idempotent)."""
    from contentgen.client.transfer import import_setup, load_yaml

    text = read_input(file)

    async def work(cg: Client) -> Any:
        return await import_setup(cg, load_yaml(text, str(file)))

    lines = run(work)
    if as_json:
        print_json({"changes": lines})
        return
    for line in lines:
        say(line)
