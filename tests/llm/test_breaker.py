"""The circuit breaker's states on a fake clock."""

from __future__ import annotations

from contentgen.llm.breaker import Breakers, CircuitBreaker


class Clock:
    def __init__(self) -> None:
        self.now = 0.0

    def __call__(self) -> float:
        return self.now


def test_opens_after_n_consecutive_failures_and_half_opens_after_t() -> None:
    clock = Clock()
    breaker = CircuitBreaker(threshold=3, reset_after=10, clock=clock)
    for _ in range(2):
        assert breaker.allow()
        breaker.failure()
    breaker.success()  # a success resets the count
    for _ in range(3):
        assert breaker.allow()
        breaker.failure()
    assert breaker.state == "open" and not breaker.allow() and not breaker.available()
    assert breaker.retry_in() == 10
    clock.now = 10
    assert breaker.state == "half_open" and breaker.available()
    assert breaker.allow()  # the one trial
    assert not breaker.allow()  # a second caller waits for the trial's outcome
    breaker.failure()  # the trial failed: open again for T
    assert breaker.state == "open"
    clock.now = 20
    assert breaker.allow()
    breaker.success()
    assert breaker.state == "closed" and breaker.failures == 0


def test_a_trial_that_ends_neither_way_frees_the_slot() -> None:
    clock = Clock()
    breaker = CircuitBreaker(threshold=1, reset_after=5, clock=clock)
    breaker.failure()
    clock.now = 5
    assert breaker.allow()
    breaker.release()
    assert breaker.allow()


def test_breakers_are_per_key() -> None:
    breakers = Breakers(1, 30)
    breakers.get("openai:a").failure()
    assert breakers.view("openai:a").state == "open"
    assert breakers.view("openai:b").state == "closed"
