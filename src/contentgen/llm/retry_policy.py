"""When a failed attempt is tried again, and how long the router waits first.

Only transient kinds are retried (never ``auth`` or ``bad_request``), and only while the
provider's ``Retry-After`` is at most ``MAX_RETRY_AFTER``. The wait is exponential back-off with
jitter from ``settings.retry_wait`` (at most ``MAX_WAIT``), but never shorter than the
provider's ``Retry-After``.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

from tenacity import AsyncRetrying, RetryCallState, retry_if_exception, stop_after_attempt
from tenacity.wait import wait_exponential_jitter

from contentgen.errors import ProviderError
from contentgen.llm.base import Completion
from contentgen.logs import get_logger

#: Longest back-off between two attempts, and the longest Retry-After honoured (a longer one
#: moves on to the next model of the route).
MAX_WAIT = 30.0
MAX_RETRY_AFTER = 60.0

log = get_logger()


def backoff(wait: float) -> wait_exponential_jitter:
    """Exponential back-off with jitter from ``wait`` seconds (``settings.retry_wait``)."""
    return wait_exponential_jitter(multiplier=wait, max=max(wait, MAX_WAIT), jitter=wait)


def wait_seconds(backoff: wait_exponential_jitter, state: RetryCallState) -> float:
    """The back-off for ``state``, or the provider's Retry-After when that is longer."""
    delay = float(backoff(state))
    exc = state.outcome.exception() if state.outcome is not None else None
    if isinstance(exc, ProviderError) and exc.retry_after is not None:
        delay = max(delay, exc.retry_after)
    return delay


def retryable(exc: BaseException) -> bool:
    if not isinstance(exc, ProviderError) or not exc.transient:
        return False
    return exc.retry_after is None or exc.retry_after <= MAX_RETRY_AFTER


async def retry_after_failure(
    once: Callable[[], Awaitable[Completion]], first: ProviderError, *, model: str,
    retries: int, wait: Callable[[RetryCallState], float],
    sleep: Callable[[float], Awaitable[None]],
) -> Completion:  # fmt: skip
    """Go on after the plain first attempt of ``once`` failed with ``first``.

    ``first`` is handed to tenacity as its first attempt, so every wait and stop is
    tenacity's: up to ``retries`` attempts in all, while the failure is ``retryable``."""
    failed: ProviderError | None = first
    retrying = AsyncRetrying(
        stop=stop_after_attempt(retries),
        wait=wait,
        retry=retry_if_exception(retryable),
        before_sleep=lambda state: log_retry(model, state),
        sleep=sleep,
        reraise=True,
    )
    async for attempt in retrying:
        with attempt:
            if failed is not None:
                exc, failed = failed, None
                raise exc
            return await once()
    raise AssertionError("unreachable: tenacity returns or re-raises")


def log_retry(model: str, state: RetryCallState) -> None:
    exc: Any = state.outcome.exception() if state.outcome is not None else None
    wait = state.next_action.sleep if state.next_action is not None else 0.0
    log.info("llm_retry", model=model, attempt=state.attempt_number,
             kind=getattr(exc, "kind", type(exc).__name__), wait_s=round(wait, 3))  # fmt: skip
