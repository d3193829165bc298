"""The ``LLM`` protocol: one prompt in, one ``Completion`` out, in exactly one attempt.

Implementations (backends): ``OpenAICompatBackend`` (aiohttp to an OpenAI-compatible
endpoint; low per-call overhead), ``LiteLLMBackend`` (any litellm model string),
``LocalLlamaBackend`` (embedded GGUF via llama-cpp-python) and ``FakeLLM`` (scriptable, for
tests). A backend never retries: it makes one attempt and raises a classified
``ProviderError`` (``kind``) carrying that ``Attempt``. ``Router`` (``llm/router.py``) is an
``LLM`` too: it chooses the model, retries, falls back, rate-limits and breaks circuits, and
returns every attempt it made on the ``Completion`` (or on the ``ProviderError``).

``ModelCall`` is what the writer uses: a route bound to one request (``Router.bind``).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, Literal, Protocol, runtime_checkable

from contentgen.logs import get_logger

Mode = Literal["single", "sections"]
TextCallback = Callable[[str], None]


@dataclass(frozen=True)
class CompletionParams:
    max_tokens: int | None = None
    temperature: float = 0.7
    extra: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class Attempt:
    """One provider call that was made (paid or not); ``error`` None means it succeeded."""

    provider: str
    model: str
    input_tokens: int
    output_tokens: int
    cached_tokens: int
    reasoning_tokens: int
    cost: float | None  # None: price unknown; 0.0 for the embedded model
    latency_ms: int
    finish_reason: str | None
    error: str | None


@dataclass(frozen=True)
class Completion:
    text: str
    input_tokens: int
    output_tokens: int
    cost: float | None  # None: price unknown (never silently 0)
    latency_ms: int
    provider: str
    model: str
    finish_reason: str | None = None  # "stop" | "length" | "content_filter" | ...
    cached_tokens: int = 0
    reasoning_tokens: int = 0
    #: Filled by the router: every attempt of the call, failed ones first, this one last.
    attempts: tuple[Attempt, ...] = ()

    def as_attempt(self) -> Attempt:
        """This completion as the successful ``Attempt`` it was."""
        return Attempt(
            provider=self.provider,
            model=self.model,
            input_tokens=self.input_tokens,
            output_tokens=self.output_tokens,
            cached_tokens=self.cached_tokens,
            reasoning_tokens=self.reasoning_tokens,
            cost=self.cost,
            latency_ms=self.latency_ms,
            finish_reason=self.finish_reason,
            error=None,
        )


@runtime_checkable
class LLM(Protocol):
    async def complete(
        self,
        prompt: str,
        *,
        model: str,
        params: CompletionParams | None = None,
        on_text: TextCallback | None = None,
    ) -> Completion:
        """Run one completion. With ``on_text``, stream: call it with each piece of text as it
        arrives (usage stays exact). Raises a classified ``ProviderError`` on failure."""

    async def aclose(self) -> None: ...


@runtime_checkable
class ModelCall(Protocol):
    """A route bound to one request: what the writer calls (see ``Router.bind``)."""

    mode: Mode
    max_output_tokens: int | None
    model: str

    async def __call__(
        self,
        prompt: str,
        *,
        max_tokens: int | None = None,
        temperature: float | None = None,
        on_text: TextCallback | None = None,
    ) -> Completion:
        """Retries, fallback, breaker and rate limits happen inside."""


def failed_attempt(
    provider: str, model: str, error: str, latency_ms: int, **usage: Any
) -> Attempt:
    """An ``Attempt`` that failed. Token counts default to 0 and cost to 0.0 (a provider does
    not bill a request it refused); pass ``cost`` when tokens were reported (e.g. empty
    content)."""
    return Attempt(
        provider=provider,
        model=model,
        input_tokens=int(usage.get("input_tokens", 0)),
        output_tokens=int(usage.get("output_tokens", 0)),
        cached_tokens=int(usage.get("cached_tokens", 0)),
        reasoning_tokens=int(usage.get("reasoning_tokens", 0)),
        cost=usage.get("cost", 0.0),
        latency_ms=latency_ms,
        finish_reason=usage.get("finish_reason"),
        error=error,
    )


def logged_completion(backend: str, completion: Completion) -> Completion:
    """Log the ``llm_call`` event every backend emits for a finished call; return the call."""
    get_logger().info(
        "llm_call",
        backend=backend,
        model=completion.model,
        provider=completion.provider,
        input_tokens=completion.input_tokens,
        output_tokens=completion.output_tokens,
        cached_tokens=completion.cached_tokens,
        cost=completion.cost,
        latency_ms=completion.latency_ms,
        finish_reason=completion.finish_reason,
    )
    return completion
