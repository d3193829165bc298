"""Showing a piece as it is written (`contentgen generate`, issue 7 point 18).

On a terminal: a live region at the bottom of the screen shows the tail of the text as the
model writes it (section by section when the piece is written in sections: the headings come
as each part starts), under a status line with the model, the elapsed time and the words so
far. When the job ends the region goes and the final piece (repairs applied) is printed whole.

Forced on when stdout is not a terminal (``--stream``): the text goes to stderr as it
arrives, so stdout still carries exactly the final piece.

The model's text is shown as plain text, control sequences removed (``output.clean``).
"""

from __future__ import annotations

import sys
import time
from typing import TYPE_CHECKING, Any

from contentgen.cli.output import clean, err, out

if TYPE_CHECKING:
    from rich.live import Live
    from rich.text import Text

#: Live refreshes at most this often (seconds); text arriving between two is shown at the next.
REFRESH = 0.08


class StreamView:
    """Receives the streamed text (``feed``, the job's ``on_text``) and shows it."""

    def __init__(self, model: str | None, *, live: bool) -> None:
        self.model = model or "the model"
        self.started = time.monotonic()
        self.text = ""
        self._live: Live | None = None
        self._shown = 0.0
        self._use_live = live

    def __enter__(self) -> StreamView:
        if self._use_live:
            from rich.live import Live

            self._live = Live(self._render(), console=out.real, transient=True, auto_refresh=True,
                              refresh_per_second=4, vertical_overflow="crop")  # fmt: skip
            self._live.__enter__()
        return self

    def __exit__(self, *exc: Any) -> None:
        if self._live is not None:
            self._live.__exit__(*exc)
            self._live = None
        elif self.text and not self.text.endswith("\n"):
            sys.stderr.write("\n")
            sys.stderr.flush()

    @property
    def elapsed(self) -> float:
        return time.monotonic() - self.started

    def feed(self, delta: str) -> None:
        """One piece of streamed text (the job's ``on_text``)."""
        delta = clean(delta)
        self.text += delta
        if self._live is None:
            sys.stderr.write(delta)
            sys.stderr.flush()
            return
        now = time.monotonic()
        if now - self._shown >= REFRESH:
            self._shown = now
            self._live.update(self._render(), refresh=True)

    def status(self) -> str:
        words = len(self.text.split())
        return f"writing with {self.model} · {self.elapsed:.1f}s · {words} words"

    def _render(self) -> Text:
        from rich.text import Text

        height = max(3, out.size.height - 2)
        width = max(20, out.size.width)
        lines: list[str] = []
        for line in self.text.splitlines() or [""]:
            lines.extend([line[i : i + width] for i in range(0, len(line), width)] or [""])
        shown = Text("\n".join(lines[-height:]))
        shown.append("\n")
        shown.append(f"⠿ {self.status()}", style="dim")
        return shown


def stream_mode(choice: bool | None, *, as_json: bool, to_file: bool) -> tuple[bool, bool]:
    """(stream?, live?): automatic on a terminal when the piece goes to stdout as text;
    ``--stream`` forces it (live only on a terminal), ``--no-stream`` turns it off."""
    terminal = out.is_terminal
    on = (terminal and not as_json and not to_file) if choice is None else choice
    return on, on and terminal


__all__ = ["StreamView", "err", "stream_mode"]
