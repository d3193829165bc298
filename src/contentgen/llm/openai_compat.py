"""``OpenAICompatBackend``: aiohttp to any OpenAI-compatible ``/chat/completions``.

The low-overhead path: litellm spends ~2.8 ms CPU per call and httpx ~0.85 ms, aiohttp 0.17 ms
(MEASUREMENTS.md). One pooled ``aiohttp.ClientSession`` per endpoint serves http and https
alike: TLS verified against the system store (``SSL_CERT_FILE`` is honoured), proxies from
the environment (``HTTPS_PROXY``/``HTTP_PROXY``/``NO_PROXY``, looked up once), keep-alive,
and ``settings.llm_timeout`` per call. Works with OpenAI, vLLM, Ollama, the llama.cpp
server, OpenRouter and anything else that speaks the chat completions API. aiohttp is
imported on the first call.

One call is one attempt: failures are raised as a ``ProviderError`` whose ``kind`` says what
happened (``rate_limit`` with the server's ``Retry-After``, ``auth``, ``bad_request``,
``server``, ``timeout``, ``connection``, ``malformed``, ``empty``) and whose ``attempts`` holds
the one ``Attempt``; retrying is the router's business. Reading what the server says
(status, error body, ``Retry-After``, the completion body) is ``openai_wire.py``.
"""

from __future__ import annotations

import asyncio
import json
import ssl
import time
from typing import Any

from contentgen.errors import ProviderError, ProviderErrorKind, ProviderUnavailable
from contentgen.llm import pricing
from contentgen.llm.base import (
    Completion,
    CompletionParams,
    TextCallback,
    failed_attempt,
    logged_completion,
)
from contentgen.llm.openai_wire import (
    Malformed,
    ResponseUsage,
    kind_of_status,
    parse_completion,
    provider_of,
    retry_after,
    server_message,
    wire_model,
)
from contentgen.llm.secrets import Secrets
from contentgen.settings import Settings

DEFAULT_API_BASE = "https://api.openai.com/v1"
TIMEOUT_HINT = "raise CONTENTGEN_LLM_TIMEOUT if the model needs longer"

#: The wire helpers are re-exported: ``litellm_backend`` and the tests import them from here.
__all__ = ["DEFAULT_API_BASE", "TIMEOUT_HINT", "OpenAICompatBackend", "kind_of_status",
           "provider_of", "retry_after", "wire_model"]  # fmt: skip
_MAX_ERROR_TEXT = 300



class OpenAICompatBackend:
    """An ``LLM`` over one OpenAI-compatible HTTP endpoint.

    ``api_base``/``api_key`` default to ``settings.api_base``/``settings.api_key``;
    ``key_variable`` is the setting the key came from, named in ``auth`` errors.
    """

    def __init__(
        self,
        settings: Settings,
        *,
        api_base: str | None = None,
        api_key: str | None = None,
        key_variable: str = "CONTENTGEN_API_KEY",
        max_connections: int = 256,
        secrets: Secrets | None = None,
    ) -> None:
        self._settings = settings
        self.base = (api_base or settings.api_base or DEFAULT_API_BASE).rstrip("/")
        if api_key is None and api_base is None and settings.api_key is not None:
            api_key = settings.api_key.get_secret_value()
        self._key = api_key
        self.key_variable = key_variable
        self._max_connections = max_connections
        self._secrets = secrets or Secrets([api_key or ""])
        self._session: Any = None
        self._aiohttp: Any = None

    def _headers(self) -> dict[str, str]:
        headers = {"Accept": "application/json", "Content-Type": "application/json",
                   "User-Agent": "contentgen"}  # fmt: skip
        if self._key:
            headers["Authorization"] = f"Bearer {self._key}"
        return headers

    def _http(self) -> Any:
        if self._session is None or self._session.closed:
            import aiohttp  # ~0.1 s: only when a call is made

            self._aiohttp = aiohttp
            proxy, proxy_auth = _env_proxy(self.base)
            # trust_env=True would look up the proxy (and ~/.netrc) in a worker thread on every
            # request (~0.5 ms of CPU each); the endpoint is fixed, so it is looked up once.
            self._session = aiohttp.ClientSession(
                headers=self._headers(),
                timeout=aiohttp.ClientTimeout(total=self._settings.llm_timeout),
                connector=aiohttp.TCPConnector(
                    limit=self._max_connections, limit_per_host=0, ssl=_tls_context(self.base)
                ),
                proxy=proxy,
                proxy_auth=proxy_auth,
            )
        return self._session

    # -- errors ----------------------------------------------------------------------------

    def _error(
        self, model: str, kind: ProviderErrorKind, detail: str, started: float, *,
        status: int | None = None, wait: float | None = None, usage: ResponseUsage | None = None,
        cost: float | None = 0.0,
    ) -> ProviderError:  # fmt: skip
        provider = provider_of(model)
        message = self._secrets.mask(f"{model}: {detail}")
        tokens = {}
        if usage is not None:
            tokens = {"input_tokens": usage.input, "output_tokens": usage.output,
                      "cached_tokens": usage.cached, "reasoning_tokens": usage.reasoning,
                      "finish_reason": usage.finish}  # fmt: skip
        attempt = failed_attempt(provider, model, message, _ms(started), cost=cost, **tokens)
        cls = ProviderUnavailable if kind in ("timeout", "connection") else ProviderError
        return cls(message, provider=provider, model=model, kind=kind, attempts=(attempt,),
                   retry_after=wait, status=status)  # fmt: skip

    def _transport_error(self, model: str, exc: BaseException, started: float) -> ProviderError:
        aiohttp = self._aiohttp
        if isinstance(exc, TimeoutError | asyncio.TimeoutError) or (
            aiohttp is not None and isinstance(exc, aiohttp.ServerTimeoutError)
        ):
            detail = (f"no answer from {self.base} within {self._settings.llm_timeout:g} s "
                      f"(CONTENTGEN_LLM_TIMEOUT); {TIMEOUT_HINT}")  # fmt: skip
            return self._error(model, "timeout", detail, started)
        what = f"{type(exc).__name__}: {exc}" if str(exc) else type(exc).__name__
        if aiohttp is not None and isinstance(exc, aiohttp.ClientConnectorCertificateError):
            detail = (f"TLS certificate of {self.base} not trusted ({what}); set SSL_CERT_FILE "
                      "to your CA bundle")  # fmt: skip
            return self._error(model, "connection", detail, started)
        dropped: tuple[type[BaseException], ...] = (ConnectionResetError,)
        if aiohttp is not None:
            dropped += (aiohttp.ServerDisconnectedError, aiohttp.ClientPayloadError)
        if isinstance(exc, dropped):
            detail = f"{self.base} closed the connection before it answered ({what})"
            return self._error(model, "connection", detail, started)
        detail = (f"cannot connect to {self.base} ({what}); check CONTENTGEN_API_BASE and that "
                  "the server is up")  # fmt: skip
        return self._error(model, "connection", detail, started)

    def _status_error(
        self, model: str, status: int, body: bytes, headers: Any, started: float
    ) -> ProviderError:
        kind = kind_of_status(status)
        detail = f"HTTP {status} from {self.base}: {server_message(status, body)}"
        if kind == "auth":
            detail += f" (check {self.key_variable})"
        elif kind == "rate_limit":
            detail += " (rate limited: lower CONTENTGEN_CONCURRENCY or set CONTENTGEN_RPM_LIMITS)"
        elif status == 404:
            detail += " (check the model name and CONTENTGEN_API_BASE)"
        return self._error(model, kind, detail, started, status=status, wait=retry_after(headers))

    # -- calls -----------------------------------------------------------------------------

    def _body(self, prompt: str, model: str, params: CompletionParams, stream: bool) -> bytes:
        body: dict[str, Any] = {
            "model": wire_model(model),
            "messages": [{"role": "user", "content": prompt}],
            "temperature": params.temperature,
            **params.extra,
        }
        if params.max_tokens is not None:
            body["max_tokens"] = params.max_tokens
        if stream:
            body["stream"] = True
            body["stream_options"] = {"include_usage": True}
        return json.dumps(body, ensure_ascii=False, separators=(",", ":")).encode()

    async def complete(
        self,
        prompt: str,
        *,
        model: str,
        params: CompletionParams | None = None,
        on_text: TextCallback | None = None,
    ) -> Completion:
        params = params or CompletionParams()
        data = self._body(prompt, model, params, stream=on_text is not None)
        session = self._http()
        usage = ResponseUsage()
        started = time.perf_counter()
        try:
            if on_text is None:
                text = await self._post(session, model, data, usage, started)
            else:
                text = await self._stream(session, model, data, usage, started, prompt, on_text)
        except ProviderError:
            raise
        except (OSError, TimeoutError) as exc:
            raise self._transport_error(model, exc, started) from exc
        except Exception as exc:
            if self._aiohttp is not None and isinstance(exc, self._aiohttp.ClientError):
                raise self._transport_error(model, exc, started) from exc
            raise
        cost = pricing.cost(model, usage.input, usage.output, usage.cached, usage.reasoning)
        if not text.strip():
            raise self._error(
                model, "empty",
                f"{self.base} returned empty content (finish_reason {usage.finish!r})",
                started, usage=usage, cost=cost,
            )  # fmt: skip
        return logged_completion(
            "openai_compat",
            Completion(
                text=text,
                input_tokens=usage.input,
                output_tokens=usage.output,
                cost=cost,
                latency_ms=_ms(started),
                provider=provider_of(model),
                model=model,
                finish_reason=usage.finish,
                cached_tokens=usage.cached,
                reasoning_tokens=usage.reasoning,
            ),
        )

    async def _post(
        self, session: Any, model: str, data: bytes, usage: ResponseUsage, started: float
    ) -> str:
        async with session.post(f"{self.base}/chat/completions", data=data) as response:
            body = await response.read()
            if response.status >= 400:
                raise self._status_error(model, response.status, body, response.headers, started)
        try:
            return parse_completion(json.loads(body), usage)
        except ValueError as exc:
            snippet = body[:120].decode("utf-8", "replace")
            raise self._error(model, "malformed", f"{self.base} answered with a body that is not "
                              f"JSON: {snippet!r}", started, status=200) from exc  # fmt: skip
        except Malformed as exc:
            raise self._error(model, "malformed", f"{self.base}: {exc}", started) from exc

    async def _stream(
        self, session: Any, model: str, data: bytes, usage: ResponseUsage, started: float,
        prompt: str, on_text: TextCallback,
    ) -> str:  # fmt: skip
        """Server-sent events: ``data: {chunk}`` lines, then ``data: [DONE]``. Usage comes in
        the last chunk when the server honours ``stream_options.include_usage``; otherwise the
        text chunks are counted (one token each, as vLLM and llama.cpp send them)."""
        timeout = self._aiohttp.ClientTimeout(total=None, sock_connect=self._settings.llm_timeout,
                                              sock_read=self._settings.llm_timeout)  # fmt: skip
        url = f"{self.base}/chat/completions"
        async with session.post(url, data=data, timeout=timeout) as response:
            if response.status >= 400:
                body = await response.read()
                raise self._status_error(model, response.status, body, response.headers, started)
            try:
                return await self._events(response, model, usage, started, prompt, on_text)
            except ProviderError:
                raise
            except Exception as exc:
                if not usage.output:  # nothing came: an ordinary transport error
                    raise
                raise self._broken_stream(model, exc, usage, started) from exc

    def _broken_stream(
        self, model: str, exc: BaseException, usage: ResponseUsage, started: float
    ) -> ProviderError:
        """The reply broke off after some text came: a failed attempt that is still paid for
        (the prompt and the tokens received, counted)."""
        timeout = isinstance(exc, TimeoutError | asyncio.TimeoutError)
        what = f"{type(exc).__name__}: {exc}" if str(exc) else type(exc).__name__
        detail = (f"the reply from {self.base} broke off after {usage.output} tokens ({what})")
        cost = pricing.cost(model, usage.input, usage.output, 0, 0)
        return self._error(model, "timeout" if timeout else "connection", detail, started,
                           usage=usage, cost=cost)  # fmt: skip

    async def _events(
        self, response: Any, model: str, usage: ResponseUsage, started: float, prompt: str,
        on_text: TextCallback,
    ) -> str:  # fmt: skip
        """The stream's text; ``usage`` as reported, else counted (also while it is read, so
        a stream that breaks off leaves what was received in ``usage``)."""
        parts: list[str] = []
        reported = False
        estimate = max(1, len(prompt) // 4) if prompt else 0
        async for raw in response.content:
            line = raw.strip()
            if not line.startswith(b"data:"):
                continue
            payload = line[5:].strip()
            if payload == b"[DONE]":
                break
            try:
                chunk = json.loads(payload)
            except ValueError as exc:
                detail = f"{self.base} sent a stream chunk that is not JSON: {payload[:80]!r}"
                raise self._error(model, "malformed", detail, started) from exc
            if not isinstance(chunk, dict):
                continue
            if chunk.get("usage"):
                usage.read(chunk["usage"])
                reported = True
            for choice in chunk.get("choices") or ():
                delta = (choice.get("delta") or {}).get("content")
                if delta:
                    parts.append(delta)
                    if not reported:  # one token per chunk until the server says
                        usage.output, usage.input = usage.output + 1, estimate
                    on_text(delta)
                if choice.get("finish_reason"):
                    usage.finish = choice["finish_reason"]
        if not reported:
            usage.input = estimate
        return "".join(parts)

    async def warm(self, model: str) -> None:
        """Import aiohttp and open the session now (not during a timed generation)."""
        self._http()

    async def list_models(self) -> list[str]:
        """The model ids the server lists at ``/models`` (OpenAI's ``GET /v1/models``)."""
        session = self._http()
        started = time.perf_counter()
        try:
            async with session.get(f"{self.base}/models") as response:
                body = await response.read()
                if response.status >= 400:
                    raise self._status_error("models", response.status, body, response.headers,
                                             started)  # fmt: skip
        except ProviderError:
            raise
        except Exception as exc:
            raise self._transport_error("models", exc, started) from exc
        try:
            data = json.loads(body)
            return [str(item["id"]) for item in data["data"]]
        except (ValueError, KeyError, TypeError) as exc:
            raise self._error("models", "malformed", f"{self.base}/models: unexpected answer",
                              started) from exc  # fmt: skip

    async def aclose(self) -> None:
        session, self._session = self._session, None
        if session is not None and not session.closed:
            await session.close()


def _tls_context(base: str) -> ssl.SSLContext | bool:
    """A verifying TLS context made now, so ``SSL_CERT_FILE``/``SSL_CERT_DIR`` set after aiohttp
    was imported still count (aiohttp builds its default context at import)."""
    return ssl.create_default_context() if base.startswith("https:") else True


def _env_proxy(base: str) -> tuple[Any, Any]:
    """The proxy (and its credentials) the environment sets for ``base``, as aiohttp's
    ``trust_env`` finds it (``HTTPS_PROXY``/``HTTP_PROXY``/``NO_PROXY``, ``~/.netrc``)."""
    from aiohttp.helpers import get_env_proxy_for_url
    from yarl import URL

    try:
        return get_env_proxy_for_url(URL(base))
    except LookupError:
        return None, None


def _ms(started: float) -> int:
    return round((time.perf_counter() - started) * 1000)
