"""Job lifecycle tests: clients on one shared storage (two clients = two runners), a model that
can be made to hang until cancelled, short leases."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
import structlog

from contentgen.cache import MemoryCache
from contentgen.client.local import LocalClient
from contentgen.llm.base import Completion, CompletionParams, TextCallback
from contentgen.llm.fake import FakeLLM
from contentgen.models import Job
from contentgen.settings import Settings
from contentgen.storage import MemoryStorage
from contentgen.storage.base import Storage
from contentgen.testing import FakeOpenAIServer, run_in_thread


class Hanging(FakeLLM):
    """Answers like FakeLLM, except that while ``hold`` is set each call waits until it is
    cleared (or the call is cancelled: ``cancelled`` counts those)."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.hold = False
        self.started = asyncio.Event()
        self.cancelled = 0
        self._released = asyncio.Event()

    def release(self) -> None:
        self.hold = False
        self._released.set()

    async def complete(
        self, prompt: str, *, model: str, params: CompletionParams | None = None,
        on_text: TextCallback | None = None,
    ) -> Completion:  # fmt: skip
        if self.hold:
            self.started.set()
            try:
                await self._released.wait()
            except asyncio.CancelledError:
                self.cancelled += 1
                raise
        return await super().complete(prompt, model=model, params=params, on_text=on_text)


MakeClient = Callable[..., LocalClient]


@pytest.fixture
def llm() -> Hanging:
    return Hanging()


@pytest.fixture
def shared() -> Storage:
    return MemoryStorage()


@pytest.fixture
async def make_client(
    tmp_path: Path, llm: Hanging, shared: Storage
) -> AsyncIterator[MakeClient]:
    """``make_client(**settings)``: an opened client on the shared storage (closed after)."""
    opened: list[LocalClient] = []

    def make(**overrides: Any) -> LocalClient:
        fields: dict[str, Any] = {"home": tmp_path / "home", "model": "openai/gpt-4o-mini",
                                  "retry_wait": 0, "lease_seconds": 0.3, **overrides}
        client = LocalClient.from_settings(Settings(**fields), llm=llm, storage=shared,
                                           cache=MemoryCache())  # fmt: skip
        opened.append(client)
        return client

    yield make
    for client in opened:
        await client.runner.aclose(cancel=True)
        await client.aclose()


@pytest.fixture
async def cg(make_client: MakeClient) -> LocalClient:
    client = make_client()
    await client.open()
    await client.add_client("acme")
    return client


async def queued(cg: LocalClient, topic: str = "Solar panels for small offices") -> Job:
    """A pending job nobody runs yet (what a server with separate workers queues)."""
    cg.run_submitted = False
    try:
        job_id = await cg.submit(topic=topic, client="acme")
    finally:
        cg.run_submitted = True
    return await cg.status(job_id)


@pytest.fixture
def provider(monkeypatch: pytest.MonkeyPatch) -> Iterator[FakeOpenAIServer]:
    """A local OpenAI-compatible server that CLI commands (and their processes) call."""
    with run_in_thread() as started:
        monkeypatch.setenv("CONTENTGEN_API_BASE", started.base_url)
        monkeypatch.setenv("CONTENTGEN_API_KEY", "sk-test-never-shown")
        monkeypatch.setenv("CONTENTGEN_MODEL", "openai/gpt-4o-mini")
        monkeypatch.setenv("CONTENTGEN_RETRY_WAIT", "0")
        yield started


@pytest.fixture(autouse=True)
def _reset_logging() -> Iterator[None]:
    # a CLI command points structlog at the runner's stderr, which is gone after the test
    yield
    structlog.reset_defaults()
