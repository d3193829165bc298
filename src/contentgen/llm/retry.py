"""The retry policy shared by the remote backends.

One attempt loop (exponential back-off from ``settings.retry_wait``) that retries only what
the backend calls transient and turns the final failure into a ``ProviderError`` the backend
builds. Secrets are scrubbed from every message that leaves here.

A plain loop rather than tenacity: the same policy (stop after N attempts, wait
``retry_wait * 2**(n-1)`` clamped to ``[retry_wait, max(retry_wait, MAX_WAIT)]``, retry only
transient errors, re-raise the last), at a fraction of the CPU per call — tenacity's async
iteration costs tens of microseconds per call even when the first attempt succeeds, which a
batch pays hundreds of times a second.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from typing import TypeVar

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
    made = 0
    while True:
        made += 1
        try:
            return await call()
        except ProviderError:
            raise
        except Exception as exc:
            if made >= attempts or not is_transient(exc):
                error = translate(exc, made)
                log.warning(
                    "llm_failed",
                    model=model,
                    attempts=made,
                    error=type(error).__name__,
                    cause=type(exc).__name__,
                )
                raise error from exc
            delay = backoff(made, wait, longest)
            log.info(
                "llm_retry",
                model=model,
                attempt=made,
                error=type(exc).__name__,
                wait_s=round(delay, 3),
            )
        await asyncio.sleep(delay)


def backoff(attempt: int, wait: float, longest: float) -> float:
    """Seconds to wait after failed attempt number ``attempt`` (1-based)."""
    try:
        delay = wait * 2.0 ** (attempt - 1)
    except OverflowError:
        delay = longest
    return max(wait, min(delay, longest))
