"""The model catalogue: formats, validation (one-line errors), price precedence."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from contentgen.errors import ConfigurationError
from contentgen.llm import pricing
from contentgen.llm.catalogue import BUILTIN, load_catalogue, parse_catalogue
from contentgen.settings import Settings

TOML = """
adequate_tier = 2
fallbacks = 1

[endpoints.gpu]
api_base = "http://gpu-box:8000/v1"
key_env = "GPU_KEY"
price_in = 0
price_out = 0

[models."gpu/llama"]
endpoint = "gpu"
model = "meta-llama/Llama-3.1-8B-Instruct"
tier = 2
context_window = 131072

[models."gpu/gpt-4o-mini"]
endpoint = "gpu"

[models."openai/gpt-4o-mini"]
tier = 3
price_in = 0.1
price_out = 0.2
price_cached_in = 0.05

[routes]
cost = ["gpu/llama", "openai/gpt-4o-mini"]
"""


def test_builtin_catalogue_has_the_embedded_model_in_sections_mode() -> None:
    catalogue = load_catalogue(Settings())
    local = catalogue.entry("local/smollm2")
    assert local.mode == "sections" and local.tier == 0
    assert catalogue.cost(local, 1000, 1000) == 0.0
    assert catalogue.entry("openai/gpt-4o-mini").mode == "single"
    assert set(BUILTIN) <= set(catalogue.models)


@pytest.mark.parametrize("form", ["file", "inline-toml", "json", "table"])
def test_the_four_ways_to_give_it(form: str, tmp_path: Path) -> None:
    import tomllib

    table = tomllib.loads(TOML)
    if form == "file":
        path = tmp_path / "catalogue.toml"
        path.write_text(TOML)
        value: object = str(path)
    elif form == "inline-toml":
        value = '{ routes = { cost = ["gpu/llama", "openai/gpt-4o-mini"] }, endpoints = ' \
                '{ gpu = { api_base = "http://gpu-box:8000/v1" } }, models = { "gpu/llama" = ' \
                '{ endpoint = "gpu" } } }'
    elif form == "json":
        value = json.dumps(table)
    else:
        value = table
    catalogue = load_catalogue(Settings(catalogue=value))
    assert catalogue.routes["cost"] == ("gpu/llama", "openai/gpt-4o-mini")
    assert catalogue.entry("gpu/llama").endpoint == "gpu"


def test_environment_variable_forms(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    path = tmp_path / "c.toml"
    path.write_text(TOML)
    monkeypatch.setenv("CONTENTGEN_CATALOGUE", str(path))
    assert load_catalogue(Settings()).fallbacks == 1
    monkeypatch.setenv("CONTENTGEN_CATALOGUE", '{"cost": "openai/gpt-4o"}')  # the old form
    assert load_catalogue(Settings()).routes == {"cost": ("openai/gpt-4o",)}


def test_prices_model_then_endpoint_then_litellm_then_unknown() -> None:
    import tomllib

    catalogue = parse_catalogue(tomllib.loads(TOML))
    own = catalogue.entry("openai/gpt-4o-mini")
    assert catalogue.cost(own, 1_000_000, 1_000_000) == pytest.approx(0.3)
    assert catalogue.cost(own, 1_000_000, 0, cached_tokens=1_000_000) == pytest.approx(0.05)
    # served under an OpenAI name by your own GPUs: the endpoint's price (0), not OpenAI's
    assert catalogue.cost(catalogue.entry("gpu/gpt-4o-mini"), 10**6, 10**6) == 0.0
    assert catalogue.entry("gpu/gpt-4o-mini").wire == "gpt-4o-mini"
    listed = catalogue.entry("openai/gpt-4o")
    assert catalogue.cost(listed, 1000, 500) == pricing.cost("openai/gpt-4o", 1000, 500)
    assert catalogue.cost(catalogue.entry("openai/no-such-model"), 10, 10) is None
    assert catalogue.context_window(catalogue.entry("gpu/llama")) == 131072
    assert catalogue.context_window(listed) == 128000


@pytest.mark.parametrize(
    ("value", "message"),
    [
        ('{"models": {"x/y": {"tier": 9}}}', "models.x/y.tier must be a whole number from 0"),
        ('{"models": {"x/y": {"endpoint": "nope"}}}', "no [endpoints.nope] table"),
        ('{"models": {"x/y": {"price_in": -1, "price_out": 1}}}', "must be a number >= 0"),
        ('{"models": {"x/y": {"price_in": 1}}}', "give both price_in and price_out"),
        ('{"models": {"x/y": {"colour": "red"}}}', "unknown key 'colour'"),
        ('{"routes": {"fastest": ["a"]}}', "routes.fastest: unknown priority"),
        ('{"endpoints": {"e": {"key_env": "K"}}}', "endpoints.e.api_base is required"),
        ("{ this is = not toml", "not a TOML inline table or JSON object"),
        ("/no/such/catalogue.toml", "cannot read /no/such/catalogue.toml"),
    ],
)
def test_bad_catalogues_are_one_line_errors(value: str, message: str) -> None:
    with pytest.raises(ConfigurationError) as info:
        load_catalogue(Settings(catalogue=value))
    text = str(info.value)
    assert text.startswith("CONTENTGEN_CATALOGUE: ") and message in text
    assert len(text.splitlines()) == 1
