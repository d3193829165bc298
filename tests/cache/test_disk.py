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


async def test_an_unusable_directory_turns_the_cache_off_and_says_so_once(
    tmp_path: Path,
) -> None:
    """A file where the directory belongs: the work goes on uncached (one warning with the
    fix); the commands about the cache itself fail with that message."""
    from structlog.testing import capture_logs

    not_a_dir = tmp_path / "file"
    not_a_dir.write_text("x")
    with capture_logs() as logs:
        async with DiskCache(not_a_dir / "cache") as cache:  # opened on first use
            await cache.set("k", b"v")
            assert await cache.get("k") is None
            assert await cache.delete_prefix("k") == 0
            for command in (cache.stats, cache.clear):
                with pytest.raises(ConfigurationError, match="writable directory") as caught:
                    await command()
                assert caught.value.__cause__ is not None
    assert [e["event"] for e in logs] == ["disk_cache_unusable"]
    assert "CONTENTGEN_CACHE_URL" in logs[0]["error"]
    assert not_a_dir.read_text() == "x"  # never touched


# --- issue 7, point 10: a damaged cache is rebuilt, reported once, and never blocks work ----


def damage(directory: Path) -> None:
    """Overwrite the database in place (same size: diskcache memory-maps it, and a file
    truncated under a live mapping would crash the process rather than raise)."""
    path = directory / "cache.db"
    size = path.stat().st_size
    with path.open("r+b") as handle:
        handle.write((b"this is not a database" * (size // 22 + 1))[:size])


async def test_a_damaged_cache_is_rebuilt_when_opened(tmp_path: Path) -> None:
    from structlog.testing import capture_logs

    async with DiskCache(tmp_path / "c") as cache:
        await cache.set("k", b"v")
    damage(tmp_path / "c")
    with capture_logs() as logs:
        async with DiskCache(tmp_path / "c") as cache:
            assert await cache.get("k") is None
            await cache.set("k", b"new")
            assert await cache.get("k") == b"new"
            assert await cache.stats() == CacheStats(hits=1, misses=1, size=1)
    assert [e["event"] for e in logs] == ["disk_cache_rebuilt"]
    assert logs[0]["log_level"] == "warning"


@pytest.mark.parametrize("name", ["cache.db", "cache.db-wal"])
async def test_a_directory_in_place_of_the_database_is_rebuilt(tmp_path: Path, name: str) -> None:
    from structlog.testing import capture_logs

    async with DiskCache(tmp_path / "c") as cache:
        await cache.set("k", b"v")
    (tmp_path / "c" / name).unlink(missing_ok=True)
    (tmp_path / "c" / name / "inside").mkdir(parents=True)
    with capture_logs() as logs:
        async with DiskCache(tmp_path / "c") as cache:
            await cache.set("k", b"new")
            assert await cache.get("k") == b"new"
    assert [e["event"] for e in logs] == ["disk_cache_rebuilt"]
    assert (tmp_path / "c" / "cache.db").is_file()


async def test_damage_found_by_a_later_call_is_rebuilt_once(tmp_path: Path) -> None:
    from structlog.testing import capture_logs

    async with DiskCache(tmp_path / "c") as cache:
        await cache.set("k", b"v")
        damage(tmp_path / "c")
        with capture_logs() as logs:
            await cache.set("other", b"x")  # finds the damage
            assert await cache.get("other") == b"x"
            assert await cache.delete_prefix("o") == 1
            await cache.clear()
            assert await cache.stats() == CacheStats(hits=0, misses=0, size=0)
        assert [e["event"] for e in logs] == ["disk_cache_rebuilt"]


async def test_a_cache_that_cannot_be_rebuilt_turns_itself_off(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from structlog.testing import capture_logs

    from contentgen.cache import disk

    async with DiskCache(tmp_path / "c") as cache:
        await cache.set("before", b"x")
    damage(tmp_path / "c")
    real_open = disk.DiskCache._open
    async with DiskCache(tmp_path / "c") as cache:

        def refuse(self: DiskCache) -> None:
            if not (tmp_path / "c" / "cache.db").exists():  # deleted by the rebuild
                raise OSError("read-only file system")
            real_open(self)  # finds the damage

        monkeypatch.setattr(disk.DiskCache, "_open", refuse)
        with capture_logs() as logs:
            await cache.set("k", b"v")  # no error: the cache is off
            assert await cache.get("k") is None
            assert await cache.stats() == CacheStats(hits=0, misses=0, size=0)
        assert [e["event"] for e in logs] == ["disk_cache_disabled"]


def test_cli_works_and_cache_clear_works_on_a_damaged_cache(tmp_path: Path) -> None:
    from typer.testing import CliRunner

    from contentgen.cli.app import app

    runner = CliRunner()
    prompt = ["prompt", "--topic", "Solar panels for offices"]
    assert runner.invoke(app, prompt).exit_code == 0
    damage(tmp_path / "home" / "cache")
    again = runner.invoke(app, prompt)
    assert again.exit_code == 0, again.output
    assert again.stderr.count("disk_cache_rebuilt") == 1
    damage(tmp_path / "home" / "cache")
    cleared = runner.invoke(app, ["cache", "clear"])
    assert cleared.exit_code == 0 and cleared.stdout == "cache cleared\n", cleared.output
    stats = runner.invoke(app, ["cache", "stats", "--json"])
    assert stats.exit_code == 0 and '"size": 0' in stats.stdout


def test_cli_works_when_the_cache_directory_cannot_be_used(tmp_path: Path) -> None:
    from typer.testing import CliRunner

    from contentgen.cli.app import app

    (tmp_path / "home").mkdir(exist_ok=True)
    (tmp_path / "home" / "cache").write_text("a file where the cache directory belongs")
    runner = CliRunner()
    prompt = runner.invoke(app, ["prompt", "--topic", "Solar panels for offices"])
    assert prompt.exit_code == 0, prompt.output
    assert prompt.stderr.count("disk_cache_unusable") == 1
    assert "CONTENTGEN_CACHE_URL" in prompt.stderr
    stats = runner.invoke(app, ["cache", "stats"])
    assert stats.exit_code == 1
    assert stats.stderr.startswith("error: disk cache: cannot open directory")
