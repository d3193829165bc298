"""Token prices from litellm's bundled price map, without importing litellm.

``import litellm`` costs ~3.5 s and ~200 MB (MEASUREMENTS.md); the price table it ships is a
plain JSON file inside the package, so the low-overhead backends read that file directly.
It is located with ``importlib.util.find_spec`` (which does not run the package) and parsed
once per process.
"""

from __future__ import annotations

import functools
import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from contentgen.llm._packages import package_dirs
from contentgen.logs import get_logger

PRICE_MAP_FILE = "model_prices_and_context_window_backup.json"

#: Model prefixes that never cost money.
FREE_PREFIXES = ("local/", "fake/")


def price_map_path() -> Path | None:
    """Where litellm's bundled price map is, or None when litellm is not installed."""
    for folder in package_dirs("litellm"):
        candidate = folder / PRICE_MAP_FILE
        if candidate.is_file():
            return candidate
    return None


@functools.cache
def price_map() -> dict[str, dict[str, Any]]:
    """The parsed price map (model -> entry); empty when it cannot be found or read."""
    path = price_map_path()
    if path is None:
        get_logger().warning("price_map_missing", file=PRICE_MAP_FILE)
        return {}
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        get_logger().warning("price_map_unreadable", path=str(path), error=str(exc))
        return {}
    if not isinstance(data, dict):
        return {}
    return {k: v for k, v in data.items() if isinstance(v, dict)}


@dataclass(frozen=True)
class Prices:
    """USD per token. ``cached_input``/``reasoning`` None: billed as plain input/output."""

    input: float
    output: float
    cached_input: float | None = None
    reasoning: float | None = None

    def cost(
        self, input_tokens: int, output_tokens: int, cached_tokens: int = 0,
        reasoning_tokens: int = 0,
    ) -> float:  # fmt: skip
        """Cost of one call as providers bill it (and as litellm computes it): cached tokens
        are part of ``input_tokens`` and reasoning tokens part of ``output_tokens``; each is
        billed at its own price when there is one."""
        cached = min(max(cached_tokens, 0), input_tokens) if self.cached_input is not None else 0
        reasoning = (
            min(max(reasoning_tokens, 0), output_tokens) if self.reasoning is not None else 0
        )
        total = (input_tokens - cached) * self.input + (output_tokens - reasoning) * self.output
        if cached:
            assert self.cached_input is not None
            total += cached * self.cached_input
        if reasoning:
            assert self.reasoning is not None
            total += reasoning * self.reasoning
        return total


def _number(value: Any) -> float | None:
    return float(value) if isinstance(value, int | float) and not isinstance(value, bool) else None


def _entry_prices(entry: dict[str, Any]) -> Prices | None:
    input_cost = _number(entry.get("input_cost_per_token"))
    output_cost = _number(entry.get("output_cost_per_token"))
    if input_cost is None or output_cost is None:
        return None
    return Prices(
        input_cost,
        output_cost,
        _number(entry.get("cache_read_input_token_cost")),
        _number(entry.get("output_cost_per_reasoning_token")),
    )


def _candidates(model: str) -> list[str]:
    names = [model]
    if "/" in model:
        names.append(model.split("/", 1)[1])
    return names


def table_entry(model: str) -> dict[str, Any] | None:
    """litellm's table entry for ``model`` (full string first, then without the prefix)."""
    table = price_map()
    for name in _candidates(model):
        entry = table.get(name)
        if entry is not None:
            return entry
    return None


@functools.lru_cache(maxsize=1024)
def prices(model: str) -> Prices | None:
    """The per-token prices of ``model`` in litellm's table; None when unknown or free."""
    if model.startswith(FREE_PREFIXES):
        return None
    table = price_map()
    for name in _candidates(model):
        entry = table.get(name)
        if entry is not None:
            found = _entry_prices(entry)
            if found is not None:
                return found
    return None


def price_per_token(model: str) -> tuple[float, float] | None:
    """``(input_cost_per_token, output_cost_per_token)`` in USD, or None when unknown.

    Accepts ``openai/gpt-4o-mini`` and ``gpt-4o-mini``: the full string is tried first, then
    the part after the first ``/``.
    """
    found = prices(model)
    return None if found is None else (found.input, found.output)


def cost(
    model: str, input_tokens: int, output_tokens: int, cached_tokens: int = 0,
    reasoning_tokens: int = 0,
) -> float | None:  # fmt: skip
    """USD cost of one call by litellm's table: 0.0 for ``local/`` and ``fake/`` models, None
    when the price is unknown (never a silent 0)."""
    if model.startswith(FREE_PREFIXES):
        return 0.0
    found = prices(model)
    if found is None:
        return None
    return found.cost(input_tokens, output_tokens, cached_tokens, reasoning_tokens)
