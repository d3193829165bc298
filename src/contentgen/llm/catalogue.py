"""The model catalogue: which models exist, where they are served, what they cost and how good
they are. Routing (``llm/router.py``) chooses from it.

A built-in default is always there (``BUILTIN``); ``CONTENTGEN_CATALOGUE`` adds to it or
changes it. Its value is a path to a TOML file, or a TOML/JSON table given inline (in the
environment, or as a ``[catalogue]`` table in ``contentgen.toml``)::

    adequate_tier = 1            # routing skips models below this tier while others remain
    fallbacks = 2                # models after the primary in a route

    [endpoints.gpu]              # an OpenAI-compatible server of your own
    api_base = "http://gpu-box:8000/v1"
    key_env = "GPU_BOX_KEY"      # its key is read from here and sent to this endpoint only
    price_in = 0                 # USD per 1M tokens, for every model served here
    price_out = 0

    [models."gpu/llama-3.1-8b"]
    endpoint = "gpu"
    model = "meta-llama/Llama-3.1-8B-Instruct"   # the name the server knows (default: after "/")
    tier = 2                     # 0 (toy) .. 5 (best)
    context_window = 131072
    mode = "single"              # or "sections" (written section by section: small models)
    price_in = 0.05              # USD per 1M tokens; wins over the endpoint and litellm's table
    price_out = 0.10
    price_cached_in = 0.01       # cached input tokens, when the provider reports them
    price_reasoning = 0.10       # reasoning tokens, when the provider reports them

    [models."openai/gpt-4o-mini"]   # a built-in model: only the fields given change
    tier = 3

    [models."openai/gpt-4o"]
    enabled = false              # never routed to (still usable with --model)

    [routes]                     # pin a priority's route (primary first, then fallbacks)
    cost = ["gpu/llama-3.1-8b", "openai/gpt-4o-mini"]

The endpoint ``default`` is the one ``openai/`` and bare model names use
(``CONTENTGEN_API_BASE``, else OpenAI); ``[endpoints.default]`` may set its prices (0 for your
own GPUs). Prices: the model's own, else its endpoint's, else litellm's table (read without
importing litellm), else unknown (``cost=None``, never a silent 0); ``local/`` and ``fake/``
models cost 0. The old form ``{"cost": "openai/gpt-4o-mini"}`` (priority -> model) still
works: it pins that priority's primary model.
"""

from __future__ import annotations

import json
import tomllib
from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any, cast

from contentgen.errors import ConfigurationError
from contentgen.llm import pricing
from contentgen.llm.base import Mode
from contentgen.llm.pricing import Prices
from contentgen.settings import EMBEDDED_MODEL, Settings

PRIORITIES = ("cost", "quality", "speed", "balanced")
DEFAULT_ENDPOINT = "default"
PER_MILLION = 1_000_000
_VAR = "CONTENTGEN_CATALOGUE"


@dataclass(frozen=True)
class Endpoint:
    """Where models are served: an OpenAI-compatible base URL and the variable of its key."""

    name: str
    api_base: str | None = None
    key_env: str | None = None
    price_in: float | None = None  # USD per token
    price_out: float | None = None


@dataclass(frozen=True)
class ModelEntry:
    name: str  # what requests, routes and usage rows say: "openai/gpt-4o-mini"
    provider: str  # "openai", "anthropic", "local", ...
    wire: str  # the name the endpoint knows
    endpoint: str | None = None  # a catalogue endpoint; None: the provider's own
    tier: int = 2
    context_window: int | None = None
    mode: Mode = "single"
    prices: Prices | None = None  # the catalogue's own prices (USD per token)
    enabled: bool = True
    builtin: bool = True  # False when the user's catalogue declared it


def provider_of(model: str) -> str:
    """``openai`` for ``openai/gpt-4o-mini`` and for a bare name; the prefix otherwise."""
    if model == "local":
        return "local"
    return model.split("/", 1)[0] if "/" in model else "openai"


def default_entry(name: str) -> ModelEntry:
    """What the catalogue knows of a model it does not list: from its name alone."""
    provider = provider_of(name)
    local = provider == "local"
    return ModelEntry(
        name=name,
        provider=provider,
        wire=name,
        tier=0 if local else 2,
        mode="sections" if local else "single",
        context_window=2048 if local else None,
        builtin=True,
    )


def _builtin() -> dict[str, ModelEntry]:
    rows: list[tuple[str, int]] = [
        ("openai/gpt-4.1-nano", 1),
        ("openai/gpt-4o-mini", 2),
        ("mistral/mistral-small-latest", 2),
        ("openai/gpt-4.1-mini", 3),
        ("gemini/gemini-2.5-flash", 3),
        ("openai/gpt-4o", 4),
        ("openai/gpt-4.1", 5),
        ("anthropic/claude-sonnet-4-5", 5),
    ]
    entries = {name: replace(default_entry(name), tier=tier) for name, tier in rows}
    entries[EMBEDDED_MODEL] = default_entry(EMBEDDED_MODEL)
    return entries


#: The built-in catalogue (prices and context windows come from litellm's table on use).
BUILTIN: Mapping[str, ModelEntry] = _builtin()


@dataclass
class Catalogue:
    models: dict[str, ModelEntry] = field(default_factory=lambda: dict(BUILTIN))
    endpoints: dict[str, Endpoint] = field(default_factory=dict)
    routes: dict[str, tuple[str, ...]] = field(default_factory=dict)
    adequate_tier: int = 1
    fallbacks: int = 2

    def entry(self, model: str) -> ModelEntry:
        """The catalogue's entry for ``model``, or one made from its name."""
        found = self.models.get(model)
        if found is not None:
            return found
        if "/" not in model and f"openai/{model}" in self.models:
            return replace(self.models[f"openai/{model}"], name=model, wire=model)
        return default_entry(model)

    def endpoint(self, entry: ModelEntry) -> Endpoint | None:
        """The catalogue endpoint of ``entry`` (``default`` for openai/bare names), if any."""
        if entry.endpoint is not None:
            return self.endpoints.get(entry.endpoint)
        if entry.provider == "openai":
            return self.endpoints.get(DEFAULT_ENDPOINT)
        return None

    def prices(self, entry: ModelEntry) -> Prices | None:
        """Per-token prices: the model's own, its endpoint's, litellm's table; None unknown."""
        if entry.prices is not None:
            return entry.prices
        if entry.provider in ("local", "fake"):
            return Prices(0.0, 0.0)
        endpoint = self.endpoint(entry)
        if endpoint is not None and endpoint.price_in is not None:
            out = endpoint.price_out if endpoint.price_out is not None else endpoint.price_in
            return Prices(endpoint.price_in, out)
        return pricing.prices(entry.wire) or pricing.prices(entry.name)

    def cost(
        self, entry: ModelEntry, input_tokens: int, output_tokens: int, cached_tokens: int = 0,
        reasoning_tokens: int = 0,
    ) -> float | None:  # fmt: skip
        found = self.prices(entry)
        if found is None:
            return None
        return found.cost(input_tokens, output_tokens, cached_tokens, reasoning_tokens)

    def context_window(self, entry: ModelEntry) -> int | None:
        if entry.context_window is not None:
            return entry.context_window
        table = pricing.table_entry(entry.wire) or pricing.table_entry(entry.name) or {}
        value = table.get("max_input_tokens")
        return int(value) if isinstance(value, int) else None

    def key_variables(self) -> list[str]:
        return [e.key_env for e in self.endpoints.values() if e.key_env]


# -- loading ------------------------------------------------------------------------------


def load_catalogue(settings: Settings) -> Catalogue:
    """The built-in catalogue with ``settings.catalogue`` applied.

    Raises ``ConfigurationError`` (one line, naming CONTENTGEN_CATALOGUE) when it is wrong."""
    return parse_catalogue(_table(settings.catalogue))


def _table(value: str | dict[str, Any] | None) -> dict[str, Any]:
    if value is None or value == "" or value == {}:
        return {}
    if isinstance(value, dict):
        return value
    text = value.strip()
    if text.startswith("{"):
        try:
            return cast(dict[str, Any], json.loads(text))
        except ValueError:
            pass
        try:
            return tomllib.loads(f"catalogue = {text}")["catalogue"]  # type: ignore[no-any-return]
        except tomllib.TOMLDecodeError as exc:
            raise ConfigurationError(
                f"{_VAR}: not a TOML inline table or JSON object ({exc})", field="catalogue"
            ) from exc
    path = Path(text).expanduser()
    try:
        return tomllib.loads(path.read_text(encoding="utf-8"))
    except OSError as exc:
        raise ConfigurationError(
            f"{_VAR}: cannot read {path} ({exc.strerror or exc}); give a TOML file or a table",
            field="catalogue",
        ) from exc
    except (tomllib.TOMLDecodeError, UnicodeDecodeError) as exc:
        raise ConfigurationError(f"{_VAR}: {path} is not valid TOML ({exc})",
                                 field="catalogue") from exc  # fmt: skip


def _fail(message: str) -> ConfigurationError:
    return ConfigurationError(f"{_VAR}: {message}", field="catalogue")


def _price(table: Mapping[str, Any], key: str, where: str) -> float | None:
    value = table.get(key)
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int | float) or value < 0:
        raise _fail(f"{where}.{key} must be a number >= 0 (USD per 1M tokens), not {value!r}")
    return float(value) / PER_MILLION


def _int(table: Mapping[str, Any], key: str, where: str, low: int, high: int) -> int | None:
    value = table.get(key)
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int) or not low <= value <= high:
        raise _fail(f"{where}.{key} must be a whole number from {low} to {high}, not {value!r}")
    return value


def _str(table: Mapping[str, Any], key: str, where: str) -> str | None:
    value = table.get(key)
    if value is not None and (not isinstance(value, str) or not value.strip()):
        raise _fail(f"{where}.{key} must be a non-empty string, not {value!r}")
    return value.strip() if isinstance(value, str) else None


_MODEL_KEYS = {"endpoint", "model", "provider", "tier", "context_window", "mode", "price_in",
               "price_out", "price_cached_in", "price_reasoning", "enabled"}  # fmt: skip
_ENDPOINT_KEYS = {"api_base", "key_env", "price_in", "price_out"}


def _check_keys(table: Mapping[str, Any], allowed: set[str], where: str) -> None:
    unknown = sorted(set(table) - allowed)
    if unknown:
        raise _fail(f"{where}: unknown key {unknown[0]!r} (allowed: {', '.join(sorted(allowed))})")


def parse_catalogue(table: Mapping[str, Any]) -> Catalogue:
    """A ``Catalogue`` from a parsed table (see the module docstring for the format)."""
    if not isinstance(table, Mapping):
        raise _fail("must be a table")
    catalogue = Catalogue()
    for key, value in table.items():
        if key in PRIORITIES and isinstance(value, str):  # the old priority -> model form
            catalogue.routes[key] = (value,)
        elif key not in ("adequate_tier", "fallbacks", "models", "endpoints", "routes") and \
                key not in PRIORITIES:  # fmt: skip
            raise _fail(f"unknown key {key!r} (allowed: adequate_tier, fallbacks, models, "
                        "endpoints, routes)")  # fmt: skip
    catalogue.adequate_tier = _int(table, "adequate_tier", "catalogue", 0, 5) or 1
    fallbacks = _int(table, "fallbacks", "catalogue", 0, 10)
    catalogue.fallbacks = 2 if fallbacks is None else fallbacks
    for name, spec in _tables(table, "endpoints").items():
        where = f"endpoints.{name}"
        _check_keys(spec, _ENDPOINT_KEYS, where)
        catalogue.endpoints[name] = Endpoint(
            name=name,
            api_base=_str(spec, "api_base", where),
            key_env=_str(spec, "key_env", where),
            price_in=_price(spec, "price_in", where),
            price_out=_price(spec, "price_out", where),
        )
        if name != DEFAULT_ENDPOINT and catalogue.endpoints[name].api_base is None:
            raise _fail(f"{where}.api_base is required")
    for name, spec in _tables(table, "models").items():
        catalogue.models[name] = _model(name, spec, catalogue)
    routes = table.get("routes", {})
    if not isinstance(routes, Mapping):
        raise _fail("routes must be a table of priority = [models]")
    for priority, chain in routes.items():
        if priority not in PRIORITIES:
            raise _fail(f"routes.{priority}: unknown priority (use {', '.join(PRIORITIES)})")
        if isinstance(chain, str):
            chain = [chain]
        if not isinstance(chain, list) or not chain or not all(isinstance(m, str) for m in chain):
            raise _fail(f"routes.{priority} must be a list of model names")
        catalogue.routes[priority] = tuple(chain)
    return catalogue


def _tables(table: Mapping[str, Any], key: str) -> dict[str, Mapping[str, Any]]:
    value = table.get(key, {})
    if not isinstance(value, Mapping) or not all(isinstance(v, Mapping) for v in value.values()):
        raise _fail(f"{key} must be a table of tables ([{key}.NAME])")
    return dict(value)


def _model(name: str, spec: Mapping[str, Any], catalogue: Catalogue) -> ModelEntry:
    where = f"models.{name}"
    _check_keys(spec, _MODEL_KEYS, where)
    base = catalogue.models.get(name) or default_entry(name)
    endpoint = _str(spec, "endpoint", where) or base.endpoint
    if endpoint is not None and endpoint not in catalogue.endpoints:
        raise _fail(f"{where}.endpoint: no [endpoints.{endpoint}] table")
    wire = _str(spec, "model", where)
    if wire is None:
        wire = name.split("/", 1)[1] if endpoint is not None and "/" in name else base.wire
    mode = spec.get("mode", base.mode)
    if mode not in ("single", "sections"):
        raise _fail(f"{where}.mode must be 'single' or 'sections', not {mode!r}")
    enabled = spec.get("enabled", base.enabled)
    if not isinstance(enabled, bool):
        raise _fail(f"{where}.enabled must be true or false")
    prices = base.prices
    price_in = _price(spec, "price_in", where)
    price_out = _price(spec, "price_out", where)
    if price_in is not None or price_out is not None:
        if price_in is None or price_out is None:
            raise _fail(f"{where}: give both price_in and price_out")
        prices = Prices(price_in, price_out, _price(spec, "price_cached_in", where),
                        _price(spec, "price_reasoning", where))  # fmt: skip
    tier = _int(spec, "tier", where, 0, 5)
    context = _int(spec, "context_window", where, 1, 100_000_000)
    provider = _str(spec, "provider", where) or (endpoint or base.provider)
    return ModelEntry(
        name=name,
        provider=provider,
        wire=wire,
        endpoint=endpoint,
        tier=base.tier if tier is None else tier,
        context_window=context or base.context_window,
        mode=cast(Mode, mode),
        prices=prices,
        enabled=enabled,
        builtin=False,
    )
