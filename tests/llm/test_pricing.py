"""pricing: litellm's bundled price table, read without importing litellm."""

from __future__ import annotations

import importlib.util
import json
from collections.abc import Iterator
from typing import Any

import pytest

from contentgen.llm import pricing


@pytest.fixture
def fresh_price_map() -> Iterator[None]:
    pricing.price_map.cache_clear()
    pricing.prices.cache_clear()
    yield
    pricing.price_map.cache_clear()
    pricing.prices.cache_clear()


def test_price_map_is_litellms_bundled_file() -> None:
    path = pricing.price_map_path()
    assert path is not None
    assert path.name == "model_prices_and_context_window_backup.json"
    assert path.parent.name == "litellm"
    table = json.loads(path.read_text(encoding="utf-8"))
    assert pricing.price_map()["gpt-4o-mini"] == table["gpt-4o-mini"]


def test_price_map_is_loaded_once() -> None:
    assert pricing.price_map() is pricing.price_map()


def test_both_model_forms_have_the_same_price() -> None:
    prices = pricing.price_per_token("gpt-4o-mini")
    assert prices is not None
    assert prices == pricing.price_per_token("openai/gpt-4o-mini")
    entry = pricing.price_map()["gpt-4o-mini"]
    assert prices == (entry["input_cost_per_token"], entry["output_cost_per_token"])


def test_full_string_is_tried_first() -> None:
    # Entries keyed with a provider prefix exist (e.g. for OpenRouter or Bedrock models).
    key = next(k for k, v in pricing.price_map().items() if "/" in k and _priced(v))
    entry = pricing.price_map()[key]
    assert pricing.price_per_token(key) == (
        entry["input_cost_per_token"],
        entry["output_cost_per_token"],
    )


def _priced(entry: dict[str, Any]) -> bool:
    return isinstance(entry.get("input_cost_per_token"), int | float) and isinstance(
        entry.get("output_cost_per_token"), int | float
    )


@pytest.mark.parametrize("model", ["local/smollm2", "fake/gpt-4o-mini", "fake/anything"])
def test_free_models_cost_nothing(model: str) -> None:
    assert pricing.cost(model, 1000, 1000) == 0.0


@pytest.mark.parametrize("model", ["no-such-model-xyz", "", "openai/my-finetune-xyz"])
def test_unknown_prices_are_unknown_not_zero(model: str) -> None:
    assert pricing.cost(model, 1000, 1000) is None


def test_cost_for_gpt_4o_mini() -> None:
    assert pricing.cost("openai/gpt-4o-mini", 1_000_000, 1_000_000) == pytest.approx(0.75)


@pytest.mark.parametrize("usage", [(0, 0), (1, 1), (123, 456), (10_000, 3_000)])
def test_cost_equals_litellm_completion_cost(usage: tuple[int, int]) -> None:
    import litellm

    prompt_tokens, completion_tokens = usage
    response = litellm.ModelResponse(
        model="gpt-4o-mini",
        choices=[{"index": 0, "message": {"role": "assistant", "content": "x"}}],
        usage={
            "prompt_tokens": prompt_tokens,
            "completion_tokens": completion_tokens,
            "total_tokens": prompt_tokens + completion_tokens,
        },
    )
    expected = litellm.completion_cost(completion_response=response, model="openai/gpt-4o-mini")
    assert pricing.cost("openai/gpt-4o-mini", prompt_tokens, completion_tokens) == expected


@pytest.mark.usefixtures("fresh_price_map")
def test_without_litellm_every_model_costs_nothing(monkeypatch: pytest.MonkeyPatch) -> None:
    real = importlib.util.find_spec

    def find_spec(name: str, *args: Any) -> Any:
        return None if name == "litellm" else real(name, *args)

    monkeypatch.setattr(importlib.util, "find_spec", find_spec)
    assert pricing.price_map_path() is None
    pricing.prices.cache_clear()
    assert pricing.price_per_token("openai/gpt-4o-mini") is None
    assert pricing.cost("openai/gpt-4o-mini", 100, 100) is None


@pytest.mark.parametrize(
    ("model", "usage"),
    [
        ("gpt-4o-mini", (10_000, 3_000, 4_000, 0)),  # cached input tokens
        ("gpt-4o", (5_000, 1_000, 5_000, 0)),
        ("gemini/gemini-2.5-flash", (2_000, 3_000, 0, 1_000)),  # reasoning tokens
    ],
)
def test_cached_and_reasoning_tokens_cost_as_litellm_says(
    model: str, usage: tuple[int, int, int, int]
) -> None:
    """Issue 10, acceptance 6: cost with cached tokens matches litellm's price table."""
    import litellm

    prompt_tokens, completion_tokens, cached, reasoning = usage
    usage_block = litellm.Usage(
        prompt_tokens=prompt_tokens,
        completion_tokens=completion_tokens,
        total_tokens=prompt_tokens + completion_tokens,
        prompt_tokens_details={"cached_tokens": cached},
        completion_tokens_details={"reasoning_tokens": reasoning},
    )
    response = litellm.ModelResponse(
        model=model.split("/")[-1],
        choices=[{"index": 0, "message": {"role": "assistant", "content": "x"}}],
        usage=usage_block,
    )
    expected = litellm.completion_cost(completion_response=response, model=model)
    ours = pricing.cost(model, prompt_tokens, completion_tokens, cached, reasoning)
    assert ours == pytest.approx(expected, rel=1e-9)
    if cached:
        assert ours < pricing.cost(model, prompt_tokens, completion_tokens)  # type: ignore[operator]
