"""The requests-per-minute limiter, on a fake clock (no real waiting)."""

from __future__ import annotations

import pytest

from contentgen.production import ratelimit
from contentgen.production.ratelimit import RateLimiter, RateLimits


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


async def test_only_models_with_a_limit_wait(clock: Clock) -> None:
    limits = RateLimits({"openai/gpt-4o-mini": 30, "other": 0})
    assert limits.limited("openai/gpt-4o-mini")
    assert not limits.limited("other") and not limits.limited("openai/gpt-4o")
    for model in ("openai/gpt-4o-mini", "other", "openai/gpt-4o", "openai/gpt-4o-mini"):
        await limits.acquire(model)
    assert clock.sleeps == [2.0]
    assert limits.taken == {"openai/gpt-4o-mini": 2}
