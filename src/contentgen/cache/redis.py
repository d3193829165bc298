"""``RedisCache``: a cache shared by every process and machine that reaches one Redis.

Needs the extra ``redis`` (``pip install 'contentgen[redis]'``); the ``redis`` package is
imported when a ``RedisCache`` is built, never when this module is imported.

Layout under ``namespace`` (default ``contentgen:``)::

    {namespace}v:{key}        the value of ``key`` (Redis expiry carries the TTL)
    {namespace}stats:hits     INCR counters, shared by every client of the namespace
    {namespace}stats:misses

Values and counters live in separate sub-namespaces, so no user key can collide with a
counter and ``delete_prefix`` can never reach one. ``clear`` deletes ``{namespace}*`` with
SCAN + DEL and nothing else: other data in the same Redis database is left alone.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any, Self
from urllib.parse import urlsplit, urlunsplit

from contentgen.cache.base import CacheStats
from contentgen.errors import ConfigurationError, MissingExtra

_SCAN_COUNT = 500
_GLOB_SPECIAL = "\\*?[]"


def _glob_escape(text: str) -> str:
    """Escape ``text`` so a Redis MATCH pattern matches it literally."""
    return "".join("\\" + ch if ch in _GLOB_SPECIAL else ch for ch in text)


def _redact(url: str) -> str:
    """``url`` with any password replaced by ``***``, safe for error messages."""
    try:
        parts = urlsplit(url)
        if parts.password is None:
            return url
        host = parts.hostname or ""
        if parts.port is not None:
            host = f"{host}:{parts.port}"
        user = parts.username or ""
        return urlunsplit(parts._replace(netloc=f"{user}:***@{host}"))
    except ValueError:
        return "<unparseable URL>"


class RedisCache:
    """A ``Cache`` in Redis under ``namespace``; no connection is made until first use."""

    def __init__(self, url: str, namespace: str = "contentgen:") -> None:
        try:
            import redis.asyncio as aioredis
            import redis.exceptions as redis_errors
        except ImportError as exc:
            raise MissingExtra("redis", "The Redis cache") from exc

        self.url = url
        self.namespace = namespace
        self._errors = redis_errors
        self._values = f"{namespace}v:"
        self._hits_key = f"{namespace}stats:hits"
        self._misses_key = f"{namespace}stats:misses"
        try:
            # Any: the installed typing for redis differs across versions (inline types in
            # redis>=5, stale types-redis stubs for 4.x); the calls used here exist in both.
            self._client: Any = aioredis.Redis.from_url(url, socket_connect_timeout=5.0)
        except ValueError as exc:
            raise ConfigurationError(
                f"Redis cache: invalid URL {_redact(url)!r} ({exc}); "
                "use redis://[[USER]:PASSWORD@]HOST[:PORT][/DB] or rediss://... for TLS",
                url=_redact(url),
            ) from exc

    @contextmanager
    def _translate(self) -> Iterator[None]:
        """Turn redis errors into contentgen errors that say how to fix them."""
        errors = self._errors
        url = _redact(self.url)
        try:
            yield
        except errors.AuthenticationError as exc:
            raise ConfigurationError(
                f"Redis cache: {url} rejected the credentials ({exc}); "
                "fix the user/password in CONTENTGEN_CACHE_URL",
                url=url,
            ) from exc
        except (errors.ConnectionError, errors.TimeoutError) as exc:
            raise ConfigurationError(
                f"Redis cache: {url} could not be reached ({exc}); start redis-server "
                "there or fix CONTENTGEN_CACHE_URL (or use disk://PATH, the default cache)",
                url=url,
            ) from exc
        except errors.RedisError as exc:
            raise ConfigurationError(
                f"Redis cache: {url} answered with an error ({exc}); check that the "
                f"namespace {self.namespace!r} is not used by another application",
                url=url,
            ) from exc

    async def _delete_matching(self, pattern: str) -> int:
        deleted = 0
        batch: list[bytes] = []
        async for key in self._client.scan_iter(match=pattern, count=_SCAN_COUNT):
            batch.append(key)
            if len(batch) >= _SCAN_COUNT:
                deleted += int(await self._client.delete(*batch))
                batch.clear()
        if batch:
            deleted += int(await self._client.delete(*batch))
        return deleted

    async def get(self, key: str) -> bytes | None:
        with self._translate():
            value = await self._client.get(self._values + key)
            await self._client.incr(self._misses_key if value is None else self._hits_key)
        return None if value is None else bytes(value)

    async def set(self, key: str, value: bytes, ttl: float | None = None) -> None:
        """Store ``value``; a ``ttl`` of zero or less leaves the key absent (already expired)."""
        with self._translate():
            if ttl is None:
                await self._client.set(self._values + key, value)
            elif ttl <= 0:
                await self._client.delete(self._values + key)
            else:
                # PX keeps sub-second TTLs; at least 1 ms, since PX 0 is an error.
                await self._client.set(self._values + key, value, px=max(1, round(ttl * 1000)))

    async def delete(self, key: str) -> None:
        with self._translate():
            await self._client.delete(self._values + key)

    async def delete_prefix(self, prefix: str) -> int:
        with self._translate():
            return await self._delete_matching(_glob_escape(self._values + prefix) + "*")

    async def clear(self) -> None:
        """Delete every key under the namespace, counters included (never FLUSHDB)."""
        with self._translate():
            await self._delete_matching(_glob_escape(self.namespace) + "*")

    async def stats(self) -> CacheStats:
        with self._translate():
            hits, misses = await self._client.mget(self._hits_key, self._misses_key)
            # SCAN may return a key twice; a set counts each once.
            live = {
                key
                async for key in self._client.scan_iter(
                    match=_glob_escape(self._values) + "*", count=_SCAN_COUNT
                )
            }
        return CacheStats(hits=int(hits or 0), misses=int(misses or 0), size=len(live))

    async def aclose(self) -> None:
        # aclose() arrived in redis 5.0.1 (close() is deprecated since); 5.0.0 only has close().
        closer = getattr(self._client, "aclose", None) or self._client.close
        await closer()

    async def __aenter__(self) -> Self:
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.aclose()
