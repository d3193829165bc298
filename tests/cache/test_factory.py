"""open_cache: cache URL -> implementation."""

from __future__ import annotations

from pathlib import Path

import pytest

from contentgen.cache import DiskCache, MemoryCache, RedisCache, open_cache
from contentgen.errors import ConfigurationError
from contentgen.settings import Settings


async def test_disk_absolute_path(tmp_path: Path) -> None:
    async with open_cache(f"disk://{tmp_path / 'abs'}") as cache:
        assert isinstance(cache, DiskCache)
        assert cache.directory == tmp_path / "abs"
        assert cache.directory.is_absolute()
        assert not (tmp_path / "abs").exists()  # opened on first use
        await cache.set("k", b"v")
        assert (tmp_path / "abs").is_dir()


async def test_disk_relative_path_is_under_the_working_directory(tmp_path: Path) -> None:
    # The autouse fixture has chdir'd into tmp_path.
    async with open_cache("disk://rel/cache") as cache:
        assert isinstance(cache, DiskCache)
        assert cache.directory == Path("rel/cache")
        await cache.set("k", b"v")
    assert (tmp_path / "rel" / "cache").is_dir()


async def test_disk_expands_home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("HOME", str(tmp_path))
    async with open_cache("disk://~/c") as cache:
        assert isinstance(cache, DiskCache)
        assert cache.directory == tmp_path / "c"


async def test_scheme_is_case_insensitive(tmp_path: Path) -> None:
    async with open_cache(f"DISK://{tmp_path}") as cache:
        assert isinstance(cache, DiskCache)


async def test_default_settings_url_opens_a_disk_cache_in_home() -> None:
    settings = Settings()
    async with open_cache(settings.cache_url) as cache:
        assert isinstance(cache, DiskCache)
        assert cache.directory == settings.home / "cache"


async def test_memory() -> None:
    async with open_cache("memory://") as cache:
        assert isinstance(cache, MemoryCache)


@pytest.mark.parametrize("url", ["redis://localhost:6379/0", "rediss://user:pw@example.com:6380"])
async def test_redis_does_not_connect_until_used(url: str) -> None:
    async with open_cache(url) as cache:
        assert isinstance(cache, RedisCache)
        assert cache.url == url


def test_disk_without_a_path() -> None:
    with pytest.raises(ConfigurationError, match="names no directory"):
        open_cache("disk://")


@pytest.mark.parametrize(
    "url", ["", "cache", "/var/cache/contentgen", "sqlite:///x.db", "memcached://localhost", "://x"]
)
def test_unsupported_url_lists_accepted_schemes(url: str) -> None:
    with pytest.raises(ConfigurationError) as caught:
        open_cache(url)
    message = str(caught.value)
    for scheme in ("disk://", "memory://", "redis://", "rediss://"):
        assert scheme in message
