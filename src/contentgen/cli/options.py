"""Options and arguments shared by commands, so each is spelled, checked and documented once.

Every option has help text and a metavar (or none, for flags): ``tests/cli/test_help.py``
walks every command and fails on an option without help or with a ``<type>`` metavar. Enum
values are ``Literal`` choices, so click refuses a bad value naming the option (``--type``)
before anything runs; ``tests/cli/test_help.py`` keeps them equal to the enums in
``contentgen.models`` (which are not imported here, to keep start-up fast).
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Literal

import typer

ContentTypeName = Literal["blog", "social", "local"]
LengthName = Literal["short", "medium", "long"]
PriorityName = Literal["cost", "quality", "speed", "balanced"]
StatusName = Literal["pending", "in_progress", "completed", "failed", "cancelled"]

AsJson = Annotated[
    bool, typer.Option("--json", help="Print the result as JSON on stdout (errors too).")
]
ClientArg = Annotated[str, typer.Argument(metavar="CLIENT", help="Client name or UUID.")]
ClientOpt = Annotated[
    str | None,
    typer.Option(
        "--client", "-c", metavar="CLIENT", help="Client name or UUID (default: 'default')."
    ),
]
Topic = Annotated[
    str,
    typer.Option(
        "--topic", metavar="TEXT", help="What to write about (5-1000 chars); '-' reads stdin."
    ),
]
ContentTypeOpt = Annotated[
    ContentTypeName,
    typer.Option("--type", "-t", metavar="[blog|social|local]", help="Kind of content.",
                 case_sensitive=False),
]
Keywords = Annotated[
    list[str] | None,
    typer.Option(
        "--keyword",
        "-k",
        metavar="KEYWORD",
        help="Keyword to work in (repeat, or comma-separated); at most 10.",
    ),
]
LengthOpt = Annotated[
    LengthName,
    typer.Option("--length", "-l", metavar="[short|medium|long]", help="Length of the piece.",
                 case_sensitive=False),
]
PriorityOpt = Annotated[
    PriorityName,
    typer.Option(
        "--priority",
        metavar="[cost|quality|speed|balanced]",
        help="What the model choice favours (see `contentgen models`).",
        case_sensitive=False,
    ),
]
ProviderOpt = Annotated[
    str | None,
    typer.Option(
        "--provider",
        metavar="PROVIDER",
        help="Provider prepended to a --model without '/', e.g. openai (needs --model).",
    ),
]
ModelOpt = Annotated[
    str | None,
    typer.Option("--model", "-m", metavar="MODEL", help="Model, e.g. openai/gpt-4o-mini."),
]


def input_path(help_text: str, *, metavar: str = "FILE") -> object:
    """A file argument that also accepts '-' for stdin (read it with ``read_input``)."""
    return typer.Argument(metavar=metavar, help=f"{help_text} '-' reads stdin.")


def read_input(path: Path, what: str = "file") -> str:
    """The text of ``path`` ('-' = stdin) as UTF-8; a missing, unreadable or non-UTF-8 file
    is a one-line ``InvalidInput`` naming it."""
    import sys

    from contentgen.errors import InvalidInput

    if str(path) == "-":
        data = sys.stdin.buffer.read() if hasattr(sys.stdin, "buffer") else sys.stdin.read()
        name = "stdin"
    else:
        if not path.is_file():
            problem = "is a directory" if path.is_dir() else "does not exist"
            raise InvalidInput(f"{what}: {path} {problem}", field=what)
        try:
            data = path.read_bytes()
        except OSError as exc:
            raise InvalidInput(f"{what}: cannot read {path}: {exc.strerror}", field=what) from exc
        name = str(path)
    if isinstance(data, str):
        return data
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise InvalidInput(
            f"{what}: {name} is not UTF-8 text (byte {exc.start}); save it as UTF-8",
            field=what,
        ) from exc
