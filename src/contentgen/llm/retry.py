"""The retry policy shared by the remote backends.

One attempt loop (tenacity, exponential back-off from ``settings.retry_wait``) that retries
only what the backend calls transient and turns the final failure into a ``ProviderError``
the backend builds. Secrets are scrubbed from every message that leaves here.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import TypeVar

from tenacity import (
    AsyncRetrying,
    RetryCallState,
    retry_if_exception,
    stop_after_attempt,
    wait_exponential,
)

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

    def before_sleep(state: RetryCallState) -> None:
        exc = state.outcome.exception() if state.outcome else None
        log.info(
            "llm_retry",
            model=model,
            attempt=state.attempt_number,
            error=type(exc).__name__ if exc else None,
            wait_s=round(state.next_action.sleep, 3) if state.next_action else None,
        )

    retrying = AsyncRetrying(
        stop=stop_after_attempt(attempts),
        wait=wait_exponential(multiplier=wait, min=wait, max=max(wait, MAX_WAIT)),
        retry=retry_if_exception(is_transient),
        before_sleep=before_sleep,
        reraise=True,
    )
    made = 0
    try:
        async for attempt in retrying:
            with attempt:
                made = attempt.retry_state.attempt_number
                return await call()
    except ProviderError:
        raise
    except Exception as exc:
        error = translate(exc, made)
        log.warning(
            "llm_failed",
            model=model,
            attempts=made,
            error=type(error).__name__,
            cause=type(exc).__name__,
        )
        raise error from exc
    raise AssertionError("unreachable: tenacity either returns or raises")  # pragma: no cover
