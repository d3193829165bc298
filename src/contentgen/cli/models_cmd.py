"""`contentgen models`: which model a request would use, and why."""

from __future__ import annotations

from typing import Annotated

import typer

from contentgen.cli.common import out, print_json


def models(
    model: Annotated[str | None, typer.Option("--model", "-m")] = None,
    provider: Annotated[str | None, typer.Option("--provider")] = None,
    priority: Annotated[str, typer.Option("--priority")] = "balanced",
    as_json: Annotated[bool, typer.Option("--json")] = False,
) -> None:
    """Show the model that would be used and why (no call is made)."""
    from contentgen.llm.registry import choose_model
    from contentgen.settings import Settings

    settings = Settings()
    choice = choose_model(settings, model=model, provider=provider, priority=priority)
    catalogue = dict(settings.catalogue)
    if as_json:
        print_json({"model": choice.model, "reason": choice.reason, "catalogue": catalogue})
        return
    out.print(f"[bold]{choice.model}[/bold]  ({choice.reason})")
    for prio, name in sorted(catalogue.items()):
        out.print(f"  catalogue {prio}: {name}")
    if choice.model.startswith("local/"):
        out.print("  embedded model: runs in-process, offline, cost 0 (extra 'local')")
