"""`contentgen strategies ...`: versioned client strategies."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer

from contentgen.cli.common import fail, run, sub_app
from contentgen.cli.options import AsJson, ClientArg, input_path, read_input
from contentgen.cli.output import out, print_json, say

if TYPE_CHECKING:
    from contentgen.client.local import Client

app = sub_app("Versioned client strategies.")
_SHOW_KEYS = {"name", "version", "active", "config"}  # what `strategies show` prints


def _parse_file(path: Path, text: str) -> tuple[str | None, Any]:
    """(name, config) from a strategy file: a bare config, or `strategies show` output."""
    import json

    from contentgen.client.transfer import load_yaml
    from contentgen.errors import InvalidInput

    if path.suffix.lower() == ".json" or (str(path) == "-" and text.lstrip().startswith("{")):
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


def _opt(name: str, metavar: str, help_text: str) -> Any:
    return typer.Option(name, metavar=metavar, help=help_text)


@app.command("set")
def set_(
    client: ClientArg,
    file: Annotated[
        Path | None, input_path("Strategy as YAML or JSON (as `strategies show` prints it).")
    ] = None,
    name: Annotated[str | None, _opt("--name", "LABEL", "Label of the new version.")] = None,
    min_words: Annotated[int | None, _opt("--min-words", "N", "Shortest piece, words.")] = None,
    max_words: Annotated[int | None, _opt("--max-words", "N", "Longest piece, words.")] = None,
    sections: Annotated[
        str | None, _opt("--sections", "LIST", "Required sections, comma-separated.")
    ] = None,
    citation: Annotated[
        bool | None,
        typer.Option("--citation/--no-citation", help="Ask (or not) for sources for facts."),
    ] = None,
    keywords: Annotated[
        str | None, _opt("--keywords", "LIST", "Primary keywords, comma-separated.")
    ] = None,
    density: Annotated[
        float | None, _opt("--density", "PERCENT", "Target keyword density, 0-10 %.")
    ] = None,
    meta_length: Annotated[
        int | None, _opt("--meta-length", "N", "Meta description length, 50-500 chars.")
    ] = None,
    formality: Annotated[
        str | None, _opt("--formality", "TEXT", "Tone: e.g. professional, casual.")
    ] = None,
    voice: Annotated[str | None, _opt("--voice", "TEXT", "Tone: e.g. friendly, expert.")] = None,
    engagement: Annotated[
        str | None, _opt("--engagement", "TEXT", "Tone: e.g. informative, playful.")
    ] = None,
    as_json: AsJson = False,
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
    text = read_input(file) if file is not None else None

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
    changed = before is None or before.id != strategy.id
    if as_json:
        print_json(_strategy_data(strategy) | {"changed": changed})
    elif changed:
        say(f"strategy version {strategy.version} is active")
    else:
        say(f"unchanged: strategy version {strategy.version} stays active")


def _strategy_data(strategy: Any) -> dict[str, Any]:
    from contentgen.client.setup_api import config_data

    return {"name": strategy.name, "version": strategy.version, "active": strategy.active,
            "config": config_data(strategy.config)}  # fmt: skip


@app.command("show")
def show(
    client: ClientArg,
    version: Annotated[
        int | None, typer.Option("--version", "-v", metavar="N", help="This version instead.")
    ] = None,
    as_json: AsJson = False,
) -> None:
    """Show the active strategy (or a given version) as YAML (`strategies set` reads it back)."""

    async def work(cg: Client) -> Any:
        return await cg.get_strategy(client, version)

    strategy = run(work)
    data = _strategy_data(strategy)
    if as_json:
        print_json(data)
        return
    from contentgen.client.transfer import dump_yaml

    sys.stdout.write(dump_yaml(data))


@app.command("list")
def list_(client: ClientArg, as_json: AsJson = False) -> None:
    """Every stored version of the client's strategy, the active one marked."""
    from rich.table import Table

    async def work(cg: Client) -> Any:
        return await cg.list_strategies(client)

    versions = run(work)
    if as_json:
        print_json([_strategy_data(s) | {"created_at": s.created_at.isoformat()}
                    for s in versions])  # fmt: skip
        return
    table = Table("version", "name", "active", "created")
    for s in versions:
        table.add_row(str(s.version), s.name, "yes" if s.active else "",
                      s.created_at.strftime("%Y-%m-%d %H:%M:%S"))  # fmt: skip
    out.print(table if versions else "no strategy versions yet")


@app.command("history")
def history(client: ClientArg, as_json: AsJson = False) -> None:
    """Every version: when, what happened, what changed."""
    from rich.table import Table

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
def activate(
    client: ClientArg,
    version: Annotated[int, typer.Argument(metavar="VERSION", help="The version to activate.")],
    as_json: AsJson = False,
) -> None:
    """Make an earlier (or later) version the active one."""

    async def work(cg: Client) -> Any:
        return await cg.activate_strategy(client, version)

    strategy = run(work)
    if as_json:
        print_json(_strategy_data(strategy))
        return
    say(f"strategy version {strategy.version} is active")
