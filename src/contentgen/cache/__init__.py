"""Caches: the ``Cache`` protocol, its implementations and ``open_cache(url)``.

``RedisCache`` is importable without the ``redis`` package; it is only needed (extra
``redis``) when one is built.
"""

from contentgen.cache.base import Cache, CacheStats
from contentgen.cache.disk import DiskCache
from contentgen.cache.factory import open_cache
from contentgen.cache.memory import MemoryCache
from contentgen.cache.redis import RedisCache

__all__ = ["Cache", "CacheStats", "DiskCache", "MemoryCache", "RedisCache", "open_cache"]
