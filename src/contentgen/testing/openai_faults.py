"""Fault injection for ``FakeOpenAIServer``: the failures a real service shows.

HTTP errors (with ``Retry-After``), hangs, malformed and empty bodies, replies cut at
``max_tokens`` and connections dropped mid-reply, for the next N chat requests (for one model,
or any), or for every request for one model until ``clear_faults``. The server takes one
fault per chat request.
"""

from __future__ import annotations

from collections import deque
from dataclasses import dataclass
from typing import Literal

FaultKind = Literal["status", "hang", "malformed", "empty", "length", "drop"]


@dataclass(frozen=True)
class Fault:
    kind: FaultKind
    status: int = 200
    message: str = ""
    retry_after: float | None = None
    model: str | None = None  # None: any model
    seconds: float = 0.0


class FaultInjection:
    """The fault-injection methods of ``FakeOpenAIServer`` (which sets up the attributes)."""

    #: Models whose every request fails with this status (``fail_model``).
    failing_models: dict[str, int]
    _faults: deque[Fault]

    def fail_next(
        self, n: int, status: int = 500, message: str | None = None, *,
        retry_after: float | None = None, model: str | None = None,
    ) -> None:  # fmt: skip
        """Answer the next ``n`` chat requests (for ``model``, or any) with HTTP ``status`` and
        an OpenAI error body; ``retry_after`` adds a ``Retry-After`` header (seconds)."""
        text = message or f"The server had an error while processing your request ({status})"
        self._add(n, Fault("status", status, text, retry_after, model))

    def hang_next(self, n: int, seconds: float = 3600.0, *, model: str | None = None) -> None:
        """Do not answer the next ``n`` chat requests for ``seconds`` (clients time out)."""
        self._add(n, Fault("hang", model=model, seconds=seconds))

    def malformed_next(self, n: int, *, model: str | None = None) -> None:
        """Answer the next ``n`` chat requests with status 200 and a body that is not JSON."""
        self._add(n, Fault("malformed", model=model))

    def empty_next(self, n: int, *, model: str | None = None) -> None:
        """Answer the next ``n`` chat requests with empty content (finish_reason "stop")."""
        self._add(n, Fault("empty", model=model))

    def truncate_next(self, n: int, *, model: str | None = None) -> None:
        """Cut the next ``n`` replies short with finish_reason "length" (as at max_tokens)."""
        self._add(n, Fault("length", model=model))

    def drop_next(self, n: int, *, model: str | None = None) -> None:
        """Drop the connection mid-reply for the next ``n`` chat requests: a stream stops after
        half its events (no ``[DONE]``, no end of the chunked body), a plain request gets
        no answer at all (a reset connection)."""
        self._add(n, Fault("drop", model=model))

    def fail_model(self, model: str, status: int = 500) -> None:
        """Fail every request for ``model`` with ``status`` until ``clear_faults``."""
        self.failing_models[model] = status

    def clear_faults(self) -> None:
        self._faults.clear()
        self.failing_models.clear()

    def _add(self, n: int, fault: Fault) -> None:
        self._faults.extend([fault] * n)

    def _take_fault(self, model: str) -> Fault | None:
        status = self.failing_models.get(model)
        if status is not None:
            return Fault("status", status, f"model {model} is failing ({status})")
        for fault in self._faults:
            if fault.model is None or fault.model == model:
                self._faults.remove(fault)
                return fault
        return None
