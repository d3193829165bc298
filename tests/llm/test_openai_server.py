"""FakeOpenAIServer: the OpenAI-compatible server shipped in contentgen.testing."""

from __future__ import annotations

import asyncio
import json
import re
import subprocess
import sys

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


async def test_faults_for_one_model_and_counts_per_model(openai_server: FakeOpenAIServer) -> None:
    openai_server.fail_model("gpt-4o", 500)
    openai_server.fail_next(1, 429, "slow down", retry_after=2, model="gpt-4o-mini")
    other = {**CHAT, "model": "gpt-4o"}
    async with httpx.AsyncClient(base_url=openai_server.base_url) as client:
        limited = await client.post("/chat/completions", json=CHAT)
        ok = await client.post("/chat/completions", json=CHAT)
        failing = [await client.post("/chat/completions", json=other) for _ in range(2)]
    assert limited.status_code == 429 and limited.headers["retry-after"] == "2"
    assert ok.status_code == 200
    assert [f.status_code for f in failing] == [500, 500]
    assert openai_server.requests_by_model == {"gpt-4o-mini": 2, "gpt-4o": 2}


async def test_malformed_empty_and_truncated_replies(openai_server: FakeOpenAIServer) -> None:
    openai_server.malformed_next(1)
    openai_server.empty_next(1)
    openai_server.truncate_next(1)
    async with httpx.AsyncClient(base_url=openai_server.base_url) as client:
        replies = [await client.post("/chat/completions", json=CHAT) for _ in range(3)]
    assert replies[0].status_code == 200
    with pytest.raises(ValueError):
        replies[0].json()
    empty = replies[1].json()["choices"][0]
    assert empty["message"]["content"] == "" and empty["finish_reason"] == "stop"
    cut = replies[2].json()["choices"][0]
    assert cut["finish_reason"] == "length" and cut["message"]["content"]


async def test_hang_makes_the_client_time_out(openai_server: FakeOpenAIServer) -> None:
    openai_server.hang_next(1, seconds=5)
    async with httpx.AsyncClient(base_url=openai_server.base_url, timeout=0.2) as client:
        with pytest.raises(httpx.ReadTimeout):
            await client.post("/chat/completions", json=CHAT)
        assert (await client.post("/chat/completions", json=CHAT)).status_code == 200


async def test_streaming_sends_chunks_then_usage_then_done(
    openai_server: FakeOpenAIServer,
) -> None:
    openai_server.reply = "one two three"
    body = {**CHAT, "stream": True, "stream_options": {"include_usage": True}}
    async with httpx.AsyncClient(base_url=openai_server.base_url) as client:
        response = await client.post("/chat/completions", json=body)
    assert response.headers["content-type"] == "text/event-stream"
    events = [line[6:] for line in response.text.split("\n\n") if line.startswith("data: ")]
    assert events[-1] == "[DONE]"
    chunks = [json.loads(e) for e in events[:-1]]
    assert all(c["object"] == "chat.completion.chunk" for c in chunks)
    text = "".join(c["choices"][0]["delta"].get("content", "") for c in chunks if c["choices"])
    assert text == "one two three"
    assert chunks[-2]["choices"][0]["finish_reason"] == "stop"
    assert chunks[-1]["choices"] == [] and chunks[-1]["usage"]["completion_tokens"] == 3
    # without include_usage there is no usage chunk
    async with httpx.AsyncClient(base_url=openai_server.base_url) as client:
        plain = await client.post("/chat/completions", json={**CHAT, "stream": True})
    assert "usage" not in plain.text


def test_run_in_thread_for_sync_code() -> None:
    with run_in_thread(reply="from a thread") as server:
        server.fail_next(1, 503)
        with httpx.Client(base_url=server.base_url) as client:
            assert client.post("/chat/completions", json=CHAT).status_code == 503
            body = client.post("/chat/completions", json=CHAT).json()
        assert body["choices"][0]["message"]["content"] == "from a thread"
        assert server.requests == 2


def test_runs_as_several_processes_on_one_port() -> None:
    proc = subprocess.Popen(
        [sys.executable, "-m", "contentgen.testing.openai_server", "--port", "0", "--delay", "0",
         "--processes", "2"],
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        assert proc.stdout is not None
        line = proc.stdout.readline()
        match = re.search(r"(http://\S+/v1)", line)
        assert match, line
        for _ in range(4):  # new connections: the kernel spreads them over the processes
            with httpx.Client(base_url=match.group(1)) as client:
                assert client.post("/chat/completions", json=CHAT).status_code == 200
    finally:
        proc.terminate()
        proc.wait(timeout=10)
        if proc.stdout is not None:
            proc.stdout.close()
    # the other process went with it: nothing listens on the port any more
    with httpx.Client(base_url=match.group(1)) as client, pytest.raises(httpx.ConnectError):
        client.post("/chat/completions", json=CHAT)


async def test_stop_drops_open_connections() -> None:
    server = FakeOpenAIServer()
    await server.start()
    async with httpx.AsyncClient(base_url=server.base_url) as client:
        await client.post("/chat/completions", json=CHAT)  # leaves a kept-alive connection
        await asyncio.wait_for(server.stop(), timeout=5)
    await server.stop()  # idempotent
    with pytest.raises(RuntimeError):
        _ = server.base_url
