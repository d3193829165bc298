"""`contentgen strategies ...`: versioned client strategies."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer
from rich.markup import escape
from rich.table import Table

from contentgen.cli.common import fail, out, print_json, run

if TYPE_CHECKING:
    from contentgen.client.local import Client

app = typer.Typer(help="Versioned client strategies.", no_args_is_help=True)
ClientArg = Annotated[str, typer.Argument(help="Client name or UUID.")]
_SHOW_KEYS = {"name", "version", "active", "config"}  # what `strategies show` prints


def _parse_file(path: Path, text: str) -> tuple[str | None, Any]:
    """(name, config) from a strategy file: a bare config, or `strategies show` output."""
    import json

    from contentgen.client.transfer import load_yaml
    from contentgen.errors import InvalidInput

    if path.suffix.lower() == ".json":
        try:
            data = json.loads(text)
        except json.JSONDecodeError as exc:
            raise InvalidInput(f"{path}: line {exc.lineno}: not valid JSON ({exc.msg})") from exc
    else:
        data = load_yaml(text, str(path))
    if isinstance(data, dict) and "config" in data and set(data) <= _SHOW_KEYS:
        name = data.get("name")
        return (str(name) if name else None), data["config"]
    return None, data


@app.command("set")
def set_(
    client: ClientArg,
    file: Annotated[Path | None, typer.Argument(help="Strategy as YAML or JSON.")] = None,
    name: Annotated[str | None, typer.Option("--name", help="Label of the version.")] = None,
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
    """Store a new strategy version: a whole FILE, or the active one with single fields changed
    by flags (flags also apply on top of a FILE). Unchanged: no new version."""

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
    if file is None and not any(given.values()):
        fail("give a strategy FILE or at least one field flag (see --help)", code=2)
    if file is not None and not file.is_file():
        fail(f"file: {file} does not exist", code=2)
    text = file.read_text(encoding="utf-8") if file is not None else None

    async def work(cg: Client) -> Any:
        from contentgen.client.setup_api import parse_strategy

        current = await cg.storage.get_strategy((await cg.resolve_client(client)).id)
        if file is not None and text is not None:
            file_name, config = _parse_file(file, text)
            config = parse_strategy(config).model_dump(exclude_none=True)
        else:
            file_name = None
            config = current.config.model_dump(exclude_none=True) if current else {}
        for section, fields in given.items():
            config.setdefault(section, {}).update(fields)
        label = name or file_name or (current.name if current else "default")
        return current, await cg.set_strategy(client, config, label)

    before, strategy = run(work)
    if before is not None and before.id == strategy.id:
        out.print(f"unchanged: strategy version {strategy.version} stays active")
    else:
        out.print(f"strategy version {strategy.version} is active")


@app.command("show")
def show(
    client: ClientArg,
    version: Annotated[int | None, typer.Option("--version", "-v")] = None,
    as_json: Annotated[bool, typer.Option("--json")] = False,
) -> None:
    """Show the active strategy (or a given version) as YAML (`strategies set` reads it back)."""

    async def work(cg: Client) -> Any:
        return await cg.get_strategy(client, version)

    from contentgen.client.setup_api import config_data

    strategy = run(work)
    data = {"name": strategy.name, "version": strategy.version, "active": strategy.active,
            "config": config_data(strategy.config)}  # fmt: skip
    if as_json:
        print_json(data)
        return
    from contentgen.client.transfer import dump_yaml

    sys.stdout.write(dump_yaml(data))


@app.command("list")
def list_(client: ClientArg) -> None:
    """Every stored version of the client's strategy, the active one marked."""

    async def work(cg: Client) -> Any:
        return await cg.list_strategies(client)

    versions = run(work)
    table = Table("version", "name", "active", "created")
    for s in versions:
        table.add_row(str(s.version), escape(s.name), "yes" if s.active else "",
                      s.created_at.strftime("%Y-%m-%d %H:%M:%S"))  # fmt: skip
    out.print(table if versions else "no strategy versions yet")


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
                      escape("\n".join(e.changes)) or "-")  # fmt: skip
    out.print(table if entries else "no strategy versions yet")


@app.command("activate")
def activate(client: ClientArg, version: Annotated[int, typer.Argument()]) -> None:
    """Make an earlier (or later) version the active one."""

    async def work(cg: Client) -> Any:
        return await cg.activate_strategy(client, version)

    strategy = run(work)
    out.print(f"strategy version {strategy.version} is active")
