"""FakeOpenAIServer: the OpenAI-compatible server shipped in contentgen.testing."""

from __future__ import annotations

import asyncio
import re
import subprocess
import sys
import time

import httpx
import pytest

from contentgen.testing import FakeOpenAIServer, run_in_thread

CHAT = {"model": "gpt-4o-mini", "messages": [{"role": "user", "content": "coffee in Lisbon"}]}


async def test_chat_completion_shape(openai_server: FakeOpenAIServer) -> None:
    async with httpx.AsyncClient(base_url=openai_server.base_url) as client:
        response = await client.post("/chat/completions", json=CHAT)
    assert response.status_code == 200
    body = response.json()
    assert body["object"] == "chat.completion"
    assert body["id"].startswith("chatcmpl-")
    assert isinstance(body["created"], int)
    assert body["model"] == "gpt-4o-mini"
    choice = body["choices"][0]
    assert choice["finish_reason"] == "stop"
    assert choice["message"]["role"] == "assistant"
    text = choice["message"]["content"]
    assert text.startswith("# ")
    assert "lisbon" in text.lower()
    usage = body["usage"]
    assert usage["prompt_tokens"] == 3
    assert usage["completion_tokens"] == len(text.split())
    assert usage["total_tokens"] == usage["prompt_tokens"] + usage["completion_tokens"]


async def test_paths_models_and_errors(openai_server: FakeOpenAIServer) -> None:
    root = openai_server.base_url.removesuffix("/v1")
    async with httpx.AsyncClient(base_url=root) as client:
        assert (await client.post("/chat/completions", json=CHAT)).status_code == 200
        models = (await client.get("/v1/models")).json()
        assert models["data"][0]["id"] == "gpt-4o-mini"
        missing = await client.get("/v1/nothing")
        assert missing.status_code == 404
        assert "error" in missing.json()
        assert (await client.get("/v1/chat/completions")).status_code == 405
        bad = await client.post("/v1/chat/completions", content=b"{not json")
        assert bad.status_code == 400
    assert openai_server.requests == 5


@pytest.mark.parametrize(("status", "kind"), [(500, "server_error"), (429, "requests")])
async def test_fail_next(openai_server: FakeOpenAIServer, status: int, kind: str) -> None:
    openai_server.fail_next(2, status, "scripted failure")
    async with httpx.AsyncClient(base_url=openai_server.base_url) as client:
        answers = [await client.post("/chat/completions", json=CHAT) for _ in range(3)]
    assert [a.status_code for a in answers] == [status, status, 200]
    error = answers[0].json()["error"]
    assert error["message"] == "scripted failure"
    assert error["type"] == kind
    assert set(error) >= {"message", "type", "code"}


async def test_fixed_reply_usage_and_keep_alive(openai_server: FakeOpenAIServer) -> None:
    openai_server.reply = "fixed"
    openai_server.usage = (10, 20)
    async with httpx.AsyncClient(
        base_url=openai_server.base_url, limits=httpx.Limits(max_connections=1)
    ) as client:
        for _ in range(5):
            body = (await client.post("/chat/completions", json=CHAT)).json()
            assert body["choices"][0]["message"]["content"] == "fixed"
            assert body["usage"]["prompt_tokens"] == 10
    assert len(openai_server._connections) <= 1  # one kept-alive connection served all five


async def test_throughput_close_to_ideal() -> None:
    """400 calls, 32 in flight, 50 ms each: ideal 0.625 s (the benchmark runs 2,000)."""
    async with FakeOpenAIServer(delay=0.05) as server:
        limits = httpx.Limits(max_connections=32, max_keepalive_connections=32)
        async with httpx.AsyncClient(base_url=server.base_url, limits=limits) as client:
            gate = asyncio.Semaphore(32)

            async def one() -> None:
                async with gate:
                    response = await client.post("/chat/completions", json=CHAT)
                    response.raise_for_status()

            started = time.perf_counter()
            await asyncio.gather(*(one() for _ in range(400)))
            elapsed = time.perf_counter() - started
    assert server.requests == 400
    assert elapsed < 0.625 * 2.5


def test_run_in_thread_for_sync_code() -> None:
    with run_in_thread(reply="from a thread") as server:
        server.fail_next(1, 503)
        with httpx.Client(base_url=server.base_url) as client:
            assert client.post("/chat/completions", json=CHAT).status_code == 503
            body = client.post("/chat/completions", json=CHAT).json()
        assert body["choices"][0]["message"]["content"] == "from a thread"
        assert server.requests == 2


def test_runs_as_a_process() -> None:
    proc = subprocess.Popen(
        [sys.executable, "-m", "contentgen.testing.openai_server", "--port", "0", "--delay", "0"],
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        assert proc.stdout is not None
        line = proc.stdout.readline()
        match = re.search(r"(http://\S+/v1)", line)
        assert match, line
        with httpx.Client(base_url=match.group(1)) as client:
            assert client.post("/chat/completions", json=CHAT).status_code == 200
    finally:
        proc.terminate()
        proc.wait(timeout=10)
        if proc.stdout is not None:
            proc.stdout.close()


async def test_stop_drops_open_connections() -> None:
    server = FakeOpenAIServer()
    await server.start()
    async with httpx.AsyncClient(base_url=server.base_url) as client:
        await client.post("/chat/completions", json=CHAT)  # leaves a kept-alive connection
        await asyncio.wait_for(server.stop(), timeout=5)
    await server.stop()  # idempotent
    with pytest.raises(RuntimeError):
        _ = server.base_url
