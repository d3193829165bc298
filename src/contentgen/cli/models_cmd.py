"""`contentgen models`: the catalogue, what is set, and which route each priority gives."""

from __future__ import annotations

import asyncio
from typing import Annotated, Any

import typer

from contentgen.cli.common import load_settings, out, print_json
from contentgen.cli.options import AsJson, PriorityName


def _money(value: float | None) -> str:
    return "?" if value is None else f"{value:g}"


HEADERS = ("model", "key", "$/1M in/out/cached", "tier", "context", "mode", "p50 ms", "breaker",
           "usable")  # fmt: skip


def _cells(row: dict[str, Any]) -> tuple[str, ...]:
    key = "-" if row["key_variable"] is None else (
        f"{row['key_variable']} {'set' if row['key_set'] else 'missing'}"
    )  # fmt: skip
    prices = "/".join(_money(row[f"price_{p}_per_1m"]) for p in ("in", "out", "cached_in"))
    return (row["model"], key, prices, str(row["tier"]), str(row["context_window"] or "?"),
            row["mode"], str(row["p50_ms"] or "-"), row["breaker"],
            "yes" if row["usable"] else "no")  # fmt: skip


def _catalogue_lines(rows: list[dict[str, Any]], width: int) -> list[str]:
    """One aligned line per model when they fit ``width``; else three short lines per model
    (name and whether it can run, prices and size, how it runs), readable at 80 columns."""
    cells = [_cells(r) for r in rows]
    widths = [max(len(h), *(len(c[i]) for c in cells)) for i, h in enumerate(HEADERS)]
    if sum(widths) + 2 * (len(widths) - 1) <= width:
        return ["  ".join(v.ljust(w) for v, w in zip(line, widths, strict=True)).rstrip()
                for line in (HEADERS, *cells)]  # fmt: skip
    lines: list[str] = []
    for c in cells:
        lines += [f"{c[0]}  usable: {c[8]}  key: {c[1]}",
                  f"  $/1M in/out/cached {c[2]}  tier {c[3]}  context {c[4]}",
                  f"  mode {c[5]}  p50 {c[6]} ms  breaker {c[7]}"]  # fmt: skip
    return lines


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
                     help="Show this priority's route only.", case_sensitive=False),
    ] = None,
    as_json: AsJson = False,
) -> None:
    """List the model catalogue (prices per 1M tokens, tier, p50, breaker) and the routes."""
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
    for line in _catalogue_lines(info["models"], out.width):
        out.print(line, markup=False)
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
