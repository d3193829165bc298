"""``MemoryCache``: a dict with expiry times, for tests and short-lived embedding.

Nothing is shared between processes or instances; counters live and die with the object.
"""

from __future__ import annotations

import time
from typing import Self

from contentgen.cache.base import CacheStats


class MemoryCache:
    """An in-process ``Cache``; expiry uses ``time.monotonic`` so clock changes don't matter."""

    def __init__(self) -> None:
        # key -> (value, monotonic deadline or None for no expiry)
        self._data: dict[str, tuple[bytes, float | None]] = {}
        self._hits = 0
        self._misses = 0

    def _live(self, key: str, now: float) -> bytes | None:
        entry = self._data.get(key)
        if entry is None:
            return None
        value, deadline = entry
        if deadline is not None and deadline <= now:
            del self._data[key]
            return None
        return value

    def _purge(self) -> None:
        now = time.monotonic()
        expired = [k for k, (_, d) in self._data.items() if d is not None and d <= now]
        for key in expired:
            del self._data[key]

    async def get(self, key: str) -> bytes | None:
        value = self._live(key, time.monotonic())
        if value is None:
            self._misses += 1
        else:
            self._hits += 1
        return value

    async def set(self, key: str, value: bytes, ttl: float | None = None) -> None:
        """Store ``value``; a ``ttl`` of zero or less stores an already-expired entry."""
        deadline = None if ttl is None else time.monotonic() + ttl
        self._data[key] = (bytes(value), deadline)

    async def delete(self, key: str) -> None:
        self._data.pop(key, None)

    async def delete_prefix(self, prefix: str) -> int:
        self._purge()
        doomed = [key for key in self._data if key.startswith(prefix)]
        for key in doomed:
            del self._data[key]
        return len(doomed)

    async def clear(self) -> None:
        self._data.clear()
        self._hits = 0
        self._misses = 0

    async def stats(self) -> CacheStats:
        self._purge()
        return CacheStats(hits=self._hits, misses=self._misses, size=len(self._data))

    async def aclose(self) -> None:
        """Nothing to release; kept for the protocol."""

    async def __aenter__(self) -> Self:
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.aclose()
