"""The requests-per-minute limiter, on a fake clock (no real waiting)."""

from __future__ import annotations

import pytest

from contentgen.llm.fake import FakeLLM
from contentgen.production import ratelimit
from contentgen.production.ratelimit import RateLimitedLLM, RateLimiter, RateLimits


class Clock:
    def __init__(self) -> None:
        self.now = 100.0
        self.sleeps: list[float] = []

    def monotonic(self) -> float:
        return self.now

    async def sleep(self, seconds: float) -> None:
        self.sleeps.append(round(seconds, 6))
        self.now += seconds


@pytest.fixture
def clock(monkeypatch: pytest.MonkeyPatch) -> Clock:
    fake = Clock()
    monkeypatch.setattr(ratelimit.time, "monotonic", fake.monotonic)
    monkeypatch.setattr(ratelimit.asyncio, "sleep", fake.sleep)
    return fake


async def test_calls_are_spaced_by_sixty_over_rpm(clock: Clock) -> None:
    limiter = RateLimiter(rpm=120)  # one call every 0.5 s
    for _ in range(4):
        await limiter.acquire()
    assert clock.sleeps == [0.5, 0.5, 0.5]


async def test_idle_time_is_not_banked_into_a_burst(clock: Clock) -> None:
    limiter = RateLimiter(rpm=60)
    await limiter.acquire()
    clock.now += 10  # idle for a while
    await limiter.acquire()
    await limiter.acquire()
    assert clock.sleeps == [1.0]


async def test_only_models_with_a_limit_are_wrapped(clock: Clock) -> None:
    limits = RateLimits({"openai/gpt-4o-mini": 30, "other": 0})
    fake = FakeLLM(default="# T\n\ntext here now.")
    wrapped = limits.wrap("openai/gpt-4o-mini", fake)
    assert isinstance(wrapped, RateLimitedLLM)
    assert limits.wrap("other", fake) is fake and limits.wrap("openai/gpt-4o", fake) is fake
    await wrapped.complete("a", model="openai/gpt-4o-mini")
    await wrapped.complete("b", model="openai/gpt-4o-mini")
    assert clock.sleeps == [2.0] and fake.calls == 2
