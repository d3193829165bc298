"""MemoryCache beyond the contract: instances are independent."""

from __future__ import annotations

from contentgen.cache import CacheStats, MemoryCache


async def test_instances_do_not_share_anything() -> None:
    one, two = MemoryCache(), MemoryCache()
    await one.set("k", b"v")
    assert await two.get("k") is None
    assert await one.stats() == CacheStats(hits=0, misses=0, size=1)
    assert await two.stats() == CacheStats(hits=0, misses=1, size=0)
