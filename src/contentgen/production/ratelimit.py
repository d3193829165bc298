"""Limits on model calls, as ``LLM`` wrappers: requests per minute per model (setting
``rpm_limits``) and calls in flight (a batch's ``--concurrency``)."""

from __future__ import annotations

import asyncio
import time

from contentgen.llm.base import LLM, Completion, CompletionParams


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


class RateLimitedLLM:
    def __init__(self, inner: LLM, limiter: RateLimiter) -> None:
        self.inner = inner
        self.limiter = limiter
        self.long_form = inner.long_form

    async def complete(
        self, prompt: str, *, model: str, params: CompletionParams | None = None
    ) -> Completion:
        await self.limiter.acquire()
        return await self.inner.complete(prompt, model=model, params=params)

    async def aclose(self) -> None:
        await self.inner.aclose()


class RateLimits:
    """One limiter per model named in the settings; other models are not limited."""

    def __init__(self, rpm_limits: dict[str, int]) -> None:
        self._limiters = {m: RateLimiter(rpm) for m, rpm in rpm_limits.items() if rpm > 0}

    def wrap(self, model: str, llm: LLM) -> LLM:
        limiter = self._limiters.get(model)
        return llm if limiter is None else RateLimitedLLM(llm, limiter)


class BoundedLLM:
    """Holds one of ``slots`` during each call: bounds calls in flight, while the work around
    the calls (prompts, storage, analysis) runs outside the bound."""

    def __init__(self, inner: LLM, slots: asyncio.Semaphore) -> None:
        self.inner = inner
        self.slots = slots
        self.long_form = inner.long_form

    async def complete(
        self, prompt: str, *, model: str, params: CompletionParams | None = None
    ) -> Completion:
        async with self.slots:
            return await self.inner.complete(prompt, model=model, params=params)

    async def aclose(self) -> None:
        await self.inner.aclose()
