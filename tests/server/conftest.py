"""Server tests: the app in process over httpx's ASGI transport (non-streaming routes), or a
real uvicorn on 127.0.0.1 (server-sent events, the reference's own test, the CLI end to end).

Jobs run through the app's in-process worker against the library's FakeLLM (model
``fake/writer``) unless a test points the app at a ``FakeOpenAIServer``. Helpers are in
``support.py``.
"""

from __future__ import annotations

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
from contentgen.llm.fake import FakeLLM
from contentgen.models import Client as ClientRecord
from contentgen.server.app import create_app
from contentgen.server.security import create_token
from contentgen.settings import Settings
from contentgen.storage import MemoryStorage

from .support import SECRET, Token, bearer, started


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


@pytest.fixture
async def app(settings: Settings, local: LocalClient) -> AsyncIterator[FastAPI]:
    application = create_app(settings, local, workers_in_process=2, worker_poll=0.05,
                             watch_interval=0.02)  # fmt: skip
    async with started(application):
        yield application


@pytest.fixture
def token() -> Token:
    def make(clients: list[uuid.UUID] | None = None, **kw: Any) -> str:
        return create_token(SECRET, clients=clients, **kw)

    return make


@pytest.fixture
async def http(app: FastAPI, token: Token) -> AsyncIterator[httpx.AsyncClient]:
    """An admin caller (every client) over the ASGI transport."""
    transport = httpx.ASGITransport(app)
    async with httpx.AsyncClient(transport=transport, base_url="http://testserver",
                                 headers=bearer(token(admin=True))) as client:  # fmt: skip
        yield client


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


@pytest.fixture
def caller(app: FastAPI) -> Callable[[str | None], httpx.AsyncClient]:
    """``caller(token)``: an httpx client with that token (None: no Authorization header)."""

    def make(value: str | None) -> httpx.AsyncClient:
        headers = bearer(value) if value is not None else {}
        return httpx.AsyncClient(transport=httpx.ASGITransport(app),
                                 base_url="http://testserver", headers=headers)  # fmt: skip

    return make
