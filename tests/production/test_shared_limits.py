"""SharedRateLimits: rpm and tpm per model, per process or shared through a real Redis."""

from __future__ import annotations

import asyncio
import time
import uuid

import pytest

from contentgen.errors import ConfigurationError
from contentgen.production.shared_limits import SharedRateLimits


def test_only_redis_urls_are_accepted() -> None:
    with pytest.raises(ConfigurationError, match="redis://"):
        SharedRateLimits({"m": 1}, url="http://example.invalid")


async def test_unlimited_models_pass_at_once() -> None:
    limits = SharedRateLimits({"m": 1})
    assert not limits.limited("other") and limits.limited("m")
    for _ in range(100):
        await limits.acquire("other", 10**6)


async def _taken_at_once(limits: list[SharedRateLimits], model: str, tries: int) -> int:
    """How many of ``tries`` turns, spread over ``limits``, are free without waiting."""
    got = await asyncio.gather(*(limits[i % len(limits)].try_acquire(model) for i in range(tries)))
    return sum(got)


async def test_acquire_waits_when_the_window_is_full() -> None:
    limits = SharedRateLimits({"m": 2})
    await limits.acquire("m")
    await limits.acquire("m")
    waiting = asyncio.create_task(limits.acquire("m"))
    await asyncio.sleep(0.2)
    assert not waiting.done()
    waiting.cancel()


async def test_rpm_holds_per_process_without_redis() -> None:
    first, second = SharedRateLimits({"m": 5}), SharedRateLimits({"m": 5})
    assert await _taken_at_once([first], "m", 8) == 5
    assert await _taken_at_once([second], "m", 8) == 5  # its own budget: not shared


async def test_rpm_is_shared_by_every_limiter_on_one_redis(redis_url: str) -> None:
    ns = f"t-{uuid.uuid4().hex}"
    workers = [SharedRateLimits({"m": 6}, url=redis_url, namespace=ns) for _ in range(3)]
    assert all(w.shared for w in workers)
    assert await _taken_at_once(workers, "m", 15) == 6


async def _away_from_a_minute_edge() -> None:
    """tpm counts per clock minute: keep a test's few seconds inside one minute."""
    left = 60 - time.time() % 60
    if left < 5:
        await asyncio.sleep(left + 0.05)


async def test_tpm_reserves_then_settles_including_refunds(redis_url: str) -> None:
    await _away_from_a_minute_edge()
    ns = f"t-{uuid.uuid4().hex}"
    a = SharedRateLimits(tpm={"m": 1000}, url=redis_url, namespace=ns)
    b = SharedRateLimits(tpm={"m": 1000}, url=redis_url, namespace=ns)
    held = await a.acquire("m", est_tokens=600)
    assert await b.used("m") == 600
    with pytest.raises(TimeoutError):  # 600 + 600 > 1000: b waits for the next minute
        await asyncio.wait_for(b.acquire("m", est_tokens=600), 0.3)
    await a.settle("m", 150, held)  # the call used less than reserved: refund 450
    assert await b.used("m") == 150
    second = await asyncio.wait_for(b.acquire("m", est_tokens=600), 0.5)
    await b.settle("m", 900, second)  # used more: charged the difference
    assert await a.used("m") == 1050


async def test_a_call_bigger_than_the_whole_budget_still_goes_alone() -> None:
    limits = SharedRateLimits(tpm={"m": 100})
    held = await asyncio.wait_for(limits.acquire("m", est_tokens=5000), 0.5)
    assert held.tokens == 5000
