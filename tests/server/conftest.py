"""Server tests: the app in process over httpx's ASGI transport (non-streaming routes), or a
real uvicorn on 127.0.0.1 (server-sent events, the reference's own test, the CLI end to end).

Jobs run through the app's in-process worker against the library's FakeLLM (model
``fake/writer``) unless a test points the app at a ``FakeOpenAIServer``.
"""

from __future__ import annotations

import asyncio
import contextlib
import uuid
from collections.abc import AsyncIterator, Callable, Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
import structlog
from fastapi import FastAPI

from contentgen.cache import MemoryCache
from contentgen.client.local import LocalClient
from contentgen.llm.base import Completion, CompletionParams
from contentgen.llm.fake import FakeLLM
from contentgen.models import Client as ClientRecord
from contentgen.server.app import create_app
from contentgen.server.security import create_token
from contentgen.settings import Settings
from contentgen.storage import MemoryStorage

SECRET = "test-secret-that-is-long-enough-for-hs256!"
TOPIC = "Solar energy benefits for small offices"


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


@pytest.fixture(autouse=True)
def _reset_logging() -> Iterator[None]:
    # `contentgen serve` run by CliRunner points structlog at the runner's stderr
    yield
    structlog.reset_defaults()


@pytest.fixture
def settings(tmp_path: Path) -> Settings:
    return Settings(home=tmp_path / "home", model="fake/writer", retry_wait=0,
                    jwt_secret=SECRET)  # fmt: skip


@pytest.fixture
def llm() -> FakeLLM:
    return FakeLLM()


@pytest.fixture
async def local(settings: Settings, llm: FakeLLM) -> AsyncIterator[LocalClient]:
    async with LocalClient.from_settings(
        settings, llm=llm, storage=MemoryStorage(), cache=MemoryCache()
    ) as cg:
        yield cg


@pytest.fixture
async def acme(local: LocalClient) -> ClientRecord:
    return await local.add_client("acme")


@pytest.fixture
async def globex(local: LocalClient) -> ClientRecord:
    return await local.add_client("globex")


@contextlib.asynccontextmanager
async def started(app: FastAPI) -> AsyncIterator[FastAPI]:
    async with app.router.lifespan_context(app):
        yield app


@pytest.fixture
async def app(settings: Settings, local: LocalClient) -> AsyncIterator[FastAPI]:
    application = create_app(settings, local, workers_in_process=2, worker_poll=0.05,
                             watch_interval=0.02)  # fmt: skip
    async with started(application):
        yield application


@pytest.fixture
async def idle_http(settings: Settings, local: LocalClient, token: Token,
                    ) -> AsyncIterator[httpx.AsyncClient]:  # fmt: skip
    """An admin caller of an app that runs no jobs itself (workers_in_process=0): jobs stay
    pending until a test runs them."""
    application = create_app(settings, local, workers_in_process=0)
    async with started(application):
        transport = httpx.ASGITransport(application)
        async with httpx.AsyncClient(transport=transport, base_url="http://testserver",
                                     headers=bearer(token(admin=True))) as client:  # fmt: skip
            yield client


Token = Callable[..., str]


@pytest.fixture
def token() -> Token:
    """``token(clients=[id, ...] | None, admin=False, ttl_seconds=..., now=...)``."""

    def make(clients: list[uuid.UUID] | None = None, **kw: Any) -> str:
        return create_token(SECRET, clients=clients, **kw)

    return make


def bearer(value: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {value}"}


@pytest.fixture
async def http(app: FastAPI, token: Token) -> AsyncIterator[httpx.AsyncClient]:
    """An admin caller (every client) over the ASGI transport."""
    transport = httpx.ASGITransport(app)
    async with httpx.AsyncClient(transport=transport, base_url="http://testserver",
                                 headers=bearer(token(admin=True))) as client:  # fmt: skip
        yield client


@pytest.fixture
def caller(app: FastAPI) -> Callable[[str | None], httpx.AsyncClient]:
    """``caller(token)``: an httpx client with that token (None: no Authorization header)."""

    def make(value: str | None) -> httpx.AsyncClient:
        headers = bearer(value) if value is not None else {}
        return httpx.AsyncClient(transport=httpx.ASGITransport(app),
                                 base_url="http://testserver", headers=headers)  # fmt: skip

    return make


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
