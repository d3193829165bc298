from __future__ import annotations

from collections.abc import AsyncIterator, Awaitable, Callable
from pathlib import Path
from typing import Any

import pytest

from contentgen.cache import DiskCache, MemoryCache
from contentgen.client.local import Client
from contentgen.llm.fake import FakeLLM
from contentgen.settings import Settings
from contentgen.storage import MemoryStorage, SqliteStorage


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


# On every storage/cache pairing (tests of client setups) ---------------------------------------
MakeClient = Callable[[str], Client]


@pytest.fixture(params=["memory", "sqlite"])
def make_cg(request: pytest.FixtureRequest, tmp_path: Path, fake: FakeLLM) -> MakeClient:
    """``make_cg("a")`` builds an unopened client on database "a" (same name: same data), on
    MemoryStorage+MemoryCache or SqliteStorage+DiskCache; a one-hour strategy cache TTL."""
    memory: dict[str, MemoryStorage] = {}

    def make(db: str) -> Client:
        settings = Settings(home=tmp_path / db, model="openai/gpt-4o-mini", retry_wait=0,
                            strategy_cache_ttl=3600)  # fmt: skip
        if request.param == "memory":
            storage: Any = memory.setdefault(db, MemoryStorage())
            cache: Any = MemoryCache()
        else:
            storage, cache = SqliteStorage(tmp_path / f"{db}.db"), DiskCache(tmp_path / db)
        return Client.from_settings(settings, llm=fake, storage=storage, cache=cache)

    return make


async def _snapshot(cg: Client, client: str) -> tuple[object, ...]:
    record = await cg.resolve_client(client)
    return (
        [(s.version, s.active, s.config) for s in await cg.list_strategies(client)],
        [(h.version, h.action) for h in await cg.strategy_history(client)],
        [(t.content_type, t.version, t.body) for t in await cg.list_templates(client)],
        [(r.name, r.rule) for r in await cg.storage.list_seo_rules(record.id)],
        [(p.key, p.value) for p in await cg.storage.list_preferences(record.id)],
    )


@pytest.fixture
def snapshot() -> Callable[[Client, str], Awaitable[tuple[object, ...]]]:
    """Everything of a client's setup that a refused change must leave as it was."""
    return _snapshot
