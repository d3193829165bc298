"""``LiteLLMBackend``: any model string litellm understands (100+ providers).

litellm is imported on the first call, never at module import: it takes ~3.5 s and ~200 MB
(MEASUREMENTS.md). Before that import ``LITELLM_LOCAL_MODEL_COST_MAP`` is defaulted to ``True``
so litellm uses its bundled price map instead of fetching one over the network. One call is
one attempt (``num_retries=0``): failures are raised as a classified ``ProviderError``; the
router retries.

Keys: litellm reads each provider's own variable (``ANTHROPIC_API_KEY``, ...). An
``api_base``/``api_key`` is passed only when the router gives one for this model's endpoint
(``CONTENTGEN_API_BASE``/``CONTENTGEN_API_KEY`` belong to ``openai/`` and bare model names
only), so a key never reaches another provider's endpoint.
"""

from __future__ import annotations

import asyncio
import importlib
import os
import sys
import time
from collections.abc import Iterator
from typing import Any

import httpx

from contentgen.errors import ProviderError, ProviderErrorKind, ProviderUnavailable
from contentgen.llm import pricing
from contentgen.llm.base import (
    Completion,
    CompletionParams,
    TextCallback,
    failed_attempt,
    logged_completion,
)
from contentgen.llm.openai_compat import TIMEOUT_HINT, kind_of_status, retry_after
from contentgen.llm.secrets import Secrets
from contentgen.settings import Settings

#: litellm exception class names -> kind (the first match in the MRO wins).
_KINDS: tuple[tuple[str, ProviderErrorKind], ...] = (
    ("Timeout", "timeout"),
    ("RateLimitError", "rate_limit"),
    ("AuthenticationError", "auth"),
    ("PermissionDeniedError", "auth"),
    ("ContextWindowExceededError", "bad_request"),
    ("BadRequestError", "bad_request"),
    ("NotFoundError", "bad_request"),
    ("UnprocessableEntityError", "bad_request"),
    ("APIResponseValidationError", "malformed"),
    ("APIConnectionError", "connection"),
)
#: Lower-level causes that mean "could not reach the provider". litellm reports a refused
#: connection to an OpenAI-compatible server as ``InternalServerError("Connection error.")``
#: caused by ``openai.APIConnectionError`` <- ``httpx.ConnectError`` <- ``ConnectionRefusedError``.
_UNREACHABLE_CAUSES: tuple[type[BaseException], ...] = (
    ConnectionError,
    httpx.ConnectError,
)
_TIMEOUT_CAUSES: tuple[type[BaseException], ...] = (TimeoutError, httpx.TimeoutException)


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


def _first_line(text: str) -> str:
    """litellm messages can carry a traceback or a dump: keep the first meaningful line."""
    for line in text.strip().splitlines():
        line = line.strip()
        if line and not line.startswith("Traceback"):
            return line[:400]
    return text.strip()[:400]


class LiteLLMBackend:
    """An ``LLM`` over ``litellm.acompletion``; ``api_base``/``api_key`` for one endpoint."""

    def __init__(
        self,
        settings: Settings,
        *,
        api_base: str | None = None,
        api_key: str | None = None,
        key_variable: str | None = None,
        secrets: Secrets | None = None,
    ) -> None:
        self._settings = settings
        self.api_base = api_base
        self._key = api_key
        self.key_variable = key_variable
        self._secrets = secrets or Secrets([api_key or ""])
        self._litellm: Any = None

    async def _lib(self) -> Any:
        if self._litellm is None:
            # The import takes seconds: keep the event loop responsive meanwhile.
            self._litellm = await asyncio.to_thread(_import_litellm)
        return self._litellm

    def _provider(self, model: str) -> str:
        if "/" in model:
            return model.split("/", 1)[0]
        try:
            return str(self._litellm.get_llm_provider(model)[1])
        except Exception:
            return "unknown"

    def _kind(self, exc: BaseException) -> ProviderErrorKind:
        litellm = self._litellm
        if _client_side(exc):
            return "auth"
        for name, kind in _KINDS:
            if isinstance(exc, _classes(litellm, (name,))):
                return kind
        causes = list(_causes(exc))
        if any(isinstance(e, _TIMEOUT_CAUSES) for e in causes):
            return "timeout"
        openai = sys.modules.get("openai")
        unreachable = (*_UNREACHABLE_CAUSES, *_classes(openai, ("APIConnectionError",)))
        if any(isinstance(e, unreachable) for e in causes):
            return "connection"
        status = getattr(exc, "status_code", None)
        return kind_of_status(status) if isinstance(status, int) else "server"

    def _translate(
        self, model: str, exc: Exception, started: float, received: int = 0, prompt: str = ""
    ) -> ProviderError:
        """``exc`` as a ``ProviderError``. ``received``: text chunks a stream had delivered
        before it broke off (the attempt is then paid for: the prompt and those, counted)."""
        provider = self._provider(model)
        kind = self._kind(exc)
        raw = getattr(exc, "message", None) or str(exc) or type(exc).__name__
        where = f" at {self.api_base}" if self.api_base else ""
        detail = f"{type(exc).__name__} from {provider}{where}: {_first_line(str(raw))}"
        if received:
            detail = f"the reply broke off after {received} tokens ({detail})"
        status = getattr(exc, "status_code", None)
        status = status if isinstance(status, int) else None
        if kind == "auth":
            detail += f" (check {self.key_variable or 'the provider key'})"
        elif kind == "timeout":
            detail += f" (after {self._settings.llm_timeout:g} s, CONTENTGEN_LLM_TIMEOUT; " \
                      f"{TIMEOUT_HINT})"
        elif kind == "connection" and not received:
            detail += (
                " (check CONTENTGEN_API_BASE and that the server is up)" if where
                else " (check the network connection)"
            )  # fmt: skip
        response = getattr(exc, "response", None)
        wait = retry_after(getattr(response, "headers", None) or {})
        message = self._secrets.mask(f"{model}: {detail}")
        ms = round((time.perf_counter() - started) * 1000)
        counted = {}
        if received:
            estimate = max(1, len(prompt) // 4)
            counted = {"input_tokens": estimate, "output_tokens": received,
                       "cost": pricing.cost(model, estimate, received, 0, 0)}  # fmt: skip
        attempt = failed_attempt(provider, model, message, ms, **counted)
        cls = ProviderUnavailable if kind in ("timeout", "connection") else ProviderError
        return cls(message, provider=provider, model=model, kind=kind, attempts=(attempt,),
                   retry_after=wait, status=status)  # fmt: skip

    async def complete(
        self,
        prompt: str,
        *,
        model: str,
        params: CompletionParams | None = None,
        on_text: TextCallback | None = None,
    ) -> Completion:
        params = params or CompletionParams()
        litellm = await self._lib()  # not timed: the import is not the generation
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
        if self.api_base:
            kwargs["api_base"] = self.api_base
        if self._key:
            kwargs["api_key"] = self._key
        if on_text is not None:
            kwargs["stream"] = True
            kwargs["stream_options"] = {"include_usage": True}
        started = time.perf_counter()
        received: list[str] = []  # a stream's text chunks so far
        try:
            response = await litellm.acompletion(**kwargs)
            if on_text is not None:
                text, finish, usage = await _read_stream(response, on_text, received)
            else:
                choice = response.choices[0]
                text = str(choice.message.content or "")
                finish = getattr(choice, "finish_reason", None)
                usage = getattr(response, "usage", None)
        except (AttributeError, IndexError) as exc:
            message = self._secrets.mask(f"{model}: the provider's response has no message")
            ms = round((time.perf_counter() - started) * 1000)
            provider = self._provider(model)
            raise ProviderError(message, provider=provider, model=model, kind="malformed",
                                attempts=(failed_attempt(provider, model, message, ms),)) from exc
        except Exception as exc:
            raise self._translate(model, exc, started, len(received), prompt) from exc
        latency_ms = round((time.perf_counter() - started) * 1000)
        input_tokens = int(getattr(usage, "prompt_tokens", 0) or 0)
        output_tokens = int(getattr(usage, "completion_tokens", 0) or 0)
        details = getattr(usage, "prompt_tokens_details", None)
        cached = int(getattr(details, "cached_tokens", 0) or 0)
        out_details = getattr(usage, "completion_tokens_details", None)
        reasoning = int(getattr(out_details, "reasoning_tokens", 0) or 0)
        cost = pricing.cost(model, input_tokens, output_tokens, cached, reasoning)
        provider = self._provider(model)
        if not text.strip():
            message = self._secrets.mask(
                f"{model}: {provider} returned empty content (finish_reason {finish!r})"
            )
            attempt = failed_attempt(
                provider, model, message, latency_ms, input_tokens=input_tokens,
                output_tokens=output_tokens, cached_tokens=cached, reasoning_tokens=reasoning,
                cost=cost, finish_reason=finish,
            )  # fmt: skip
            raise ProviderError(message, provider=provider, model=model, kind="empty",
                                attempts=(attempt,))  # fmt: skip
        return logged_completion(
            "litellm",
            Completion(
                text=text,
                input_tokens=input_tokens,
                output_tokens=output_tokens,
                cost=cost,
                latency_ms=latency_ms,
                provider=provider,
                model=model,
                finish_reason=finish,
                cached_tokens=cached,
                reasoning_tokens=reasoning,
            ),
        )

    async def warm(self, model: str) -> None:
        """Import litellm now (seconds), not during a timed generation."""
        await self._lib()

    async def aclose(self) -> None:
        """Nothing of ours to close: litellm keeps its HTTP clients in a process-wide cache."""


async def _read_stream(
    response: Any, on_text: TextCallback, parts: list[str]
) -> tuple[str, str | None, Any]:
    """The stream's text, finish reason and usage; ``parts`` collects the text chunks as they
    come (what a stream that breaks off had delivered)."""
    finish: str | None = None
    usage: Any = None
    async for chunk in response:
        for choice in getattr(chunk, "choices", None) or ():
            delta = getattr(getattr(choice, "delta", None), "content", None)
            if delta:
                parts.append(delta)
                on_text(delta)
            finish = getattr(choice, "finish_reason", None) or finish
        usage = getattr(chunk, "usage", None) or usage
    return "".join(parts), finish, usage
