"""RedisCache beyond the contract: namespacing, errors, the optional extra."""

from __future__ import annotations

import os
import subprocess
import sys
import uuid
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest

import contentgen
from contentgen.cache import CacheStats, RedisCache
from contentgen.errors import ConfigurationError, MissingExtra

aioredis = pytest.importorskip("redis.asyncio", reason="extra 'redis' not installed")


@pytest.fixture
async def raw(redis_url: str) -> AsyncIterator[Any]:
    client = aioredis.Redis.from_url(redis_url)
    try:
        yield client
    finally:
        await client.aclose()


@pytest.mark.redis
async def test_keys_live_under_the_namespace_and_clear_spares_the_rest(
    redis_url: str, raw: Any
) -> None:
    ns = f"cg-{uuid.uuid4().hex}:"
    foreign = f"not-contentgen-{uuid.uuid4().hex}"
    await raw.set(foreign, b"keep me")
    try:
        async with RedisCache(redis_url, namespace=ns) as cache:
            await cache.set("k", b"v", ttl=60)
            await cache.get("k")
            names = {key.decode() async for key in raw.scan_iter(match=f"{ns}*")}
            assert names == {f"{ns}v:k", f"{ns}stats:hits"}
            assert 0 < await raw.pttl(f"{ns}v:k") <= 60_000
            await cache.clear()
            assert [key async for key in raw.scan_iter(match=f"{ns}*")] == []
        assert await raw.get(foreign) == b"keep me"
    finally:
        await raw.delete(foreign)


@pytest.mark.redis
async def test_namespaces_are_independent(redis_url: str) -> None:
    ns = uuid.uuid4().hex
    async with (
        RedisCache(redis_url, namespace=f"{ns}-a:") as a,
        RedisCache(redis_url, namespace=f"{ns}-b:") as b,
    ):
        await a.set("k", b"a")
        assert await b.get("k") is None
        assert await a.delete_prefix("") == 1
        await b.set("k", b"b")
        await a.clear()
        assert await b.get("k") == b"b"
        assert await b.stats() == CacheStats(hits=1, misses=1, size=1)
        await b.clear()


@pytest.mark.redis
async def test_instances_share_values_and_counters(redis_url: str) -> None:
    ns = f"cg-{uuid.uuid4().hex}:"
    async with RedisCache(redis_url, ns) as one, RedisCache(redis_url, ns) as two:
        await one.set("k", b"v")
        assert await two.get("k") == b"v"
        assert await one.stats() == CacheStats(hits=1, misses=0, size=1)
        await one.clear()


async def test_unreachable_server_is_a_configuration_error(free_port: int) -> None:
    url = f"redis://:s3cret@127.0.0.1:{free_port}/0"  # nothing listens there
    async with RedisCache(url) as cache:
        with pytest.raises(ConfigurationError, match="could not be reached") as caught:
            await cache.get("k")
    message = str(caught.value)
    assert "CONTENTGEN_CACHE_URL" in message
    assert "127.0.0.1" in message
    assert "s3cret" not in message
    assert isinstance(caught.value.__cause__, aioredis.ConnectionError)


def test_invalid_url_is_a_configuration_error() -> None:
    with pytest.raises(ConfigurationError, match="invalid URL"):
        RedisCache("redis://localhost:notaport/0")


def test_missing_redis_package_names_the_extra(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in ("redis", "redis.asyncio", "redis.exceptions"):
        monkeypatch.setitem(sys.modules, name, None)
    with pytest.raises(MissingExtra, match=r"pip install 'contentgen\[redis\]'") as caught:
        RedisCache("redis://localhost:6379/0")
    assert caught.value.extra == "redis"


def test_importing_the_cache_package_does_not_import_redis() -> None:
    src = str(Path(contentgen.__file__).parents[1])
    env = {
        **os.environ,
        "PYTHONPATH": os.pathsep.join(filter(None, [src, os.environ.get("PYTHONPATH")])),
    }
    code = "import sys, contentgen.cache; sys.exit('redis' in sys.modules)"
    subprocess.run([sys.executable, "-c", code], check=True, env=env, timeout=60)
