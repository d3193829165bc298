"""Structured log events for the library, with structlog imported on the first event.

Library modules do ``log = get_logger()`` and ``log.info("event_name", key=value)``. If the
application has not configured structlog when the first event is logged, events go to stderr
at WARNING and above (never to stdout, which may carry JSON or Markdown output); the CLI and
the server call ``configure(level)`` to choose the level.
"""

from __future__ import annotations

import logging
import sys
from typing import Any, TextIO, cast

_state = {"level": logging.WARNING, "ours": False, "json": False}
_LEVELS = {name.lower(): number for name, number in logging.getLevelNamesMapping().items()}


def configure(level: str, *, json: bool = False) -> None:
    """Send events at ``level`` and above to stderr (what the CLI and the server use); the
    server asks for ``json`` lines, which carry its context (request id, job id)."""
    _state["level"] = _LEVELS.get(level.lower(), logging.WARNING)
    _state["ours"] = False
    _state["json"] = json
    if json or "structlog" in sys.modules:
        _apply()


def enabled(method: str) -> bool:
    """Whether events of this level (``"info"``, ...) are kept: skip building costly ones."""
    return _LEVELS.get(method, logging.INFO) >= _state["level"]


def _below_level(logger: Any, method: str, event: Any) -> Any:
    """Drop events under the chosen level. A processor, not a filtering wrapper class, so that
    ``structlog.testing.capture_logs`` (which swaps the processors) still sees every event."""
    import structlog

    if _LEVELS.get(method, logging.INFO) < _state["level"]:
        raise structlog.DropEvent
    return event


class _Stderr:
    """Whatever ``sys.stderr`` is when a line is written, not when logging was configured (a
    replaced stream, e.g. a test's captured one, may be closed by then)."""

    def write(self, text: str) -> int:
        return sys.stderr.write(text)

    def flush(self) -> None:
        sys.stderr.flush()


def _apply() -> None:
    import structlog

    renderer: Any = (
        structlog.processors.JSONRenderer()
        if _state["json"]
        else structlog.dev.ConsoleRenderer(colors=False)
    )
    structlog.configure(
        processors=[
            _below_level,
            structlog.contextvars.merge_contextvars,
            structlog.processors.add_log_level,
            structlog.processors.TimeStamper(fmt="iso", utc=True),
            structlog.processors.format_exc_info,
            renderer,
        ],
        wrapper_class=None,
        logger_factory=structlog.PrintLoggerFactory(file=cast(TextIO, _Stderr())),
        cache_logger_on_first_use=False,
    )
    _state["ours"] = True


def _drop(*_args: Any, **_kwargs: Any) -> None:
    return None


class _LazyLogger:
    """Looks up the structlog logger on each call, so test capture and late configuration
    apply."""

    __slots__ = ("_name",)

    def __init__(self, name: str | None) -> None:
        self._name = name

    def __getattr__(self, method: str) -> Any:
        if method in _LEVELS and "structlog" not in sys.modules and not enabled(method):
            # an event nobody keeps: importing structlog (~0.1 s) for it would slow every
            # command's start-up (tests that capture logs have imported structlog already)
            return _drop
        import structlog

        if not structlog.is_configured() and not _state["ours"]:
            _apply()
        return getattr(structlog.get_logger(self._name), method)


def get_logger(name: str | None = None) -> Any:
    return _LazyLogger(name)
