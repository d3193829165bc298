"""Token prices from litellm's bundled price map, without importing litellm.

``import litellm`` costs ~3.5 s and ~200 MB (MEASUREMENTS.md); the price table it ships is a
plain JSON file inside the package, so the low-overhead backends read that file directly.
It is located with ``importlib.util.find_spec`` (which does not run the package) and parsed
once per process.
"""

from __future__ import annotations

import functools
import json
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


def _entry_prices(entry: dict[str, Any]) -> tuple[float, float] | None:
    input_cost = entry.get("input_cost_per_token")
    output_cost = entry.get("output_cost_per_token")
    if not isinstance(input_cost, int | float) or not isinstance(output_cost, int | float):
        return None
    return float(input_cost), float(output_cost)


def price_per_token(model: str) -> tuple[float, float] | None:
    """``(input_cost_per_token, output_cost_per_token)`` in USD, or None when unknown.

    Accepts ``openai/gpt-4o-mini`` and ``gpt-4o-mini``: the full string is tried first, then
    the part after the first ``/``.
    """
    if model.startswith(FREE_PREFIXES):
        return None
    table = price_map()
    candidates = [model]
    if "/" in model:
        candidates.append(model.split("/", 1)[1])
    for name in candidates:
        entry = table.get(name)
        if entry is not None:
            prices = _entry_prices(entry)
            if prices is not None:
                return prices
    return None


def cost(model: str, input_tokens: int, output_tokens: int) -> float:
    """USD cost of one call; 0.0 for unknown, ``local/`` and ``fake/`` models."""
    prices = price_per_token(model)
    if prices is None:
        return 0.0
    input_price, output_price = prices
    return input_tokens * input_price + output_tokens * output_price
