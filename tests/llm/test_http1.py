"""The built-in HTTP/1.1 client ``OpenAICompatBackend`` uses for plain ``http://`` servers."""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator, Callable

import httpx
import pytest

from contentgen.errors import ProviderError, ProviderUnavailable
from contentgen.llm import OpenAICompatBackend
from contentgen.llm._http1 import Http1Pool, usable_for
from contentgen.settings import Settings
from contentgen.testing import FakeOpenAIServer

MODEL = "openai/gpt-4o-mini"
COMPLETION = json.dumps({
    "choices": [{"message": {"role": "assistant", "content": "# Hi\n\nok"}}],
    "usage": {"prompt_tokens": 3, "completion_tokens": 4},
}).encode()  # fmt: skip

Answer = Callable[[bytes], bytes | None]


class RawServer:
    """Answers each request with the bytes ``answer(request)`` returns (None: hang up without
    answering); closes the connection after a reply that says ``Connection: close``."""

    def __init__(self, answer: Answer) -> None:
        self.answer = answer
        self.connections = 0
        self.requests: list[bytes] = []
        self._server: asyncio.Server | None = None

    async def __aenter__(self) -> RawServer:
        self._server = await asyncio.start_server(self._handle, "127.0.0.1", 0)
        return self

    async def __aexit__(self, *exc: object) -> None:
        assert self._server is not None
        self._server.close()

    @property
    def url(self) -> str:
        assert self._server is not None
        return f"http://127.0.0.1:{self._server.sockets[0].getsockname()[1]}/v1"

    async def _handle(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self.connections += 1
        try:
            while True:
                head = await reader.readuntil(b"\r\n\r\n")
                length = int(head.lower().split(b"content-length:")[1].split(b"\r\n")[0])
                request = head + await reader.readexactly(length)
                self.requests.append(request)
                reply = self.answer(request)
                if reply is None:
                    break
                writer.write(reply)
                await writer.drain()
                if b"\r\nConnection: close\r\n" in reply.split(b"\r\n\r\n", 1)[0] + b"\r\n":
                    break
        except (asyncio.IncompleteReadError, ConnectionError):
            pass
        finally:
            writer.close()


def response(body: bytes, *, status: str = "200 OK", extra: str = "") -> bytes:
    head = f"HTTP/1.1 {status}\r\nContent-Type: application/json\r\n{extra}"
    return f"{head}Content-Length: {len(body)}\r\n\r\n".encode() + body


def chunked(body: bytes) -> bytes:
    mid = len(body) // 2
    chunks = b"".join(f"{len(p):x}\r\n".encode() + p + b"\r\n" for p in (body[:mid], body[mid:]))
    head = b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n"
    return head + chunks + b"0\r\n\r\n"


@pytest.fixture
async def backend_for() -> AsyncIterator[Callable[[str], OpenAICompatBackend]]:
    made: list[OpenAICompatBackend] = []

    def make(url: str) -> OpenAICompatBackend:
        made.append(OpenAICompatBackend(Settings(api_base=url, retry_wait=0, llm_timeout=5)))
        return made[-1]

    yield make
    for llm in made:
        await llm.aclose()


def test_used_for_plain_http_only(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in ("http_proxy", "HTTP_PROXY", "all_proxy", "ALL_PROXY", "no_proxy", "NO_PROXY"):
        monkeypatch.delenv(name, raising=False)
    assert usable_for("http://127.0.0.1:8000/v1")
    assert usable_for("http://llm.internal/v1")
    assert not usable_for("https://api.openai.com/v1")
    assert not usable_for("http://user:secret@llm.internal/v1")
    # a proxy applies: httpx (which honours it) is used instead
    monkeypatch.setenv("HTTP_PROXY", "http://proxy.local:3128")
    assert not usable_for("http://llm.internal/v1")
    monkeypatch.setenv("NO_PROXY", "llm.internal")
    assert usable_for("http://llm.internal/v1")


async def test_keeps_one_connection_alive_for_sequential_calls(
    backend_for: Callable[[str], OpenAICompatBackend],
) -> None:
    async with RawServer(lambda _req: response(COMPLETION)) as server:
        llm = backend_for(server.url)
        for _ in range(5):
            done = await llm.complete("hello", model=MODEL)
        assert (done.text, done.input_tokens, done.output_tokens) == ("# Hi\n\nok", 3, 4)
        assert server.connections == 1 and len(server.requests) == 5
    request = server.requests[0]
    assert request.startswith(b"POST /v1/chat/completions HTTP/1.1\r\n")
    assert b"\r\nHost: 127.0.0.1:" in request
    body = json.loads(request.split(b"\r\n\r\n", 1)[1])
    assert body["model"] == "gpt-4o-mini" and body["messages"][0]["content"] == "hello"


async def test_chunked_and_close_delimited_replies(
    backend_for: Callable[[str], OpenAICompatBackend],
) -> None:
    async with RawServer(lambda _req: chunked(COMPLETION)) as server:
        assert (await backend_for(server.url).complete("a", model=MODEL)).text == "# Hi\n\nok"
    no_length = b"HTTP/1.1 200 OK\r\nConnection: close\r\n\r\n" + COMPLETION
    async with RawServer(lambda _req: no_length) as server:
        llm = backend_for(server.url)
        assert (await llm.complete("b", model=MODEL)).text == "# Hi\n\nok"
        assert len(server.requests) == 1


async def test_interim_replies_are_skipped(
    backend_for: Callable[[str], OpenAICompatBackend],
) -> None:
    interim = b"HTTP/1.1 100 Continue\r\n\r\n"
    async with RawServer(lambda _req: interim + response(COMPLETION)) as server:
        assert (await backend_for(server.url).complete("a", model=MODEL)).text == "# Hi\n\nok"


async def test_connection_close_header_opens_a_new_connection(
    backend_for: Callable[[str], OpenAICompatBackend],
) -> None:
    async with RawServer(lambda _req: response(COMPLETION, extra="Connection: close\r\n")) as srv:
        llm = backend_for(srv.url)
        await llm.complete("a", model=MODEL)
        await llm.complete("b", model=MODEL)
        assert srv.connections == 2


async def test_server_hanging_up_is_retried_as_transient(
    backend_for: Callable[[str], OpenAICompatBackend],
) -> None:
    replies = iter([None, response(COMPLETION)])  # first: close without answering
    async with RawServer(lambda _req: next(replies)) as server:
        done = await backend_for(server.url).complete("a", model=MODEL)
        assert done.text == "# Hi\n\nok" and len(server.requests) == 2


@pytest.mark.parametrize(
    ("reply", "message"),
    [
        (response(b"<html>not json</html>"), "not JSON"),
        (response(b'{"unexpected": true}'), "no choices"),
        (response(b'{"error": {"message": "bad model"}}', status="400 Bad Request"), "bad model"),
        (response(b"", status="404 Not Found"), "Not Found"),
    ],
)
async def test_bad_answers_are_provider_errors_without_retry(
    backend_for: Callable[[str], OpenAICompatBackend], reply: bytes, message: str
) -> None:
    async with RawServer(lambda _req: reply) as server:
        with pytest.raises(ProviderError, match=message) as info:
            await backend_for(server.url).complete("a", model=MODEL)
        assert info.value.attempts == 1 and len(server.requests) == 1


async def test_malformed_http_is_a_protocol_error() -> None:
    async with RawServer(lambda _req: b"SPDY/9 what\r\n\r\n") as server:
        pool = Http1Pool(server.url, {}, timeout=5, max_connections=4)
        with pytest.raises(httpx.RemoteProtocolError):
            await pool.post("/chat/completions", b"{}")
        await pool.aclose()


async def test_timeout_and_refused_connection(
    backend_for: Callable[[str], OpenAICompatBackend], closed_port_url: str
) -> None:
    with pytest.raises(ProviderUnavailable, match="cannot connect"):
        await backend_for(closed_port_url).complete("a", model=MODEL)
    async with FakeOpenAIServer(delay=2.0) as server:
        llm = OpenAICompatBackend(
            Settings(api_base=server.base_url, retry_wait=0, llm_timeout=0.1, llm_retries=1)
        )
        try:
            with pytest.raises(ProviderUnavailable, match="timed out"):
                await llm.complete("a", model=MODEL)
        finally:
            await llm.aclose()


async def test_cancelled_call_does_not_poison_the_pool() -> None:
    async with FakeOpenAIServer(delay=0.5) as server:
        pool = Http1Pool(server.base_url, {}, timeout=5, max_connections=2)
        body = json.dumps({"model": "gpt-4o-mini", "messages": []}).encode()
        task = asyncio.create_task(pool.post("/chat/completions", body))
        await asyncio.sleep(0.05)
        task.cancel()
        with pytest.raises(asyncio.CancelledError):
            await task
        server.delay = 0
        status, reply = await pool.post("/chat/completions", body)
        await pool.aclose()
    assert status == 200 and json.loads(reply)["object"] == "chat.completion"


async def test_max_connections_bounds_open_connections() -> None:
    async with RawServer(lambda _req: response(COMPLETION)) as server:
        pool = Http1Pool(server.url, {}, timeout=5, max_connections=3)
        results = await asyncio.gather(*(pool.post("/x", b"{}") for _ in range(20)))
        await pool.aclose()
    assert all(status == 200 for status, _ in results)
    assert server.connections <= 3
