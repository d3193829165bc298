"""Circuit breakers, one per provider+model (a small one of our own: no maintained async
breaker library keeps the state we need, issue 10).

closed -> (``threshold`` consecutive failures) -> open -> (``reset_after`` seconds) ->
half-open: one trial call is let through; its success closes the circuit, its failure opens
it again for another ``reset_after``. Routing skips models whose circuit is open. The state
lives in this process.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Literal

from contentgen.errors import ProviderUnavailable

State = Literal["closed", "open", "half_open"]


class CircuitBreaker:
    def __init__(
        self, threshold: int, reset_after: float, clock: Callable[[], float] = time.monotonic
    ) -> None:
        self.threshold = threshold
        self.reset_after = reset_after
        self._clock = clock
        self.failures = 0  # consecutive
        self._opened_at: float | None = None
        self._trial = False  # a half-open trial call is in flight

    @property
    def state(self) -> State:
        if self._opened_at is None:
            return "closed"
        if self._clock() - self._opened_at >= self.reset_after:
            return "half_open"
        return "open"

    def retry_in(self) -> float:
        """Seconds until an open circuit lets a trial call through (0 when not open)."""
        if self._opened_at is None:
            return 0.0
        return max(0.0, self.reset_after - (self._clock() - self._opened_at))

    def allow(self) -> bool:
        """May a call go out now? In half-open state only one trial at a time."""
        state = self.state
        if state == "closed":
            return True
        if state == "open" or self._trial:
            return False
        self._trial = True
        return True

    def available(self) -> bool:
        """Would ``allow`` say yes (without taking the half-open trial)?"""
        state = self.state
        return state == "closed" or (state == "half_open" and not self._trial)

    def success(self) -> None:
        self.failures = 0
        self._opened_at = None
        self._trial = False

    def failure(self) -> None:
        self.failures += 1
        if self._trial or self.failures >= self.threshold:
            self._opened_at = self._clock()
        self._trial = False

    def release(self) -> None:
        """A trial call ended with neither success nor a counted failure (e.g. bad request)."""
        self._trial = False


@dataclass(frozen=True)
class BreakerView:
    state: State
    failures: int
    retry_in: float


class Breakers:
    """The breakers of one process, created on first use."""

    def __init__(
        self, threshold: int, reset_after: float, clock: Callable[[], float] = time.monotonic
    ) -> None:
        self.threshold = threshold
        self.reset_after = reset_after
        self._clock = clock
        self._breakers: dict[str, CircuitBreaker] = {}

    def get(self, key: str) -> CircuitBreaker:
        breaker = self._breakers.get(key)
        if breaker is None:
            breaker = self._breakers[key] = CircuitBreaker(
                self.threshold, self.reset_after, self._clock
            )
        return breaker

    def views(self) -> dict[str, BreakerView]:
        """Every breaker used so far in this process (``provider:model`` -> its state)."""
        return {key: self.view(key) for key in list(self._breakers)}

    def view(self, key: str) -> BreakerView:
        breaker = self._breakers.get(key)
        if breaker is None:
            return BreakerView("closed", 0, 0.0)
        return BreakerView(breaker.state, breaker.failures, breaker.retry_in())


class CircuitOpen(ProviderUnavailable):
    """Every model of the route has an open circuit (or the one left just opened)."""

    def __init__(self, model: str, provider: str, retry_in: float) -> None:
        super().__init__(
            f"{model}: circuit open after repeated failures; skipped (next trial in "
            f"{retry_in:.0f} s)", provider=provider, model=model, kind="connection",
        )  # fmt: skip

    @property
    def transient(self) -> bool:
        return False
