"""A ``Client`` on every storage/cache pairing: MemoryStorage+MemoryCache and
SqliteStorage+DiskCache. The strategy cache TTL is an hour, so a change that shows up at once
can only be explained by invalidation."""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from pathlib import Path
from typing import Any

import pytest

from contentgen.cache import Cache, DiskCache, MemoryCache
from contentgen.client.local import Client
from contentgen.llm.fake import FakeLLM
from contentgen.settings import Settings
from contentgen.storage import MemoryStorage, SqliteStorage, Storage

LONG_TTL = 3600

MakeClient = Callable[..., Client]


@pytest.fixture(params=["memory", "sqlite"])
def make_cg(request: pytest.FixtureRequest, tmp_path: Path) -> MakeClient:
    """Builds an unopened client; ``storage=`` replaces the backend, settings by keyword."""

    def make(storage: Any = None, **settings: Any) -> Client:
        conf = Settings(
            home=tmp_path / "home",
            model="openai/gpt-4o-mini",
            retry_wait=0,
            strategy_cache_ttl=LONG_TTL,
            prompt_cache_ttl=LONG_TTL,
            **settings,
        )
        backend: Storage
        cache: Cache
        if request.param == "memory":
            backend, cache = MemoryStorage(), MemoryCache()
        else:
            backend, cache = SqliteStorage(tmp_path / "cg.db"), DiskCache(tmp_path / "cache")
        return Client.from_settings(conf, llm=FakeLLM(), storage=storage or backend, cache=cache)

    return make


@pytest.fixture
async def cg(make_cg: MakeClient) -> AsyncIterator[Client]:
    async with make_cg() as client:
        yield client


@pytest.fixture
async def tree(cg: Client) -> Client:
    """agency -> brand -> location, each setting a different part of the strategy."""
    await cg.add_client("agency")
    await cg.add_client("brand", parent="agency")
    await cg.add_client("location", parent="brand")
    await cg.set_strategy(
        "agency",
        {
            "tone": {"formality": "formal", "voice": "expert", "engagement": "calm"},
            "content_guidelines": {"min_words": 500, "citation_required": True},
            "seo_focus": {"primary_keywords": ["agency keyword"]},
        },
    )
    await cg.set_strategy(
        "brand",
        {
            "tone": {"voice": "playful"},
            "seo_focus": {"primary_keywords": ["wood-fired pizza"], "keyword_density": 1.5},
        },
    )
    await cg.set_strategy("location", {"content_guidelines": {"min_words": 900}})
    return cg
