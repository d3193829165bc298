"""The contract both remote backends keep, over real HTTP to the local OpenAI-compatible server.

``LiteLLMBackend`` and ``OpenAICompatBackend`` make exactly one attempt per call and raise a
classified ``ProviderError`` carrying that ``Attempt``; they agree on text, usage, cost,
finish_reason and streaming. Retrying is the router's (tests/llm/test_router.py).
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


def _litellm(settings: Settings) -> LiteLLMBackend:
    key = settings.api_key.get_secret_value() if settings.api_key else None
    return LiteLLMBackend(settings, api_base=settings.api_base, api_key=key,
                          key_variable="CONTENTGEN_API_KEY")  # fmt: skip


@pytest.fixture(params=[_litellm, OpenAICompatBackend], ids=["litellm", "openai_compat"])
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


async def test_completion_text_usage_cost_and_finish_reason(
    backend: Remote, openai_server: FakeOpenAIServer, api_key: str
) -> None:
    openai_server.usage = (123, 456)
    result = await backend.complete("Write about coffee shops in Lisbon", model=MODEL)

    assert result.text.startswith("# ")
    assert "lisbon" in result.text.lower()
    assert (result.input_tokens, result.output_tokens) == (123, 456)
    assert result.cost == pytest.approx(123 * 1.5e-07 + 456 * 6e-07, rel=1e-12)
    assert result.provider == "openai" and result.model == MODEL
    assert result.finish_reason == "stop"
    assert openai_server.requests == 1
    sent = openai_server.last_request
    assert sent is not None
    assert sent["model"] == "gpt-4o-mini"
    assert sent["messages"] == [{"role": "user", "content": "Write about coffee shops in Lisbon"}]
    assert openai_server.last_headers["authorization"] == f"Bearer {api_key}"


async def test_cached_tokens_are_read_and_priced(
    backend: Remote, openai_server: FakeOpenAIServer
) -> None:
    openai_server.usage = (1000, 100)
    openai_server.cached_tokens = 800
    result = await backend.complete("hi", model=MODEL)
    assert result.cached_tokens == 800
    assert result.cost == pytest.approx(pricing.cost(MODEL, 1000, 100, 800), rel=1e-12)


async def test_params_reach_the_server(backend: Remote, openai_server: FakeOpenAIServer) -> None:
    await backend.complete(
        "hi", model=MODEL, params=CompletionParams(max_tokens=77, temperature=0.1)
    )
    sent = openai_server.last_request
    assert sent is not None
    assert sent["max_tokens"] == 77
    assert sent["temperature"] == pytest.approx(0.1)


async def test_streaming_calls_on_text_and_keeps_usage_exact(
    backend: Remote, openai_server: FakeOpenAIServer
) -> None:
    openai_server.reply = "one two three four five"
    openai_server.usage = (40, 9)  # what the server bills; not a count of the chunks
    pieces: list[str] = []
    result = await backend.complete("hi", model=MODEL, on_text=pieces.append)
    assert len(pieces) >= 5 and "".join(pieces) == result.text == "one two three four five"
    assert (result.input_tokens, result.output_tokens) == (40, 9)
    assert result.cost == pytest.approx(pricing.cost(MODEL, 40, 9), rel=1e-12)
    sent = openai_server.last_request
    assert sent is not None and sent["stream"] is True
    assert sent["stream_options"] == {"include_usage": True}


@pytest.mark.parametrize(
    ("status", "kind"),
    [(500, "server"), (503, "server"), (429, "rate_limit"), (400, "bad_request"),
     (404, "bad_request"), (401, "auth"), (403, "auth")],
)  # fmt: skip
async def test_one_attempt_and_a_classified_error(
    backend: Remote, openai_server: FakeOpenAIServer, status: int, kind: str
) -> None:
    openai_server.fail_next(1, status, "scripted failure")
    with pytest.raises(ProviderError) as info:
        await backend.complete("hello", model=MODEL)
    err = info.value
    assert openai_server.requests == 1  # no retry inside a backend
    assert err.kind == kind and err.provider == "openai"
    assert "scripted failure" in str(err)
    [attempt] = err.attempts
    assert attempt.error and attempt.model == MODEL and attempt.cost == 0.0
    if kind == "auth":
        assert "CONTENTGEN_API_KEY" in str(err)


async def test_retry_after_is_read(backend: Remote, openai_server: FakeOpenAIServer) -> None:
    openai_server.fail_next(1, 429, "slow down", retry_after=7)
    with pytest.raises(ProviderError) as info:
        await backend.complete("hello", model=MODEL)
    assert info.value.kind == "rate_limit"
    assert info.value.retry_after == pytest.approx(7)


async def test_empty_content_is_a_failed_paid_attempt(
    backend: Remote, openai_server: FakeOpenAIServer
) -> None:
    openai_server.usage = (50, 0)
    openai_server.empty_next(1)
    with pytest.raises(ProviderError) as info:
        await backend.complete("hello", model=MODEL)
    assert info.value.kind == "empty" and info.value.transient
    [attempt] = info.value.attempts
    assert attempt.input_tokens == 50
    assert attempt.cost == pytest.approx(pricing.cost(MODEL, 50, 0), rel=1e-12)


async def test_cut_by_length_is_reported(backend: Remote, openai_server: FakeOpenAIServer) -> None:
    openai_server.truncate_next(1)
    result = await backend.complete("Write about tea", model=MODEL)
    assert result.finish_reason == "length" and result.text


async def test_malformed_answer_is_a_readable_error(
    backend: Remote, openai_server: FakeOpenAIServer
) -> None:
    openai_server.malformed_next(1)
    with pytest.raises(ProviderError) as info:
        await backend.complete("hello", model=MODEL)
    assert info.value.kind in ("malformed", "server")
    assert "Traceback" not in str(info.value) and len(str(info.value).splitlines()) == 1


async def test_refused_connection(make: Factory, closed_port_url: str, api_key: str) -> None:
    llm = make(Settings(api_base=closed_port_url, api_key=SecretStr(api_key)))
    try:
        with pytest.raises(ProviderUnavailable) as info:
            await llm.complete("hello", model=MODEL)
    finally:
        await llm.aclose()
    assert info.value.kind == "connection" and len(info.value.attempts) == 1
    assert "CONTENTGEN_API_BASE" in str(info.value)


async def test_timeout_points_at_the_timeout_setting(
    make: Factory, openai_server: FakeOpenAIServer, api_key: str
) -> None:
    openai_server.hang_next(1, seconds=5)
    settings = Settings(api_base=openai_server.base_url, api_key=SecretStr(api_key),
                        llm_timeout=0.3)  # fmt: skip
    llm = make(settings)
    try:
        with pytest.raises(ProviderUnavailable) as info:
            await llm.complete("hello", model=MODEL)
    finally:
        await llm.aclose()
    assert info.value.kind == "timeout"
    assert "CONTENTGEN_LLM_TIMEOUT" in str(info.value)


async def test_api_key_never_in_errors_or_logs(
    backend: Remote, openai_server: FakeOpenAIServer, api_key: str
) -> None:
    # A server that echoes the key back in its error message.
    openai_server.fail_next(1, 500, f"invalid key {api_key} for this org")
    with capture_logs() as logs, pytest.raises(ProviderError) as info:
        await backend.complete("hello", model=MODEL)
    err = info.value
    assert api_key not in str(err) and api_key not in repr(err.details)
    assert api_key not in repr(err.attempts)
    assert "***" in str(err)
    assert api_key not in repr(logs)


async def test_logs_one_llm_call_event(backend: Remote, api_key: str) -> None:
    with capture_logs() as logs:
        await backend.complete("hello there", model=MODEL)
    calls = [e for e in logs if e["event"] == "llm_call"]
    assert len(calls) == 1
    assert calls[0]["model"] == MODEL and calls[0]["input_tokens"] == 2
    assert api_key not in repr(logs)
