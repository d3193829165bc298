"""`contentgen strategies ...`: versioned client strategies."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer
from rich.table import Table

from contentgen.cli.common import fail, out, print_json, run

if TYPE_CHECKING:
    from contentgen.client.local import Client

app = typer.Typer(help="Versioned client strategies.", no_args_is_help=True)
ClientArg = Annotated[str, typer.Argument(help="Client name or UUID.")]


def _load_file(path: Path) -> dict[str, Any]:
    import json

    from contentgen.client.transfer import load_yaml

    if not path.is_file():
        fail(f"file: {path} does not exist", code=2)
    text = path.read_text(encoding="utf-8")
    data = json.loads(text) if path.suffix == ".json" else load_yaml(text, str(path))
    if isinstance(data, dict) and "config" in data and isinstance(data["config"], dict):
        data = data["config"]
    return data


@app.command("set")
def set_(
    client: ClientArg,
    file: Annotated[Path | None, typer.Argument(help="Strategy as YAML or JSON.")] = None,
    name: Annotated[str, typer.Option("--name")] = "default",
    min_words: Annotated[int | None, typer.Option("--min-words")] = None,
    max_words: Annotated[int | None, typer.Option("--max-words")] = None,
    sections: Annotated[str | None, typer.Option("--sections", help="Comma-separated.")] = None,
    citation: Annotated[bool | None, typer.Option("--citation/--no-citation")] = None,
    keywords: Annotated[str | None, typer.Option("--keywords", help="Primary, comma-sep.")] = None,
    density: Annotated[float | None, typer.Option("--density", help="Keyword %.")] = None,
    meta_length: Annotated[int | None, typer.Option("--meta-length")] = None,
    formality: Annotated[str | None, typer.Option("--formality")] = None,
    voice: Annotated[str | None, typer.Option("--voice")] = None,
    engagement: Annotated[str | None, typer.Option("--engagement")] = None,
) -> None:
    """Store a new strategy version from a file, or change single fields with flags."""
    def split(s: str) -> list[str]:
        return [x.strip() for x in s.split(",") if x.strip()]

    flags: dict[str, dict[str, Any]] = {
        "content_guidelines": {"min_words": min_words, "max_words": max_words,
                               "required_sections": split(sections) if sections else None,
                               "citation_required": citation},
        "seo_focus": {"primary_keywords": split(keywords) if keywords else None,
                      "keyword_density": density, "meta_description_length": meta_length},
        "tone": {"formality": formality, "voice": voice, "engagement": engagement},
    }  # fmt: skip
    given = {s: {k: v for k, v in f.items() if v is not None} for s, f in flags.items()}
    data = _load_file(file) if file is not None else None
    if data is None and not any(given.values()):
        fail("give a strategy FILE or at least one field flag (see --help)", code=2)

    async def work(cg: Client) -> Any:
        if data is not None:
            config: dict[str, Any] = data
        else:
            current = await cg.storage.get_strategy((await cg.resolve_client(client)).id)
            config = current.config.model_dump(exclude_none=True) if current else {}
            for section, fields in given.items():
                config.setdefault(section, {}).update(fields)
        return await cg.set_strategy(client, config, name)

    strategy = run(work)
    out.print(f"strategy version {strategy.version} is active")


@app.command("show")
def show(
    client: ClientArg,
    version: Annotated[int | None, typer.Option("--version", "-v")] = None,
    as_json: Annotated[bool, typer.Option("--json")] = False,
) -> None:
    """Show the active strategy (or a given version) as YAML."""

    async def work(cg: Client) -> Any:
        return await cg.get_strategy(client, version)

    strategy = run(work)
    data = {"name": strategy.name, "version": strategy.version, "active": strategy.active,
            "config": strategy.config.model_dump(mode="json", exclude_none=True)}  # fmt: skip
    if as_json:
        print_json(data)
        return
    from contentgen.client.transfer import dump_yaml

    out.print(dump_yaml(data), markup=False, end="")


@app.command("history")
def history(client: ClientArg, as_json: Annotated[bool, typer.Option("--json")] = False) -> None:
    """Every version: when, what happened, what changed."""

    async def work(cg: Client) -> Any:
        return await cg.strategy_history(client)

    entries = run(work)
    if as_json:
        print_json([e.model_dump(mode="json") for e in entries])
        return
    table = Table("version", "date", "action", "changes")
    for e in entries:
        table.add_row(str(e.version), e.created_at.strftime("%Y-%m-%d %H:%M:%S"), e.action,
                      "\n".join(e.changes) or "-")  # fmt: skip
    out.print(table if entries else "no strategy versions yet")


@app.command("activate")
def activate(client: ClientArg, version: Annotated[int, typer.Argument()]) -> None:
    """Make an earlier (or later) version the active one."""

    async def work(cg: Client) -> Any:
        return await cg.activate_strategy(client, version)

    strategy = run(work)
    out.print(f"strategy version {strategy.version} is active")
