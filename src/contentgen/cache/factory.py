"""``open_cache(url)``: the one place that maps a cache URL to a ``Cache`` implementation."""

from __future__ import annotations

from pathlib import Path

from contentgen.cache.base import Cache
from contentgen.cache.disk import DiskCache
from contentgen.cache.memory import MemoryCache
from contentgen.cache.redis import RedisCache
from contentgen.errors import ConfigurationError

ACCEPTED = "disk://PATH (default), memory://, redis://HOST[:PORT][/DB] or rediss://... (TLS)"


def open_cache(url: str) -> Cache:
    """Build the cache ``url`` names; nothing connects until first use.

    ``disk://PATH`` takes the rest of the URL as the directory: ``disk:///var/cache/cg`` is
    absolute, ``disk://cache`` is relative to the working directory, ``~`` is expanded.
    """
    scheme, sep, rest = url.partition("://")
    scheme = scheme.lower()
    if not sep or not scheme:
        raise ConfigurationError(
            f"cache URL {url!r} has no scheme; expected {ACCEPTED}", field="cache_url"
        )
    if scheme == "disk":
        if not rest:
            raise ConfigurationError(
                f"cache URL {url!r} names no directory; use disk:///ABSOLUTE/PATH or "
                "disk://RELATIVE/PATH",
                field="cache_url",
            )
        return DiskCache(Path(rest).expanduser())
    if scheme == "memory":
        return MemoryCache()
    if scheme in ("redis", "rediss"):
        return RedisCache(url)
    raise ConfigurationError(
        f"cache URL scheme {scheme!r} is not supported; expected {ACCEPTED}", field="cache_url"
    )
