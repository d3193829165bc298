"""Attempts made by a call that was cancelled before it returned or raised.

A routed call hands its attempts over with its result (``Completion.attempts``) or its error
(``ProviderError.attempts``). A cancelled call has neither, yet the attempts it made before
(a failed try, then a back-off) may have been paid for. The job runner opens a collector around
its work; a cancelled router call adds what it made there, so the runner can store it.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from contextvars import ContextVar

from contentgen.llm.base import Attempt

_COLLECTOR: ContextVar[list[Attempt] | None] = ContextVar("contentgen_interrupted", default=None)


@contextmanager
def collecting(into: list[Attempt]) -> Iterator[None]:
    """Tasks created inside copy the collector (create the work's task within this block)."""
    token = _COLLECTOR.set(into)
    try:
        yield
    finally:
        _COLLECTOR.reset(token)


def record_interrupted(attempts: Sequence[Attempt]) -> None:
    """Called by a call that is being cancelled: keep what it made (no-op with no collector)."""
    into = _COLLECTOR.get()
    if into is not None and attempts:
        into.extend(attempts)
