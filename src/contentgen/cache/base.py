"""The ``Cache`` protocol: bytes in, bytes out, with TTL and prefix invalidation.

Implementations: ``DiskCache`` (diskcache, default), ``MemoryCache``, ``RedisCache``
(extra ``redis``). All pass ``tests/cache/test_contract.py``.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol, Self, runtime_checkable


@dataclass(frozen=True)
class CacheStats:
    hits: int
    misses: int
    size: int  # number of live keys


@runtime_checkable
class Cache(Protocol):
    async def get(self, key: str) -> bytes | None:
        """The value, or None when missing or expired. Counts a hit or a miss."""

    async def set(self, key: str, value: bytes, ttl: float | None = None) -> None:
        """Store ``value``; ``ttl`` in seconds (None: no expiry)."""

    async def delete(self, key: str) -> None: ...

    async def delete_prefix(self, prefix: str) -> int:
        """Delete every key starting with ``prefix``; returns how many."""

    async def clear(self) -> None:
        """Delete every key of this cache (and reset the hit/miss counters)."""

    async def stats(self) -> CacheStats: ...

    async def aclose(self) -> None: ...

    async def __aenter__(self) -> Self: ...

    async def __aexit__(self, *exc: object) -> None: ...
