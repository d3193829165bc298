"""The contract both remote backends keep, over real HTTP to a local OpenAI-compatible server.

``LiteLLMBackend`` and ``OpenAICompatBackend`` must agree on text, usage, cost, retries and
error translation; backend-specific behaviour is in their own test files.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable

import pytest
from pydantic import SecretStr
from structlog.testing import capture_logs

from contentgen.errors import ProviderError, ProviderUnavailable
from contentgen.llm import LLM, CompletionParams, LiteLLMBackend, OpenAICompatBackend, pricing
from contentgen.settings import Settings
from contentgen.testing import FakeOpenAIServer

MODEL = "openai/gpt-4o-mini"
Remote = LiteLLMBackend | OpenAICompatBackend
Factory = Callable[[Settings], Remote]


@pytest.fixture(params=[LiteLLMBackend, OpenAICompatBackend], ids=["litellm", "openai_compat"])
def make(request: pytest.FixtureRequest) -> Factory:
    factory: Factory = request.param
    return factory


@pytest.fixture
async def backend(make: Factory, settings: Settings) -> AsyncIterator[Remote]:
    llm = make(settings)
    yield llm
    await llm.aclose()


async def test_is_an_llm(backend: Remote) -> None:
    assert isinstance(backend, LLM)
    assert backend.long_form is True


async def test_completion_text_usage_and_cost(
    backend: Remote, openai_server: FakeOpenAIServer, api_key: str
) -> None:
    openai_server.usage = (123, 456)
    result = await backend.complete("Write about coffee shops in Lisbon", model=MODEL)

    assert result.text.startswith("# ")
    assert "## " in result.text
    assert "lisbon" in result.text.lower()
    assert (result.input_tokens, result.output_tokens) == (123, 456)
    assert result.cost == pytest.approx(123 * 1.5e-07 + 456 * 6e-07, rel=1e-12)
    assert result.cost == pytest.approx(pricing.cost(MODEL, 123, 456), rel=1e-12)
    assert result.provider == "openai"
    assert result.model == MODEL
    assert result.latency_ms >= 0
    assert openai_server.requests == 1
    # What reached the server:
    sent = openai_server.last_request
    assert sent is not None
    assert sent["model"] == "gpt-4o-mini"
    assert sent["messages"] == [{"role": "user", "content": "Write about coffee shops in Lisbon"}]
    assert openai_server.last_headers["authorization"] == f"Bearer {api_key}"


async def test_usage_defaults_to_server_word_counts(
    backend: Remote, openai_server: FakeOpenAIServer
) -> None:
    openai_server.reply = "one two three four"
    result = await backend.complete("a b c", model=MODEL)
    assert result.text == "one two three four"
    assert (result.input_tokens, result.output_tokens) == (3, 4)


async def test_params_reach_the_server(backend: Remote, openai_server: FakeOpenAIServer) -> None:
    await backend.complete(
        "hi", model=MODEL, params=CompletionParams(max_tokens=77, temperature=0.1)
    )
    sent = openai_server.last_request
    assert sent is not None
    assert sent["max_tokens"] == 77
    assert sent["temperature"] == pytest.approx(0.1)


@pytest.mark.parametrize("status", [500, 503, 429])
async def test_transient_errors_are_retried(
    backend: Remote, openai_server: FakeOpenAIServer, status: int
) -> None:
    openai_server.fail_next(2, status)
    result = await backend.complete("hello", model=MODEL)
    assert result.text
    assert openai_server.requests == 3


async def test_failing_every_attempt_raises_provider_error(
    backend: Remote, openai_server: FakeOpenAIServer
) -> None:
    openai_server.fail_next(10, 500, "upstream exploded")
    with pytest.raises(ProviderError) as info:
        await backend.complete("hello", model=MODEL)
    err = info.value
    assert not isinstance(err, ProviderUnavailable)
    assert err.attempts == 3
    assert err.provider == "openai"
    assert err.model == MODEL
    assert "upstream exploded" in str(err)
    assert "3 attempts" in str(err)
    assert openai_server.requests == 3
    assert isinstance(err.__cause__, Exception)


@pytest.mark.parametrize(("status", "hint"), [(400, None), (401, "CONTENTGEN_API_KEY")])
async def test_client_errors_are_not_retried(
    backend: Remote, openai_server: FakeOpenAIServer, status: int, hint: str | None
) -> None:
    openai_server.fail_next(1, status, "model does not accept this request")
    with pytest.raises(ProviderError) as info:
        await backend.complete("hello", model=MODEL)
    assert info.value.attempts == 1
    assert openai_server.requests == 1
    assert "model does not accept this request" in str(info.value)
    if hint:
        assert hint in str(info.value)


async def test_refused_connection_is_provider_unavailable(
    make: Factory, closed_port_url: str, api_key: str
) -> None:
    settings = Settings(api_base=closed_port_url, api_key=SecretStr(api_key), retry_wait=0)
    llm = make(settings)
    try:
        with pytest.raises(ProviderUnavailable) as info:
            await llm.complete("hello", model=MODEL)
    finally:
        await llm.aclose()
    assert info.value.attempts == 3
    assert info.value.provider == "openai"
    assert "CONTENTGEN_API_BASE" in str(info.value)


async def test_timeout_is_provider_unavailable(
    make: Factory, openai_server: FakeOpenAIServer, api_key: str
) -> None:
    openai_server.delay = 2.0
    settings = Settings(
        api_base=openai_server.base_url,
        api_key=SecretStr(api_key),
        llm_timeout=0.2,
        llm_retries=2,
        retry_wait=0,
    )
    llm = make(settings)
    try:
        with pytest.raises(ProviderUnavailable) as info:
            await llm.complete("hello", model=MODEL)
    finally:
        await llm.aclose()
    assert info.value.attempts == 2


async def test_api_key_never_in_errors_or_logs(
    backend: Remote, openai_server: FakeOpenAIServer, api_key: str
) -> None:
    # A server that echoes the key back in its error message.
    openai_server.fail_next(3, 500, f"invalid key {api_key} for this org")
    with capture_logs() as logs, pytest.raises(ProviderError) as info:
        await backend.complete("hello", model=MODEL)
    err = info.value
    assert api_key not in str(err)
    assert api_key not in repr(err.details)
    assert "***" in str(err)
    assert api_key not in repr(logs)
    failed = [e for e in logs if e["event"] == "llm_failed"]
    assert len(failed) == 1
    assert failed[0]["attempts"] == 3
    openai_server.fail_next(1, 401, f"Incorrect API key provided: {api_key}")
    with pytest.raises(ProviderError) as info:
        await backend.complete("hello", model=MODEL)
    assert api_key not in str(info.value)


async def test_logs_one_llm_call_event(backend: Remote, api_key: str) -> None:
    with capture_logs() as logs:
        await backend.complete("hello there", model=MODEL)
    calls = [e for e in logs if e["event"] == "llm_call"]
    assert len(calls) == 1
    assert calls[0]["model"] == MODEL
    assert calls[0]["input_tokens"] == 2
    assert api_key not in repr(logs)


async def test_retries_are_logged(backend: Remote, openai_server: FakeOpenAIServer) -> None:
    openai_server.fail_next(1, 500)
    with capture_logs() as logs:
        await backend.complete("hello", model=MODEL)
    retries = [e for e in logs if e["event"] == "llm_retry"]
    assert [e["attempt"] for e in retries] == [1]
