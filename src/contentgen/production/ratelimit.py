"""Requests per minute per model (setting ``rpm_limits``), taken by the router before every
attempt: a retry or a fallback waits its turn like a first call does."""

from __future__ import annotations

import asyncio
import time
from collections import Counter


class RateLimiter:
    """Spaces call starts at least ``60 / rpm`` seconds apart (no bursts beyond one call)."""

    def __init__(self, rpm: int) -> None:
        self.interval = 60.0 / rpm
        self._next = 0.0
        self._lock = asyncio.Lock()

    async def acquire(self) -> None:
        async with self._lock:
            now = time.monotonic()
            wait = self._next - now
            self._next = max(now, self._next) + self.interval
        if wait > 0:
            await asyncio.sleep(wait)


class RateLimits:
    """One limiter per model named in the settings; other models are not limited."""

    def __init__(self, rpm_limits: dict[str, int]) -> None:
        self._limiters = {m: RateLimiter(rpm) for m, rpm in rpm_limits.items() if rpm > 0}
        #: Turns taken per model (limited models only): one per attempt.
        self.taken: Counter[str] = Counter()

    def limited(self, model: str) -> bool:
        return model in self._limiters

    async def acquire(self, model: str) -> None:
        """Wait for ``model``'s next turn (at once for a model without a limit)."""
        limiter = self._limiters.get(model)
        if limiter is not None:
            self.taken[model] += 1
            await limiter.acquire()
