"""Everything the CLI prints goes through here, as plain text.

Text that came from a user, a file, a database or a model (topics, client names, model names,
file names, error messages, hints) is never read as rich markup, emoji codes or terminal
control sequences:

- ``out`` / ``err`` are consoles (created on first use) whose every string passes through
  ``clean`` and is rendered with markup and emoji off — also strings rich renders on its own
  (table cells, tree labels, titles). So ``out.print(name)`` and ``table.add_row(topic)`` are safe.
- Styling is never markup: use ``say("added client ", (name, "bold"))`` (a part is a string,
  or a ``(text, style)`` pair) or a ``Text`` built with ``plain``.
- ``print_json`` writes JSON on stdout; ``echo`` writes long raw text (a piece's Markdown).

``json_mode()`` is true while a command runs with ``--json`` (set by the root group in
``cli/common.py``); errors are then a JSON object on stdout.
"""

from __future__ import annotations

import json
import re
import sys
from functools import cache
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from rich.console import Console
    from rich.text import Text

# Terminal control sequences and characters, in the order they must be tried.
_CONTROL = re.compile(
    r"\x1b\[[0-?]*[ -/]*[@-~]?"  # CSI: colours, cursor moves, screen clearing
    r"|\x1b\][^\x07\x1b]*(?:\x07|\x1b\\)?"  # OSC: window title, hyperlinks, clipboard
    r"|\x1b[PX^_][^\x1b]*(?:\x1b\\)?"  # DCS, SOS, PM, APC strings
    r"|\x1b[ -/]*[0-~]?"  # any other escape sequence (or a lone ESC)
    r"|\x9b[0-?]*[ -/]*[@-~]?"  # 8-bit CSI
    r"|[\x00-\x08\x0b-\x1f\x7f-\x9f]"  # other C0/C1 controls (tab and newline stay)
    r"|[\u202a-\u202e\u2066-\u2069]"  # bidi overrides that reorder what is shown
)


def clean(text: object) -> str:
    """``text`` as a string without terminal control sequences (tabs and newlines kept)."""
    return _CONTROL.sub("", str(text))


def one_line(text: object) -> str:
    """``clean(text)`` with line breaks folded into spaces (for errors and table cells)."""
    return " ".join(part.strip() for part in clean(text).splitlines() if part.strip())


@cache
def plain_console_class() -> type[Console]:
    """``PlainConsole``: a console that never reads markup or emoji codes, never highlights,
    and drops control sequences from every string it renders (``print`` arguments, table
    cells, tree labels, titles). Built on first use: rich is imported only by commands that
    print through it (not by ``--help``, ``--version`` or JSON output)."""
    from rich.console import Console

    class PlainConsole(Console):
        def render_str(self, text: str, **kwargs: Any) -> Text:
            kwargs["markup"] = False
            kwargs["emoji"] = False
            kwargs["highlight"] = False
            return super().render_str(clean(text), **kwargs)

    return PlainConsole


class _LazyConsole:
    """Stands for a ``PlainConsole`` on stdout or stderr, created on first use."""

    def __init__(self, stderr: bool) -> None:
        self._stderr = stderr
        self._console: Console | None = None

    @property
    def real(self) -> Console:
        """The console itself (for rich objects that want one, e.g. ``Progress``)."""
        if self._console is None:
            self._console = plain_console_class()(
                stderr=self._stderr, soft_wrap=True, highlight=False, markup=False, emoji=False
            )
        return self._console

    def __getattr__(self, name: str) -> Any:
        return getattr(self.real, name)


out: Any = _LazyConsole(stderr=False)
err: Any = _LazyConsole(stderr=True)

_mode = {"json": False}


def json_mode() -> bool:
    """True while the running command was given ``--json``."""
    return _mode["json"]


def set_json_mode(on: bool) -> None:
    _mode["json"] = on


Part = str | tuple[object, str]


def plain(*parts: Part | object) -> Text:
    """A ``Text`` of plain parts: each a value (shown as its cleaned ``str``) or a
    ``(value, style)`` pair, e.g. ``plain(("error:", "red"), " ", message)``."""
    from rich.text import Text

    text = Text()
    for part in parts:
        if isinstance(part, tuple):
            value, style = part
            text.append(clean(value), style=style)
        else:
            text.append(clean(part))
    return text


def say(*parts: Part | object, to_err: bool = False) -> None:
    """Print one line of plain parts (see ``plain``) on stdout, or stderr with ``to_err``."""
    (err if to_err else out).print(plain(*parts))


def echo(text: str) -> None:
    """Write long text (a piece's Markdown, a prompt) to stdout as it is, minus control
    sequences; ends it with a newline."""
    cleaned = clean(text)
    sys.stdout.write(cleaned if cleaned.endswith("\n") else cleaned + "\n")
    sys.stdout.flush()


def print_json(data: Any) -> None:
    """``data`` as indented JSON on stdout (what every ``--json`` prints)."""
    sys.stdout.write(json.dumps(data, indent=2, default=str) + "\n")
    sys.stdout.flush()


def jsonl(data: dict[str, Any]) -> None:
    """One JSON line on stdout (streams of events, e.g. ``batch --json``)."""
    sys.stdout.write(json.dumps(data, default=str) + "\n")
    sys.stdout.flush()
