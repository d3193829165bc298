"""`contentgen models`: the catalogue, what is set, and which route each priority gives."""

from __future__ import annotations

import asyncio
from typing import Annotated, Any

import typer

from contentgen.cli.common import load_settings, out, print_json
from contentgen.cli.options import AsJson, PriorityName


def _money(value: float | None) -> str:
    return "?" if value is None else f"{value:g}"


def models(
    model: Annotated[
        str | None, typer.Option("--model", "-m", metavar="MODEL", help="A model to check.")
    ] = None,
    provider: Annotated[
        str | None,
        typer.Option("--provider", metavar="PROVIDER", help="Only this provider's models."),
    ] = None,
    priority: Annotated[
        PriorityName | None,
        typer.Option("--priority", metavar="[cost|quality|speed|balanced]",
                     help="Show this priority's route only."),
    ] = None,
    as_json: AsJson = False,
) -> None:
    """List the model catalogue (prices per 1M tokens, tier, p50, breaker) and the routes."""
    from rich.table import Table

    from contentgen.llm.describe import describe
    from contentgen.llm.router import Router

    async def work() -> dict[str, Any]:
        async with Router(load_settings()) as router:
            return await describe(router, priority=priority,
                                  model=model, provider=provider)  # fmt: skip

    info = asyncio.run(work())
    if as_json:
        print_json(info)
        return
    table = Table("model", "provider", "key", "$/1M in", "$/1M out", "$/1M cached", "tier",
                  "context", "mode", "p50 ms", "breaker", "usable")  # fmt: skip
    for row in info["models"]:
        key = "-" if row["key_variable"] is None else (
            f"{row['key_variable']} {'set' if row['key_set'] else 'missing'}"
        )  # fmt: skip
        table.add_row(
            row["model"], row["provider"], key, _money(row["price_in_per_1m"]),
            _money(row["price_out_per_1m"]), _money(row["price_cached_in_per_1m"]),
            str(row["tier"]), str(row["context_window"] or "?"), row["mode"],
            str(row["p50_ms"] or "-"), row["breaker"], "yes" if row["usable"] else "no",
        )  # fmt: skip
    out.print(table, markup=False)
    out.print("settings:", markup=False)
    for name, value in info["settings"].items():
        out.print(f"  {name} = {value if value is not None else '(not set)'}", markup=False)
    out.print("routes (primary first, then fallbacks):", markup=False)
    for name, route in info["routes"].items():
        if route["error"]:
            chain = " -> ".join(route["models"]) or "none"
            out.print(f"  {name}: {chain}  (cannot run: {route['error']})", markup=False)
        else:
            out.print(f"  {name}: {' -> '.join(route['models'])}  ({route['reason']})",
                      markup=False)  # fmt: skip
    out.print(f"will use: {info['model'] or 'nothing'}  ({info['reason']})", markup=False)
