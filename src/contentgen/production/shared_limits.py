"""Rate limits per model that hold across every worker: requests and tokens per minute.

With ``rate_limit_url=redis://...`` the counters live in Redis, so N worker processes on M
machines share one budget per model; without it they live in this process (the ``limits``
library's memory storage: the same code, per-process limits). Built on ``limits`` (its async
Redis storage through redis-py) rather than hand-written Lua:

- **rpm**: a moving window (``MovingWindowRateLimiter``): never more than ``rpm`` calls start in
  any 60 seconds, whoever makes them. ``acquire`` waits for a free slot.
- **tpm**: a reservation in a one-minute window counter: ``acquire(model, est_tokens)`` adds the
  estimate (waiting for the next minute while the window is full), and ``settle`` corrects it
  by the difference once the provider reported the real count (refunds included, so a
  generous estimate costs nothing for long). A counter per fixed minute can let up to twice
  the limit through around a minute boundary in the worst case; the rpm window has no such
  edge.

``acquire`` before every provider call (a retry or a fallback is a call), ``settle`` after it::

    limits = SharedRateLimits({"openai/gpt-4o-mini": 500}, {"openai/gpt-4o-mini": 200_000},
                              url="redis://127.0.0.1:6379/0")
    held = await limits.acquire("openai/gpt-4o-mini", est_tokens=1200)
    ... completion = await call() ...
    await limits.settle("openai/gpt-4o-mini", completion.input_tokens + completion.output_tokens,
                        held)
"""

from __future__ import annotations

import asyncio
import time
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from contentgen.errors import ConfigurationError, MissingExtra
from contentgen.logs import get_logger

if TYPE_CHECKING:
    from contentgen.llm.base import CompletionParams
    from contentgen.settings import Settings

WINDOW = 60  # seconds
DEFAULT_OUTPUT = 1024  # tokens reserved for the answer when the call sets no max_tokens
MIN_SLEEP = 0.05

log = get_logger(__name__)


@dataclass(frozen=True)
class Reservation:
    """What ``acquire`` took: the tpm window it charged and how much (0: no tpm limit)."""

    model: str
    window: int = 0
    tokens: int = 0


def _storage_uri(url: str) -> str:
    scheme, sep, rest = url.partition("://")
    if not sep or scheme not in ("redis", "rediss", "unix"):
        raise ConfigurationError(
            "rate_limit_url must be redis://HOST:PORT/DB (or rediss://); empty for per-process "
            "limits",
            field="rate_limit_url",
        )
    return f"async+{scheme}://{rest}"


class SharedRateLimits:
    """rpm/tpm limits per model, shared through Redis when ``url`` is given (else per process).

    Models without a limit pass at once; ``limited(model)`` tells which are limited.
    """

    def __init__(
        self,
        rpm: dict[str, int] | None = None,
        tpm: dict[str, int] | None = None,
        *,
        url: str | None = None,
        namespace: str = "contentgen",
    ) -> None:
        try:
            from limits import RateLimitItemPerMinute
            from limits.aio.strategies import MovingWindowRateLimiter
            from limits.storage import storage_from_string
        except ImportError as exc:  # pragma: no cover - limits is a core dependency of 'redis'
            raise MissingExtra("redis", "shared rate limits") from exc
        self.shared = bool(url)
        if url:
            try:
                import redis.asyncio  # noqa: F401  (limits' redispy bridge needs it)
            except ImportError as exc:
                raise MissingExtra("redis", "a rate_limit_url") from exc
            self._storage: Any = storage_from_string(_storage_uri(url), implementation="redispy")
        else:
            self._storage = storage_from_string("async+memory://")
        self._moving = MovingWindowRateLimiter(self._storage)
        self._rpm = {m: RateLimitItemPerMinute(n) for m, n in (rpm or {}).items() if n > 0}
        self._tpm = {m: n for m, n in (tpm or {}).items() if n > 0}
        self._ns = namespace

    def limited(self, model: str) -> bool:
        return model in self._rpm or model in self._tpm

    async def try_acquire(self, model: str) -> bool:
        """Take an rpm turn for ``model`` if one is free now; never waits (tpm not involved)."""
        item = self._rpm.get(model)
        return True if item is None else await self._moving.hit(item, self._ns, "rpm", model)

    async def acquire(self, model: str, est_tokens: int = 0) -> Reservation:
        """Wait until ``model`` may be called with about ``est_tokens`` tokens; take the turn."""
        item = self._rpm.get(model)
        if item is not None:
            while not await self._moving.hit(item, self._ns, "rpm", model):
                reset, _ = await self._moving.get_window_stats(item, self._ns, "rpm", model)
                wait = max(reset - time.time(), MIN_SLEEP)
                log.debug("ratelimit.wait", model=model, kind="rpm", seconds=round(wait, 3))
                await asyncio.sleep(wait)
        limit = self._tpm.get(model)
        if limit is None:
            return Reservation(model)
        tokens = max(int(est_tokens), 1)
        while True:
            window = int(time.time()) // WINDOW
            total = await self._storage.incr(self._tpm_key(model, window), WINDOW * 2, tokens)
            # a single call larger than the whole budget still goes, alone in its window
            if total <= limit or total == tokens:
                return Reservation(model, window, tokens)
            await self._storage.incr(self._tpm_key(model, window), WINDOW * 2, -tokens)
            wait = max((window + 1) * WINDOW - time.time(), MIN_SLEEP)
            log.debug("ratelimit.wait", model=model, kind="tpm", seconds=round(wait, 3))
            await asyncio.sleep(wait)

    async def settle(
        self, model: str, actual_tokens: int, reservation: Reservation | None = None
    ) -> None:
        """Correct the tpm count by what the call really used (no-op without a tpm limit)."""
        if model not in self._tpm:
            return
        held = reservation or Reservation(model, int(time.time()) // WINDOW, 0)
        window = held.window or int(time.time()) // WINDOW
        delta = int(actual_tokens) - held.tokens
        if delta:
            await self._storage.incr(self._tpm_key(model, window), WINDOW * 2, delta)

    async def used(self, model: str) -> int:
        """Tokens counted in ``model``'s current tpm window (for reports and tests)."""
        return int(await self._storage.get(self._tpm_key(model, int(time.time()) // WINDOW)))

    def _tpm_key(self, model: str, window: int) -> str:
        return f"{self._ns}/tpm/{model}/{window}"

    async def aclose(self) -> None:
        """Nothing to release: limits' storages close their pools on garbage collection."""


def estimate_tokens(prompt: str, params: CompletionParams | None) -> int:
    """A generous token estimate to reserve (about 4 characters a token, plus the answer's cap);
    ``settle`` refunds what the call did not use."""
    cap = params.max_tokens if params is not None and params.max_tokens else DEFAULT_OUTPUT
    return len(prompt) // 4 + 1 + cap


def shared_limits_from(settings: Settings) -> SharedRateLimits | None:
    """The limits to use instead of the per-process rpm spacing: when ``rate_limit_url`` is set
    (every worker shares rpm and tpm) or ``tpm_limits`` are (per process); else None."""
    url = settings.rate_limit_url.strip()
    if not url and not settings.tpm_limits:
        return None
    return SharedRateLimits(settings.rpm_limits, settings.tpm_limits, url=url or None)
