"""Where each model goes (endpoint, key, backend) and how a priority orders the models.

**Which key goes where** (issue 7, point 2). A key is only ever sent to the endpoint it
belongs to:

- ``openai/`` models and bare model names use the *default endpoint*: ``CONTENTGEN_API_BASE``
  with ``CONTENTGEN_API_KEY`` (a server of your own may need no key); when
  ``CONTENTGEN_API_BASE`` is not set, OpenAI itself with ``CONTENTGEN_API_KEY`` or else
  ``OPENAI_API_KEY``. ``OPENAI_API_KEY`` is never sent to another server.
- a catalogue model with ``endpoint = "NAME"`` uses ``[endpoints.NAME]``: its ``api_base`` and
  the key in its ``key_env`` variable, and nothing else.
- any other provider prefix (``anthropic/``, ``gemini/``, ...) goes through litellm to that
  provider's own endpoint with that provider's own variable (``ANTHROPIC_API_KEY``, ...);
  ``CONTENTGEN_API_BASE``/``CONTENTGEN_API_KEY`` are not passed.
- ``local/`` and ``fake/`` models run in-process and need no key.

**Priorities** order the usable models of the catalogue (those whose key is set, or that need
none; the embedded model when the ``local`` extra is installed):

- ``cost``: cheapest first (input + output price per token; unknown prices last), then the
  higher tier;
- ``quality``: highest tier first, then the cheaper;
- ``speed``: lowest observed p50 latency first (models never called yet after the measured
  ones, by tier);
- ``balanced``: highest ``score = tier - 2 * price / highest price - p50 / highest p50``
  (an unknown price counts as the highest, an unknown p50 as the median of the known ones).

Models below the catalogue's ``adequate_tier`` are left out while an adequate one is usable.
"""

from __future__ import annotations

import math
import statistics
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Literal

from contentgen.llm.catalogue import DEFAULT_ENDPOINT, Catalogue, ModelEntry
from contentgen.llm.openai_compat import DEFAULT_API_BASE
from contentgen.settings import Settings

BackendKind = Literal["aiohttp", "litellm", "local", "fake"]

#: The key variable litellm reads for each provider prefix contentgen checks before a job.
PROVIDER_KEYS = {
    "openai": "OPENAI_API_KEY",
    "anthropic": "ANTHROPIC_API_KEY",
    "gemini": "GEMINI_API_KEY",
    "mistral": "MISTRAL_API_KEY",
    "groq": "GROQ_API_KEY",
    "cohere": "COHERE_API_KEY",
    "deepseek": "DEEPSEEK_API_KEY",
    "openrouter": "OPENROUTER_API_KEY",
    "together_ai": "TOGETHERAI_API_KEY",
    "fireworks_ai": "FIREWORKS_AI_API_KEY",
    "xai": "XAI_API_KEY",
    "perplexity": "PERPLEXITYAI_API_KEY",
}


@dataclass(frozen=True)
class Target:
    """How to reach one model: backend kind, endpoint, key (value and variable)."""

    kind: BackendKind
    api_base: str | None = None
    key: str | None = None
    key_variable: str | None = None
    key_required: bool = False
    provider: str = ""

    @property
    def missing_key(self) -> bool:
        return self.key_required and not self.key


def target(entry: ModelEntry, catalogue: Catalogue, settings: Settings,
           env: Mapping[str, str]) -> Target:  # fmt: skip
    """Where ``entry`` is served and with which key (see the module docstring)."""
    if entry.provider == "local":
        return Target("local", provider="local")
    if entry.provider == "fake":
        return Target("fake", provider="fake")
    http: BackendKind = "litellm" if settings.llm_backend == "litellm" else "aiohttp"
    if entry.endpoint is not None and entry.endpoint != DEFAULT_ENDPOINT:
        endpoint = catalogue.endpoints[entry.endpoint]
        variable = endpoint.key_env
        return Target(http, endpoint.api_base, env.get(variable) if variable else None,
                      variable, variable is not None, entry.provider)  # fmt: skip
    if entry.provider == "openai":
        if settings.api_base:
            key = settings.api_key.get_secret_value() if settings.api_key else None
            return Target(http, settings.api_base, key, "CONTENTGEN_API_KEY", False, "openai")
        if settings.api_key is not None:
            return Target(http, DEFAULT_API_BASE, settings.api_key.get_secret_value(),
                          "CONTENTGEN_API_KEY", True, "openai")  # fmt: skip
        return Target(http, DEFAULT_API_BASE, env.get("OPENAI_API_KEY"), "OPENAI_API_KEY", True,
                      "openai")  # fmt: skip
    variable = PROVIDER_KEYS.get(entry.provider)
    key = env.get(variable) if variable else None
    return Target("litellm", None, key, variable, variable is not None, entry.provider)


# -- ordering -------------------------------------------------------------------------------


def _price(catalogue: Catalogue, entry: ModelEntry) -> float | None:
    prices = catalogue.prices(entry)
    return None if prices is None else prices.input + prices.output


def order(
    entries: Sequence[ModelEntry],
    priority: str,
    catalogue: Catalogue,
    p50: Callable[[str], float | None],
) -> list[ModelEntry]:
    """``entries`` best first for ``priority`` (see the module docstring)."""
    adequate = [e for e in entries if e.tier >= catalogue.adequate_tier]
    pool = adequate or list(entries)
    prices = {e.name: _price(catalogue, e) for e in pool}
    if priority == "cost":
        return sorted(pool, key=lambda e: (prices[e.name] is None, prices[e.name] or 0.0,
                                           -e.tier, e.name))  # fmt: skip
    if priority == "quality":
        return sorted(pool, key=lambda e: (-e.tier, prices[e.name] is None,
                                           prices[e.name] or 0.0, e.name))  # fmt: skip
    latencies = {e.name: p50(e.name) for e in pool}
    if priority == "speed":
        return sorted(pool, key=lambda e: (latencies[e.name] is None,
                                           latencies[e.name] or 0.0, -e.tier, e.name))  # fmt: skip
    known_prices = [p for p in prices.values() if p is not None]
    top_price = max(known_prices, default=0.0)
    known_latency = [v for v in latencies.values() if v is not None]
    typical = statistics.median(known_latency) if known_latency else 0.0
    top_latency = max(known_latency, default=0.0)

    def score(entry: ModelEntry) -> float:
        price = prices[entry.name]
        price_part = 1.0 if price is None else (price / top_price if top_price else 0.0)
        latency = latencies[entry.name]
        latency = typical if latency is None else latency
        latency_part = latency / top_latency if top_latency else 0.0
        value = entry.tier - 2 * price_part - latency_part
        return value if math.isfinite(value) else -math.inf

    return sorted(pool, key=lambda e: (-score(e), e.name))


@dataclass(frozen=True)
class Route:
    """The models a request will try, primary first, and why."""

    models: tuple[str, ...]
    reason: str

    @property
    def primary(self) -> str:
        return self.models[0]

    @property
    def model(self) -> str:
        """The primary model (the name ``ModelChoice`` had)."""
        return self.models[0]
