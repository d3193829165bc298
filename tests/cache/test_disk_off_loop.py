"""DiskCache never blocks the event loop: its SQLite calls run on a thread of their own."""

from __future__ import annotations

import asyncio
import sqlite3
from pathlib import Path

from contentgen.cache import DiskCache


async def test_a_locked_cache_does_not_block_the_event_loop(tmp_path: Path) -> None:
    cache = DiskCache(tmp_path / "cache")
    await cache.set("k", b"v")
    other = sqlite3.connect(tmp_path / "cache" / "cache.db", isolation_level=None)
    try:
        other.execute("BEGIN IMMEDIATE")  # another process writing: diskcache must wait
        writing = asyncio.create_task(cache.set("k2", b"v2"))
        reading = asyncio.create_task(cache.get("k"))
        await asyncio.sleep(0.05)
        # The loop runs while the set waits for the lock (a blocking call would hold it here
        # until diskcache gave up, 60 s later, and the COMMIT below would never run).
        assert not writing.done()
        other.execute("COMMIT")
        await writing
        assert await reading == b"v"
        assert await cache.get("k2") == b"v2"
    finally:
        other.close()
        await cache.aclose()


async def test_closed_cache_can_be_used_again(tmp_path: Path) -> None:
    cache = DiskCache(tmp_path / "cache")
    await cache.set("k", b"v")
    await cache.aclose()
    await cache.aclose()
    assert await cache.get("k") == b"v"  # reopens on a new thread
    await cache.aclose()
