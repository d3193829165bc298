"""DiskCache beyond the contract: one store and one set of counters per directory."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from contentgen.cache import CacheStats, DiskCache
from contentgen.errors import ConfigurationError


async def test_second_instance_sees_values_and_counters(tmp_path: Path) -> None:
    async with DiskCache(tmp_path / "c") as one, DiskCache(tmp_path / "c") as two:
        await one.set("k", b"v")
        assert await two.get("k") == b"v"  # a hit, counted by two
        assert await one.get("missing") is None  # a miss, counted by one
        expected = CacheStats(hits=1, misses=1, size=1)
        assert await one.stats() == expected
        assert await two.stats() == expected
        await two.clear()
        assert await one.stats() == CacheStats(hits=0, misses=0, size=0)


async def test_values_and_counters_survive_reopening(tmp_path: Path) -> None:
    async with DiskCache(tmp_path / "c") as cache:
        await cache.set("k", b"v")
        await cache.get("k")
    async with DiskCache(tmp_path / "c") as cache:
        assert await cache.stats() == CacheStats(hits=1, misses=0, size=1)
        assert await cache.get("k") == b"v"


async def test_another_process_shares_values_and_counters(tmp_path: Path) -> None:
    directory = tmp_path / "c"
    async with DiskCache(directory) as cache:
        await cache.set("from-parent", b"p")
        child = f"""
import asyncio
from pathlib import Path
from contentgen.cache import DiskCache

async def main() -> None:
    async with DiskCache(Path({str(directory)!r})) as cache:
        assert await cache.get("from-parent") == b"p"
        assert await cache.get("missing") is None
        await cache.set("from-child", b"c")

asyncio.run(main())
"""
        subprocess.run([sys.executable, "-c", child], check=True, timeout=60)
        assert await cache.get("from-child") == b"c"
        assert await cache.stats() == CacheStats(hits=2, misses=1, size=2)


async def test_unusable_directory_is_a_configuration_error(tmp_path: Path) -> None:
    not_a_dir = tmp_path / "file"
    not_a_dir.write_text("x")
    with pytest.raises(ConfigurationError, match="writable directory") as caught:
        DiskCache(not_a_dir / "cache")
    assert caught.value.__cause__ is not None
