"""OpenAICompatBackend specifics: aiohttp over http and https, wire format, pooling, laziness."""

from __future__ import annotations

import asyncio
import ssl
import subprocess
import sys
from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import pytest
import trustme

from contentgen.errors import ProviderError
from contentgen.llm import CompletionParams, OpenAICompatBackend
from contentgen.llm.openai_compat import retry_after, wire_model
from contentgen.settings import Settings
from contentgen.testing import FakeOpenAIServer

MODEL = "openai/gpt-4o-mini"


@pytest.fixture
async def backend(settings: Settings) -> AsyncIterator[OpenAICompatBackend]:
    llm = OpenAICompatBackend(settings)
    yield llm
    await llm.aclose()


def test_module_import_imports_neither_aiohttp_nor_litellm() -> None:
    code = (
        "import sys; import contentgen.llm.openai_compat, contentgen.llm.pricing as p; "
        "p.cost('openai/gpt-4o-mini', 1, 1); "
        "print('litellm' in sys.modules, 'aiohttp' in sys.modules)"
    )
    out = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True, timeout=60
    )
    assert out.stdout.strip() == "False False"


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


@pytest.mark.parametrize(
    ("headers", "seconds"),
    [({"retry-after": "3"}, 3.0), ({"retry-after-ms": "1500"}, 1.5), ({}, None),
     ({"retry-after": "Wed, 21 Oct 2015 07:28:00 GMT"}, 0.0), ({"retry-after": "soon"}, None)],
)  # fmt: skip
def test_retry_after_header(headers: dict[str, str], seconds: float | None) -> None:
    assert retry_after(headers) == seconds


async def test_no_key_sends_no_authorization(openai_server: FakeOpenAIServer) -> None:
    llm = OpenAICompatBackend(Settings(api_base=openai_server.base_url))
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


@pytest.fixture(scope="module")
def ca() -> trustme.CA:
    return trustme.CA()


@pytest.fixture
def trusted_ca(
    ca: trustme.CA, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> Iterator[ssl.SSLContext]:
    """A server TLS context for 127.0.0.1 signed by a CA the client trusts via SSL_CERT_FILE."""
    cert_file = tmp_path / "ca.pem"
    ca.cert_pem.write_to_path(str(cert_file))
    monkeypatch.setenv("SSL_CERT_FILE", str(cert_file))
    server_context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    ca.issue_cert("127.0.0.1").configure_cert(server_context)
    yield server_context


async def test_https_with_a_trusted_certificate(trusted_ca: ssl.SSLContext) -> None:
    async with FakeOpenAIServer(tls=trusted_ca) as server:
        assert server.base_url.startswith("https://")
        llm = OpenAICompatBackend(Settings(api_base=server.base_url))
        try:
            pieces: list[str] = []
            done = await llm.complete("Write about TLS", model=MODEL)
            streamed = await llm.complete("Write about TLS", model=MODEL, on_text=pieces.append)
        finally:
            await llm.aclose()
    assert done.text and streamed.text == "".join(pieces)
    assert server.requests == 2


async def test_https_with_an_untrusted_certificate_is_a_connection_error(
    ca: trustme.CA,
) -> None:
    server_context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    ca.issue_cert("127.0.0.1").configure_cert(server_context)  # SSL_CERT_FILE not set
    async with FakeOpenAIServer(tls=server_context) as server:
        llm = OpenAICompatBackend(Settings(api_base=server.base_url))
        try:
            with pytest.raises(ProviderError) as info:
                await llm.complete("hi", model=MODEL)
        finally:
            await llm.aclose()
    assert info.value.kind == "connection"
    assert "SSL_CERT_FILE" in str(info.value)


async def test_stream_without_usage_is_counted(openai_server: FakeOpenAIServer) -> None:
    """llama.cpp's server streams no usage: chunks are counted (one token each)."""
    openai_server.reply = "alpha beta gamma"
    llm = OpenAICompatBackend(Settings(api_base=openai_server.base_url))
    try:
        no_usage = CompletionParams(extra={"stream_options": {}})
        result = await llm.complete("hi there", model=MODEL, on_text=lambda _t: None,
                                    params=no_usage)  # fmt: skip
    finally:
        await llm.aclose()
    assert result.output_tokens == 3 and result.input_tokens >= 1


async def test_concurrent_calls_share_one_pool(
    backend: OpenAICompatBackend, openai_server: FakeOpenAIServer
) -> None:
    openai_server.delay = 0.05
    results = await asyncio.gather(*(backend.complete(f"n{i}", model=MODEL) for i in range(64)))
    assert len(results) == 64 and openai_server.requests == 64
    # all 64 in flight at once over kept-alive connections, then reused
    assert len(openai_server._connections) <= 64
    await backend.complete("again", model=MODEL)
    assert len(openai_server._connections) <= 64


async def test_list_models(backend: OpenAICompatBackend, openai_server: FakeOpenAIServer) -> None:
    openai_server.models = ("served-a", "served-b")
    assert await backend.list_models() == ["served-a", "served-b"]


async def test_aclose_is_idempotent(backend: OpenAICompatBackend) -> None:
    await backend.complete("hi", model=MODEL)
    await backend.aclose()
    await backend.aclose()
    # A closed backend opens a new session when used again.
    assert (await backend.complete("hi", model=MODEL)).text
