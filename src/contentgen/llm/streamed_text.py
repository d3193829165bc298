"""The text one model run has streamed so far (``Router.run``).

A run may stream part of a reply and then fail (the connection drops mid-stream), and its
retry — or the fallback model — streams its reply from the beginning. Whoever shows the text
as it arrives (``contentgen generate``'s live view, ``--stream`` on stderr) would show the
first part twice with nothing to tell them apart, so a new attempt after text was shown is
announced first (``RESTART``). The stored piece is the completed reply only.
"""

from __future__ import annotations

from contentgen.llm.base import TextCallback

#: Streamed before a new attempt's text when an earlier attempt had shown some.
RESTART = "\n\n[the reply broke off; starting again]\n\n"


class StreamedText:
    """A ``TextCallback`` that passes text on to ``sink`` and remembers whether any went."""

    def __init__(self, sink: TextCallback) -> None:
        self.sink = sink
        self.shown = False

    def __call__(self, delta: str) -> None:
        if delta:
            self.shown = True
            self.sink(delta)

    def attempt(self) -> None:
        """A new attempt starts: announce it when an earlier one had shown text."""
        if self.shown:
            self.shown = False
            self.sink(RESTART)
