"""What ``contentgen models`` shows: the catalogue as this process sees it (prices per 1M
tokens, tier, observed p50, breaker state, whether a key is set), what is set, and the route
each priority gives."""

from __future__ import annotations

from typing import Any

from contentgen.errors import ContentgenError
from contentgen.llm.catalogue import PER_MILLION, PRIORITIES
from contentgen.llm.router import Router


def _per_million(value: float | None) -> float | None:
    return None if value is None else round(value * PER_MILLION, 6)


def model_rows(router: Router) -> list[dict[str, Any]]:
    rows = []
    catalogue = router.catalogue
    for entry in catalogue.models.values():
        found = router.target(entry)
        prices = catalogue.prices(entry)
        problem = router.problem(entry.name)
        p50 = router.latency.p50(entry.name)
        rows.append({
            "model": entry.name,
            "provider": entry.provider,
            "endpoint": found.api_base or found.kind,
            "key_variable": found.key_variable,
            "key_set": bool(found.key),
            "usable": problem is None,
            "problem": None if problem is None else router.secrets.mask(problem.message),
            "enabled": entry.enabled,
            "price_in_per_1m": _per_million(prices.input if prices else None),
            "price_out_per_1m": _per_million(prices.output if prices else None),
            "price_cached_in_per_1m": _per_million(prices.cached_input if prices else None),
            "tier": entry.tier,
            "context_window": catalogue.context_window(entry),
            "mode": entry.mode,
            "p50_ms": None if p50 is None else round(p50),
            "breaker": router.breaker_state(entry),
        })  # fmt: skip
    return rows


def what_is_set(router: Router) -> dict[str, Any]:
    settings = router.settings
    source = settings.catalogue
    return {
        "CONTENTGEN_MODEL": settings.model,
        "CONTENTGEN_API_BASE": settings.api_base,
        "CONTENTGEN_API_KEY": "set" if settings.api_key else None,
        "CONTENTGEN_LLM_BACKEND": settings.llm_backend,
        "CONTENTGEN_CATALOGUE": source if isinstance(source, str) else (
            "inline table" if source else None
        ),
    }  # fmt: skip


async def describe(
    router: Router, *, priority: str | None = None, model: str | None = None,
    provider: str | None = None,
) -> dict[str, Any]:  # fmt: skip
    """Everything ``contentgen models [--priority X] [--json]`` prints."""
    routes: dict[str, Any] = {}
    for name in [priority] if priority else PRIORITIES:
        try:
            found = await router.check(model=model, provider=provider, priority=name,
                                       warm=False)  # fmt: skip
        except ContentgenError as exc:
            # Show the route anyway, with why it cannot run here (e.g. the key to set).
            try:
                models = list(router.route(model=model, provider=provider, priority=name).models)
            except ContentgenError:
                models = []
            routes[name] = {"models": models, "reason": None,
                            "error": router.secrets.mask(exc.message)}  # fmt: skip
        else:
            routes[name] = {"models": list(found.models), "reason": found.reason, "error": None}
    chosen = routes[priority or "balanced"]
    return {
        "model": chosen["models"][0] if chosen["models"] else None,
        "reason": chosen["reason"] or chosen["error"],
        "settings": what_is_set(router),
        "routes": routes,
        "models": model_rows(router),
    }
