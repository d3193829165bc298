"""`contentgen models`: which model a request would use, and why."""

from __future__ import annotations

from contentgen.cli.common import load_settings
from contentgen.cli.options import AsJson, ModelOpt, PriorityOpt, ProviderOpt
from contentgen.cli.output import print_json, say


def models(
    model: ModelOpt = None,
    provider: ProviderOpt = None,
    priority: PriorityOpt = "balanced",
    as_json: AsJson = False,
) -> None:
    """Show the model that would be used and why (no call is made)."""
    from contentgen.llm.registry import choose_model
    settings = load_settings()
    choice = choose_model(settings, model=model, provider=provider, priority=priority)
    catalogue = dict(settings.catalogue)
    if as_json:
        print_json({"model": choice.model, "reason": choice.reason, "catalogue": catalogue})
        return
    say((choice.model, "bold"), f"  ({choice.reason})")
    for prio, name in sorted(catalogue.items()):
        say(f"  catalogue {prio}: ", name)
    if choice.model.startswith("local/"):
        say("  embedded model: runs in-process, offline, cost 0 (extra 'local')")
