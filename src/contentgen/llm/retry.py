"""The retry policy shared by the remote backends.

Stop after N attempts, wait ``retry_wait * 2**(n-1)`` clamped to
``[retry_wait, max(retry_wait, MAX_WAIT)]``, retry only what the backend calls transient, and
turn the final failure into a ``ProviderError`` the backend builds. Secrets are scrubbed from
every message that leaves here.

The first attempt is a plain call; tenacity runs the retries after a transient failure. A
batch makes hundreds of calls a second and tenacity's async iteration costs tens of
microseconds per call even when nothing fails, so the happy path does not enter it.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from typing import TypeVar

from tenacity import AsyncRetrying, RetryCallState, retry_if_exception, stop_after_attempt

from contentgen.errors import ProviderError
from contentgen.logs import get_logger

T = TypeVar("T")

#: Longest single back-off between attempts, in seconds.
MAX_WAIT = 30.0


#: What to check when a provider answers with this HTTP status.
STATUS_HINTS = {
    401: "check CONTENTGEN_API_KEY",
    403: "check CONTENTGEN_API_KEY and the key's permissions",
    404: "check the model name and CONTENTGEN_API_BASE",
    429: "rate limited: lower CONTENTGEN_CONCURRENCY or set CONTENTGEN_RPM_LIMITS",
}
UNREACHABLE_HINT = "check CONTENTGEN_API_BASE and that the server is up"


def with_hint(message: str, status: int | None) -> str:
    """``message`` plus what to check for ``status``, if there is advice for it."""
    hint = STATUS_HINTS.get(status) if status is not None else None
    return f"{message} ({hint})" if hint else message


def scrub(text: str, *secrets: str | None) -> str:
    """``text`` with every non-empty secret replaced by ``***``."""
    for secret in secrets:
        if secret:
            text = text.replace(secret, "***")
    return text


async def call_with_retries(
    call: Callable[[], Awaitable[T]],
    *,
    attempts: int,
    wait: float,
    is_transient: Callable[[BaseException], bool],
    translate: Callable[[Exception, int], ProviderError],
    model: str,
) -> T:
    """Run ``call`` up to ``attempts`` times; raise ``translate(last_error, attempts_made)``.

    ``is_transient`` decides which exceptions are worth another attempt; anything else fails
    at once. A ``ProviderError`` raised by ``call`` itself passes through unchanged.
    """
    log = get_logger()
    longest = max(wait, MAX_WAIT)

    def fail(exc: Exception, made: int) -> ProviderError:
        error = translate(exc, made)
        log.warning("llm_failed", model=model, attempts=made, error=type(error).__name__,
                    cause=type(exc).__name__)  # fmt: skip
        return error

    def retryable(exc: BaseException) -> bool:
        return not isinstance(exc, ProviderError) and is_transient(exc)

    def log_retry(made: int, exc: BaseException | None, delay: float) -> None:
        log.info("llm_retry", model=model, attempt=made, error=type(exc).__name__,
                 wait_s=round(delay, 3))  # fmt: skip

    try:
        return await call()
    except ProviderError:
        raise
    except Exception as exc:
        if attempts <= 1 or not is_transient(exc):
            raise fail(exc, 1) from exc
        delay = backoff(1, wait, longest)
        log_retry(1, exc, delay)
        await asyncio.sleep(delay)

    # tenacity numbers its own attempts from 1; they are ours from 2.
    def before_sleep(state: RetryCallState) -> None:
        assert state.outcome is not None and state.next_action is not None
        log_retry(state.attempt_number + 1, state.outcome.exception(), state.next_action.sleep)

    async def sleep(seconds: float) -> None:
        await asyncio.sleep(seconds)

    retrying = AsyncRetrying(
        stop=stop_after_attempt(attempts - 1),
        wait=lambda state: backoff(state.attempt_number + 1, wait, longest),
        retry=retry_if_exception(retryable),
        before_sleep=before_sleep,
        sleep=sleep,
        reraise=True,
    )
    made = 1
    try:
        async for attempt in retrying:
            with attempt:
                made += 1
                return await call()
    except ProviderError:
        raise
    except Exception as exc:
        raise fail(exc, made) from exc
    raise AssertionError("unreachable: tenacity either returns or re-raises")


def backoff(attempt: int, wait: float, longest: float) -> float:
    """Seconds to wait after failed attempt number ``attempt`` (1-based)."""
    try:
        delay = wait * 2.0 ** (attempt - 1)
    except OverflowError:
        delay = longest
    return max(wait, min(delay, longest))
