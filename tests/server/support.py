"""Helpers of the server tests: constants, a gated fake model, token headers, polling, and a
real uvicorn on 127.0.0.1 in the test's event loop."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator, Callable
from typing import Any

import httpx
from fastapi import FastAPI

from contentgen.llm.base import Completion, CompletionParams
from contentgen.llm.fake import FakeLLM

SECRET = "test-secret-that-is-long-enough-for-hs256!"
TOPIC = "Solar energy benefits for small offices"

#: ``token(clients=[id, ...] | None, admin=False, ttl_seconds=..., now=...)``
Token = Callable[..., str]


class GatedLLM(FakeLLM):
    """A FakeLLM whose calls wait until ``gate`` is set (to catch jobs mid-run)."""

    def __init__(self) -> None:
        super().__init__()
        self.gate = asyncio.Event()
        self.entered = asyncio.Event()

    async def complete(
        self, prompt: str, *, model: str, params: CompletionParams | None = None, **kw: Any
    ) -> Completion:
        self.entered.set()
        await self.gate.wait()
        return await super().complete(prompt, model=model, params=params, **kw)


def bearer(value: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {value}"}


@contextlib.asynccontextmanager
async def started(app: FastAPI) -> AsyncIterator[FastAPI]:
    """Run the app's lifespan (httpx's ASGI transport does not)."""
    async with app.router.lifespan_context(app):
        yield app


async def poll_status(http: httpx.AsyncClient, job_id: str, until: str = "completed",
                      ) -> dict[str, Any]:  # fmt: skip
    """GET /status until the job reaches a final status (at most ~5 s)."""
    for _ in range(500):
        body: dict[str, Any] = (await http.get(f"/status/{job_id}")).json()
        if body["status"] in ("completed", "failed", "cancelled"):
            assert body["status"] == until, body
            return body
        await asyncio.sleep(0.01)
    raise AssertionError(f"job {job_id} did not finish")


@contextlib.asynccontextmanager
async def uvicorn_server(app: FastAPI) -> AsyncIterator[str]:
    """Serve ``app`` with a real uvicorn on 127.0.0.1 (a free port) in this event loop."""
    import uvicorn

    config = uvicorn.Config(app, host="127.0.0.1", port=0, log_config=None,
                            access_log=False, lifespan="on")  # fmt: skip
    server = uvicorn.Server(config)
    server.capture_signals = contextlib.nullcontext  # type: ignore[method-assign]
    task = asyncio.create_task(server.serve())
    while not server.started:
        if task.done():
            task.result()
            raise AssertionError("uvicorn did not start")
        await asyncio.sleep(0.01)
    port = server.servers[0].sockets[0].getsockname()[1]
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        server.should_exit = True
        await task
