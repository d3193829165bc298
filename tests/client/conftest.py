from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from contentgen.cache.memory import MemoryCache
from contentgen.client.local import Client
from contentgen.llm.fake import FakeLLM
from contentgen.settings import Settings
from contentgen.storage.memory import MemoryStorage


@pytest.fixture
def fake() -> FakeLLM:
    return FakeLLM()


@pytest.fixture
def settings(tmp_path: Path) -> Settings:
    return Settings(home=tmp_path / "home", model="openai/gpt-4o-mini", retry_wait=0)


@pytest.fixture
async def cg(settings: Settings, fake: FakeLLM) -> AsyncIterator[Client]:
    async with Client.from_settings(
        settings, llm=fake, storage=MemoryStorage(), cache=MemoryCache()
    ) as client:
        yield client
