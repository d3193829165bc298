"""Stopping on SIGTERM/SIGINT, as a context manager the caller can turn off (tests, embedding
in an application that handles signals itself)."""

from __future__ import annotations

import asyncio
import contextlib
import signal
from collections.abc import Callable, Iterator

STOP_SIGNALS = (signal.SIGTERM, signal.SIGINT)


@contextlib.contextmanager
def stop_on_signals(
    stop: asyncio.Event,
    *,
    enabled: bool = True,
    signals: tuple[signal.Signals, ...] = STOP_SIGNALS,
    on_signal: Callable[[signal.Signals], None] | None = None,
) -> Iterator[asyncio.Event]:
    """While inside, the first of ``signals`` sets ``stop`` (``on_signal`` is told which); a
    second one cancels the task that entered (stop at once). Handlers are removed on exit.
    Must be entered from a task on the running loop, in the main thread."""
    if not enabled:
        yield stop
        return
    loop = asyncio.get_running_loop()
    main = asyncio.current_task()

    def handle(sig: signal.Signals) -> None:
        if stop.is_set():
            if main is not None:
                main.cancel()
            return
        stop.set()
        if on_signal is not None:
            on_signal(sig)

    installed = []
    try:
        for sig in signals:
            loop.add_signal_handler(sig, handle, sig)
            installed.append(sig)
        yield stop
    finally:
        for sig in installed:
            loop.remove_signal_handler(sig)
