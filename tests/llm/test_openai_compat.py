"""OpenAICompatBackend specifics: wire format, pooling, back-off, malformed answers."""

from __future__ import annotations

import asyncio
import subprocess
import sys
import time
from collections.abc import AsyncIterator

import httpx
import pytest
import respx

from contentgen.errors import ProviderError
from contentgen.llm import CompletionParams, OpenAICompatBackend
from contentgen.llm.openai_compat import DEFAULT_API_BASE, wire_model
from contentgen.settings import Settings
from contentgen.testing import FakeOpenAIServer

MODEL = "openai/gpt-4o-mini"


@pytest.fixture
async def backend(settings: Settings) -> AsyncIterator[OpenAICompatBackend]:
    llm = OpenAICompatBackend(settings)
    yield llm
    await llm.aclose()


def test_does_not_import_litellm() -> None:
    code = (
        "import sys; import contentgen.llm.openai_compat, contentgen.llm.pricing as p; "
        "p.cost('openai/gpt-4o-mini', 1, 1); print('litellm' in sys.modules)"
    )
    out = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True, timeout=60
    )
    assert out.stdout.strip() == "False"


@pytest.mark.parametrize(
    ("model", "sent"),
    [
        ("openai/gpt-4o-mini", "gpt-4o-mini"),
        ("gpt-4o-mini", "gpt-4o-mini"),
        ("meta-llama/Llama-3.1-8B-Instruct", "meta-llama/Llama-3.1-8B-Instruct"),
    ],
)
def test_wire_model(model: str, sent: str) -> None:
    assert wire_model(model) == sent


async def test_no_key_sends_no_authorization(openai_server: FakeOpenAIServer) -> None:
    llm = OpenAICompatBackend(Settings(api_base=openai_server.base_url, retry_wait=0))
    try:
        await llm.complete("hi", model="gpt-4o-mini")
    finally:
        await llm.aclose()
    assert "authorization" not in openai_server.last_headers


async def test_extra_params_are_sent(
    backend: OpenAICompatBackend, openai_server: FakeOpenAIServer
) -> None:
    await backend.complete("hi", model=MODEL, params=CompletionParams(extra={"seed": 7}))
    assert openai_server.last_request is not None
    assert openai_server.last_request["seed"] == 7
    assert "max_tokens" not in openai_server.last_request


async def test_defaults_to_openai_api() -> None:
    llm = OpenAICompatBackend(Settings(retry_wait=0))
    with respx.mock(assert_all_called=True) as router:
        route = router.post(f"{DEFAULT_API_BASE}/chat/completions").respond(
            200,
            json={
                "choices": [{"message": {"role": "assistant", "content": "ok"}}],
                "usage": {"prompt_tokens": 1, "completion_tokens": 1},
            },
        )
        result = await llm.complete("hi", model=MODEL)
    await llm.aclose()
    assert result.text == "ok"
    assert route.call_count == 1


@pytest.mark.parametrize(
    "response",
    [
        httpx.Response(200, text="<html>not json</html>"),
        httpx.Response(200, json={"unexpected": True}),
    ],
)
async def test_malformed_answers_are_provider_errors(response: httpx.Response) -> None:
    # https: the httpx path (plain http:// uses the built-in HTTP/1.1 client, see below)
    llm = OpenAICompatBackend(Settings(api_base="https://llm.test/v1", retry_wait=0))
    with respx.mock() as router:
        route = router.post("https://llm.test/v1/chat/completions").mock(return_value=response)
        with pytest.raises(ProviderError) as info:
            await llm.complete("hi", model=MODEL)
    await llm.aclose()
    assert route.call_count == 1
    assert info.value.attempts == 1


async def test_back_off_grows_from_retry_wait(openai_server: FakeOpenAIServer) -> None:
    llm = OpenAICompatBackend(Settings(api_base=openai_server.base_url, retry_wait=0.05))
    openai_server.fail_next(2, 503)
    started = time.perf_counter()
    try:
        await llm.complete("hi", model=MODEL)
    finally:
        await llm.aclose()
    assert time.perf_counter() - started >= 0.05 + 0.1  # 0.05 s, then 0.1 s


async def test_many_concurrent_calls_share_a_pool(
    backend: OpenAICompatBackend, openai_server: FakeOpenAIServer
) -> None:
    openai_server.delay = 0.05
    started = time.perf_counter()
    results = await asyncio.gather(*(backend.complete(f"n{i}", model=MODEL) for i in range(200)))
    elapsed = time.perf_counter() - started
    assert len(results) == 200
    assert openai_server.requests == 200
    assert elapsed < 2.0  # all 200 in flight at once: ~0.05 s of waiting, not 10 s


async def test_aclose_is_idempotent(backend: OpenAICompatBackend) -> None:
    await backend.complete("hi", model=MODEL)
    await backend.aclose()
    await backend.aclose()
    # A closed backend opens a new client when used again.
    assert (await backend.complete("hi", model=MODEL)).text
