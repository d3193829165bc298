"""``LiteLLMBackend``: any model string litellm understands (100+ providers).

litellm is imported on the first call, never at module import: it takes ~3.5 s and ~200 MB
(MEASUREMENTS.md). Before that import ``LITELLM_LOCAL_MODEL_COST_MAP`` is defaulted to ``True``
so litellm uses its bundled price map instead of fetching one over the network. litellm's own
retries are switched off (``num_retries=0``); the shared retry policy in ``retry`` decides.
"""

from __future__ import annotations

import asyncio
import importlib
import os
import sys
import time
from collections.abc import Iterator
from functools import partial
from typing import Any

import httpx

from contentgen.errors import ProviderError, ProviderUnavailable
from contentgen.llm import pricing
from contentgen.llm.base import Completion, CompletionParams, logged_completion
from contentgen.llm.retry import UNREACHABLE_HINT, call_with_retries, scrub, with_hint
from contentgen.settings import Settings

#: litellm exception classes worth another attempt (looked up by name after the import).
TRANSIENT_ERRORS = (
    "APIConnectionError",
    "Timeout",
    "RateLimitError",
    "ServiceUnavailableError",
    "InternalServerError",
)
#: Of those, the ones that mean "could not reach the provider at all".
UNAVAILABLE_ERRORS = ("APIConnectionError", "Timeout")
#: Lower-level causes that mean the same. litellm reports a refused connection to an
#: OpenAI-compatible server as ``InternalServerError("Connection error.")`` caused by
#: ``openai.APIConnectionError`` <- ``httpx.ConnectError`` <- ``ConnectionRefusedError``.
_UNREACHABLE_CAUSES: tuple[type[BaseException], ...] = (
    ConnectionError,
    TimeoutError,
    httpx.ConnectError,
    httpx.TimeoutException,
)


def _import_litellm() -> Any:
    os.environ.setdefault("LITELLM_LOCAL_MODEL_COST_MAP", "True")
    litellm: Any = importlib.import_module("litellm")
    # litellm prints "Give Feedback / Get Help" banners on errors; a library must not print.
    litellm.suppress_debug_info = True
    return litellm


def _classes(module: Any, names: tuple[str, ...]) -> tuple[type[BaseException], ...]:
    return tuple(c for n in names if isinstance(c := getattr(module, n, None), type))


def _causes(exc: BaseException) -> Iterator[BaseException]:
    """``exc`` and the exceptions it was raised from, innermost last."""
    seen: set[int] = set()
    current: BaseException | None = exc
    while current is not None and id(current) not in seen:
        seen.add(id(current))
        yield current
        current = current.__cause__ or current.__context__


def _client_side(exc: BaseException) -> bool:
    """A failure before any request was sent, e.g. the openai client's "Missing credentials".

    litellm reports those as ``InternalServerError`` (status 500); retrying cannot help. They
    show as an innermost ``openai.OpenAIError`` that is not an ``openai.APIError``.
    """
    openai = sys.modules.get("openai")  # loaded by litellm
    base, api_error = _classes(openai, ("OpenAIError",)), _classes(openai, ("APIError",))
    if not base or not api_error:
        return False
    innermost = list(_causes(exc))[-1]
    return isinstance(innermost, base) and not isinstance(innermost, api_error)


class LiteLLMBackend:
    """An ``LLM`` over ``litellm.acompletion``."""

    long_form = True

    def __init__(self, settings: Settings) -> None:
        self._settings = settings
        self._key = settings.api_key.get_secret_value() if settings.api_key else None
        self._litellm: Any = None

    async def _lib(self) -> Any:
        if self._litellm is None:
            # The import takes seconds: keep the event loop responsive meanwhile.
            self._litellm = await asyncio.to_thread(_import_litellm)
        return self._litellm

    def _is_transient(self, exc: BaseException) -> bool:
        litellm = self._litellm
        if _client_side(exc):
            return False
        if isinstance(exc, _classes(litellm, TRANSIENT_ERRORS)):
            return True
        status = getattr(exc, "status_code", None)
        return (
            isinstance(exc, _classes(litellm, ("APIError",)))
            and isinstance(status, int)
            and status >= 500
        )

    def _provider(self, model: str) -> str:
        if "/" in model:
            return model.split("/", 1)[0]
        try:
            return str(self._litellm.get_llm_provider(model)[1])
        except Exception:
            return "unknown"

    def _unreachable(self, exc: BaseException) -> bool:
        openai = sys.modules.get("openai")  # loaded by litellm
        kinds = (
            *_classes(self._litellm, UNAVAILABLE_ERRORS),
            *_classes(openai, ("APIConnectionError",)),
            *_UNREACHABLE_CAUSES,
        )
        return any(isinstance(e, kinds) for e in _causes(exc))

    def _translate(self, model: str, exc: Exception, attempts: int) -> ProviderError:
        provider = self._provider(model)
        tries = f"{attempts} attempt{'s' if attempts != 1 else ''}"
        raw = getattr(exc, "message", None) or str(exc) or type(exc).__name__
        detail = scrub(str(raw), self._key)
        where = f" at {self._settings.api_base}" if self._settings.api_base else ""
        if self._unreachable(exc):
            return ProviderUnavailable(
                f"{model}: provider {provider}{where} unreachable after {tries}: {detail}; "
                + (UNREACHABLE_HINT if where else "check the network connection"),
                provider=provider,
                model=model,
                attempts=attempts,
            )
        status = getattr(exc, "status_code", None)
        status = status if isinstance(status, int) else None
        return ProviderError(
            with_hint(
                f"{model}: {type(exc).__name__} from {provider}{where} after {tries}: {detail}",
                status,
            ),
            provider=provider,
            model=model,
            attempts=attempts,
            status_code=status,
        )

    async def _call(self, kwargs: dict[str, Any]) -> Any:
        return await self._litellm.acompletion(**kwargs)

    def _cost(self, model: str, response: Any, input_tokens: int, output_tokens: int) -> float:
        try:
            value = self._litellm.completion_cost(completion_response=response)
        except Exception:
            value = None
        if isinstance(value, int | float) and value > 0:
            return float(value)
        return pricing.cost(model, input_tokens, output_tokens)

    async def complete(
        self, prompt: str, *, model: str, params: CompletionParams | None = None
    ) -> Completion:
        params = params or CompletionParams()
        await self._lib()
        kwargs: dict[str, Any] = {
            "model": model,
            "messages": [{"role": "user", "content": prompt}],
            "timeout": self._settings.llm_timeout,
            "temperature": params.temperature,
            "num_retries": 0,
            **params.extra,
        }
        if params.max_tokens is not None:
            kwargs["max_tokens"] = params.max_tokens
        if self._settings.api_base:
            kwargs["api_base"] = self._settings.api_base
        if self._key:
            kwargs["api_key"] = self._key
        started = time.perf_counter()
        response = await call_with_retries(
            partial(self._call, kwargs),
            attempts=self._settings.llm_retries,
            wait=self._settings.retry_wait,
            is_transient=self._is_transient,
            translate=partial(self._translate, model),
            model=model,
        )
        latency_ms = round((time.perf_counter() - started) * 1000)
        try:
            text = response.choices[0].message.content or ""
        except (AttributeError, IndexError) as exc:
            raise ProviderError(
                f"{model}: the provider's response has no message",
                provider=self._provider(model),
                model=model,
            ) from exc
        usage = getattr(response, "usage", None)
        input_tokens = int(getattr(usage, "prompt_tokens", 0) or 0)
        output_tokens = int(getattr(usage, "completion_tokens", 0) or 0)
        cost = self._cost(model, response, input_tokens, output_tokens)
        provider = self._provider(model)
        return logged_completion(
            "litellm",
            Completion(
                text=str(text),
                input_tokens=input_tokens,
                output_tokens=output_tokens,
                cost=cost,
                latency_ms=latency_ms,
                provider=provider,
                model=model,
            ),
        )

    async def aclose(self) -> None:
        """Nothing of ours to close: litellm keeps its HTTP clients in a process-wide cache."""
