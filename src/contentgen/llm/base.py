"""The ``LLM`` protocol: one prompt in, one ``Completion`` out.

Implementations: ``LiteLLMBackend`` (any litellm model string), ``OpenAICompatBackend``
(plain httpx to an OpenAI-compatible endpoint; low per-call overhead), ``LocalLlamaBackend``
(embedded GGUF via llama-cpp-python) and ``FakeLLM`` (scriptable, for tests).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Protocol, runtime_checkable

from contentgen.logs import get_logger


@dataclass(frozen=True)
class CompletionParams:
    max_tokens: int | None = None
    temperature: float = 0.7
    extra: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class Completion:
    text: str
    input_tokens: int
    output_tokens: int
    cost: float
    latency_ms: int
    provider: str
    model: str


@runtime_checkable
class LLM(Protocol):
    #: True when the model writes a whole structured article from one prompt; False makes
    #: the pipeline write it section by section (small embedded models).
    long_form: bool

    async def complete(
        self, prompt: str, *, model: str, params: CompletionParams | None = None
    ) -> Completion:
        """Run one completion. Raises ``ProviderError`` (after retries) on failure."""

    async def aclose(self) -> None: ...


def logged_completion(backend: str, completion: Completion) -> Completion:
    """Log the ``llm_call`` event every backend emits for a finished call; return the call."""
    get_logger().info(
        "llm_call",
        backend=backend,
        model=completion.model,
        provider=completion.provider,
        input_tokens=completion.input_tokens,
        output_tokens=completion.output_tokens,
        cost=completion.cost,
        latency_ms=completion.latency_ms,
    )
    return completion
