"""The ``Cache`` contract: every implementation that can run here passes this one suite."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import AsyncIterator, Callable
from pathlib import Path

import pytest

from contentgen.cache import Cache, CacheStats, DiskCache, MemoryCache, RedisCache

CacheFactory = Callable[[], Cache]

TTL = 0.2
PAST_TTL = 0.3  # sleep this long for a TTL entry to be gone


@pytest.fixture(
    params=["disk", "memory", pytest.param("redis", marks=pytest.mark.redis)],
)
def new_cache(request: pytest.FixtureRequest, tmp_path: Path) -> CacheFactory:
    """Builds caches of one backend; disk and redis instances share one store per test."""
    if request.param == "disk":
        return lambda: DiskCache(tmp_path / "cache")
    if request.param == "memory":
        return MemoryCache
    url: str = request.getfixturevalue("redis_url")
    namespace = f"cg-test-{uuid.uuid4().hex}:"  # tests never see each other's keys
    return lambda: RedisCache(url, namespace=namespace)


@pytest.fixture
async def cache(new_cache: CacheFactory) -> AsyncIterator[Cache]:
    instance = new_cache()
    try:
        yield instance
    finally:
        await instance.clear()  # leaves nothing behind in the shared redis-server
        await instance.aclose()


async def test_implements_protocol(cache: Cache) -> None:
    assert isinstance(cache, Cache)


async def test_bytes_round_trip(cache: Cache) -> None:
    small = bytes(range(256))
    large = b"\x00\xff" * 60_000  # past diskcache's 32 KB in-database limit: stored as a file
    await cache.set("small", small)
    await cache.set("large", large)
    assert await cache.get("small") == small
    assert await cache.get("large") == large
    assert isinstance(await cache.get("small"), bytes)


async def test_missing_key_is_none(cache: Cache) -> None:
    assert await cache.get("never-set") is None


async def test_empty_value_is_not_missing(cache: Cache) -> None:
    await cache.set("empty", b"")
    assert await cache.get("empty") == b""


async def test_ttl_expiry(cache: Cache) -> None:
    await cache.set("short", b"1", ttl=TTL)
    await cache.set("made-permanent", b"2", ttl=TTL)
    await cache.set("made-permanent", b"3")  # overwriting without a TTL drops the old one
    await cache.set("long", b"4", ttl=60)
    await cache.set("forever", b"5")
    await cache.set("p:gone", b"6", ttl=TTL)
    assert await cache.get("short") == b"1"
    await asyncio.sleep(PAST_TTL)
    assert await cache.get("short") is None
    assert await cache.get("made-permanent") == b"3"
    assert await cache.get("long") == b"4"
    assert await cache.get("forever") == b"5"
    assert (await cache.stats()).size == 3
    assert await cache.delete_prefix("p:") == 0  # an expired key is not counted as deleted


@pytest.mark.parametrize("ttl", [0, -1.0])
async def test_non_positive_ttl_is_already_expired(cache: Cache, ttl: float) -> None:
    await cache.set("k", b"old")
    await cache.set("k", b"new", ttl=ttl)
    assert await cache.get("k") is None


async def test_overwrite(cache: Cache) -> None:
    await cache.set("k", b"first")
    await cache.set("k", b"second")
    assert await cache.get("k") == b"second"
    assert (await cache.stats()).size == 1


async def test_delete(cache: Cache) -> None:
    await cache.set("k", b"v")
    await cache.set("other", b"v")
    await cache.delete("k")
    await cache.delete("never-set")  # no error
    assert await cache.get("k") is None
    assert await cache.get("other") == b"v"


async def test_delete_prefix_removes_only_matching_keys(cache: Cache) -> None:
    keys = ["strategy:1:a", "strategy:1:b", "strategy:1", "strategy:10:a", "x:strategy:1:a"]
    for key in keys:
        await cache.set(key, b"v")
    assert await cache.delete_prefix("strategy:1:") == 2
    assert [await cache.get(k) for k in keys] == [None, None, b"v", b"v", b"v"]
    assert await cache.delete_prefix("strategy:1:") == 0
    assert await cache.delete_prefix("nothing-here") == 0
    assert (await cache.stats()).size == 3
    assert await cache.delete_prefix("") == 3  # the empty prefix matches every key


async def test_delete_prefix_takes_glob_characters_literally(cache: Cache) -> None:
    for key in ["a*b:1", "a*bc", "axb:1", "[ab]:1", "a:1", "q?:1", "qq:1", "back\\slash", "back"]:
        await cache.set(key, b"v")
    assert await cache.delete_prefix("a*b") == 2
    assert await cache.delete_prefix("[ab]") == 1
    assert await cache.delete_prefix("q?") == 1
    assert await cache.delete_prefix("back\\") == 1
    assert await cache.get("axb:1") == b"v"
    assert await cache.get("a:1") == b"v"
    assert await cache.get("qq:1") == b"v"
    assert await cache.get("back") == b"v"


async def test_clear(cache: Cache) -> None:
    await cache.set("a", b"1")
    await cache.set("b", b"2", ttl=60)
    await cache.get("a")
    await cache.get("missing")
    await cache.clear()
    assert await cache.stats() == CacheStats(hits=0, misses=0, size=0)
    assert await cache.get("a") is None
    assert await cache.stats() == CacheStats(hits=0, misses=1, size=0)


async def test_stats_count_hits_misses_and_live_keys(cache: Cache) -> None:
    assert await cache.stats() == CacheStats(hits=0, misses=0, size=0)
    await cache.set("a", b"1")
    await cache.set("b", b"2")
    await cache.set("c", b"3", ttl=TTL)
    assert await cache.get("a") == b"1"
    assert await cache.get("a") == b"1"
    assert await cache.get("zz") is None
    await cache.set("b", b"22")  # an overwrite is not a new key
    await cache.delete("b")
    assert await cache.stats() == CacheStats(hits=2, misses=1, size=2)
    await asyncio.sleep(PAST_TTL)
    assert await cache.get("c") is None  # expired: a miss, and no longer counted in size
    assert await cache.stats() == CacheStats(hits=2, misses=2, size=1)


async def test_async_context_manager(new_cache: CacheFactory) -> None:
    first = new_cache()
    async with first as entered:
        assert entered is first
        await entered.set("k", b"v")
        assert await entered.get("k") == b"v"
    # Leaving the block closed it; a fresh instance works (and shares the store, if any).
    async with new_cache() as again:
        await again.set("k2", b"v2")
        assert await again.get("k2") == b"v2"
        await again.clear()
