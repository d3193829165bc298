"""``OpenAICompatBackend``: plain httpx to any OpenAI-compatible ``/chat/completions``.

The low-overhead path for batches: litellm spends ~2.8 ms CPU per call (MEASUREMENTS.md), a
pooled ``httpx.AsyncClient`` a fraction of that. Works with OpenAI, vLLM, Ollama, the llama.cpp
server, OpenRouter and anything else that speaks the chat completions API. Prices come from
``pricing`` (litellm's bundled table, read without importing litellm).
"""

from __future__ import annotations

import json
import time
from functools import partial
from http import HTTPStatus
from typing import Any

import httpx

from contentgen.errors import ProviderError, ProviderUnavailable
from contentgen.llm import pricing
from contentgen.llm._http1 import Http1Pool, usable_for
from contentgen.llm.base import Completion, CompletionParams, logged_completion
from contentgen.llm.retry import UNREACHABLE_HINT, call_with_retries, scrub, with_hint
from contentgen.settings import Settings

DEFAULT_API_BASE = "https://api.openai.com/v1"


class HTTPFailure(Exception):
    """A response that is not a usable completion (status >= 400 or a malformed body)."""

    def __init__(self, status: int, message: str) -> None:
        super().__init__(f"HTTP {status}: {message}")
        self.status = status
        self.message = message


def wire_model(model: str) -> str:
    """The model name sent to the server: ``openai/gpt-4o-mini`` -> ``gpt-4o-mini``.

    Only the ``openai/`` prefix is removed: other slashes belong to names such as vLLM's
    ``meta-llama/Llama-3.1-8B-Instruct``.
    """
    return model.removeprefix("openai/")


def provider_of(model: str) -> str:
    return model.split("/", 1)[0] if "/" in model else "openai"


def is_transient(exc: BaseException) -> bool:
    """Worth another attempt: connection trouble, timeouts, 429 and 5xx answers."""
    if isinstance(exc, HTTPFailure):
        return exc.status == 429 or exc.status >= 500
    if isinstance(exc, httpx.UnsupportedProtocol | httpx.LocalProtocolError):
        return False
    return isinstance(exc, httpx.TransportError)


def _server_message(status: int, body: bytes) -> str:
    """The error message of an OpenAI-style error body, else the start of the body."""
    try:
        data = json.loads(body)
    except ValueError:
        return body.decode("utf-8", "replace")[:300].strip() or _reason(status)
    if isinstance(data, dict):
        error = data.get("error")
        if isinstance(error, dict) and error.get("message"):
            return str(error["message"])
        if isinstance(error, str):
            return error
        if data.get("message"):
            return str(data["message"])
    return str(data)[:300]


def _reason(status: int) -> str:
    try:
        return HTTPStatus(status).phrase
    except ValueError:
        return f"status {status}"


def _parse(data: Any) -> tuple[str, int, int]:
    """``(text, prompt_tokens, completion_tokens)`` of a chat.completion body."""
    try:
        message = data["choices"][0]["message"]
        text = message.get("content") or ""
    except (KeyError, IndexError, TypeError, AttributeError) as exc:
        raise HTTPFailure(200, f"response has no choices[0].message: {str(data)[:200]}") from exc
    usage = data.get("usage") or {}
    return str(text), int(usage.get("prompt_tokens") or 0), int(usage.get("completion_tokens") or 0)


class OpenAICompatBackend:
    """An ``LLM`` over an OpenAI-compatible HTTP API (``settings.api_base``)."""

    long_form = True

    def __init__(self, settings: Settings, *, max_connections: int = 256) -> None:
        self._settings = settings
        self._base = (settings.api_base or DEFAULT_API_BASE).rstrip("/")
        self._key = settings.api_key.get_secret_value() if settings.api_key else None
        self._max_connections = max_connections
        self._client: httpx.AsyncClient | None = None
        # Plain http:// (a local server) skips httpx: ~1 ms less CPU per call (see _http1).
        self._raw = usable_for(self._base)
        self._pool: Http1Pool | None = None

    def _headers(self) -> dict[str, str]:
        headers = {"Accept": "application/json"}
        if self._key:
            headers["Authorization"] = f"Bearer {self._key}"
        return headers

    def _http(self) -> httpx.AsyncClient:
        if self._client is None:
            self._client = httpx.AsyncClient(
                headers=self._headers(),
                timeout=httpx.Timeout(self._settings.llm_timeout),
                limits=httpx.Limits(
                    max_connections=self._max_connections,
                    max_keepalive_connections=self._max_connections,
                ),
            )
        return self._client

    async def _send(self, body: dict[str, Any]) -> tuple[int, bytes]:
        if self._raw:
            if self._pool is None:
                self._pool = Http1Pool(
                    self._base, self._headers(), timeout=self._settings.llm_timeout,
                    max_connections=self._max_connections,
                )  # fmt: skip
            data = json.dumps(body, ensure_ascii=False, separators=(",", ":"), allow_nan=False)
            return await self._pool.post("/chat/completions", data.encode())
        response = await self._http().post(f"{self._base}/chat/completions", json=body)
        return response.status_code, response.content

    async def _post(self, body: dict[str, Any]) -> tuple[str, int, int]:
        status, content = await self._send(body)
        if status >= 400:
            raise HTTPFailure(status, _server_message(status, content))
        try:
            data = json.loads(content)
        except ValueError as exc:
            raise HTTPFailure(status, "response body is not JSON") from exc
        return _parse(data)

    def _translate(self, model: str, exc: Exception, attempts: int) -> ProviderError:
        provider = provider_of(model)
        tries = f"{attempts} attempt{'s' if attempts != 1 else ''}"
        if isinstance(exc, httpx.ConnectError | httpx.TimeoutException):
            what = "timed out" if isinstance(exc, httpx.TimeoutException) else "cannot connect"
            detail = scrub(str(exc) or type(exc).__name__, self._key)
            return ProviderUnavailable(
                f"{model}: {what} to {self._base} ({detail}) after {tries}; {UNREACHABLE_HINT}",
                provider=provider,
                model=model,
                attempts=attempts,
            )
        if isinstance(exc, HTTPFailure):
            message = f"{model}: HTTP {exc.status} from {self._base} after {tries}: {exc.message}"
            return ProviderError(
                scrub(with_hint(message, exc.status), self._key),
                provider=provider,
                model=model,
                attempts=attempts,
                status_code=exc.status,
            )
        detail = scrub(f"{type(exc).__name__}: {exc}", self._key)
        return ProviderError(
            f"{model}: request to {self._base} failed after {tries}: {detail}",
            provider=provider,
            model=model,
            attempts=attempts,
        )

    async def complete(
        self, prompt: str, *, model: str, params: CompletionParams | None = None
    ) -> Completion:
        params = params or CompletionParams()
        body: dict[str, Any] = {
            "model": wire_model(model),
            "messages": [{"role": "user", "content": prompt}],
            "temperature": params.temperature,
            **params.extra,
        }
        if params.max_tokens is not None:
            body["max_tokens"] = params.max_tokens
        started = time.perf_counter()
        text, input_tokens, output_tokens = await call_with_retries(
            partial(self._post, body),
            attempts=self._settings.llm_retries,
            wait=self._settings.retry_wait,
            is_transient=is_transient,
            translate=partial(self._translate, model),
            model=model,
        )
        latency_ms = round((time.perf_counter() - started) * 1000)
        cost = pricing.cost(model, input_tokens, output_tokens)
        provider = provider_of(model)
        return logged_completion(
            "openai_compat",
            Completion(
                text=text,
                input_tokens=input_tokens,
                output_tokens=output_tokens,
                cost=cost,
                latency_ms=latency_ms,
                provider=provider,
                model=model,
            ),
        )

    async def aclose(self) -> None:
        if self._pool is not None:
            pool, self._pool = self._pool, None
            await pool.aclose()
        if self._client is not None:
            await self._client.aclose()
            self._client = None
