"""What every command shares: the root group that turns every failure into one line (or one
JSON object), the settings, the client and one ``asyncio.run`` per command.

Conventions for commands (see also ``cli/output.py`` and ``cli/options.py``):

- Raise a ``ContentgenError`` (or call ``fail``) for anything the user can fix; the root group
  prints ``error: MESSAGE`` on stderr — one line — and exits 2 for bad input (``InvalidInput``
  and usage errors), 130 when interrupted, 1 otherwise. Settings problems, unreadable files
  (``OSError``) and usage errors are reported the same way; a traceback means a bug.
- With ``--json`` anywhere on the command line, the same failure is printed on stdout as
  ``{"error": MESSAGE, "type": ..., "exit_code": N, "field": ..., "job_id": ...}`` instead;
  the exit code does not change. An error that carries a job id (``JobFailed``, or
  ``details["job_id"]``) reports it.
"""

from __future__ import annotations

import asyncio
import sys
from collections.abc import Awaitable, Callable, Sequence
from typing import TYPE_CHECKING, Any, NoReturn, TypeVar, cast

import typer
from typer.core import TyperGroup

from contentgen.cli.output import err, json_mode, one_line, out, plain, print_json, set_json_mode

if TYPE_CHECKING:
    from contentgen.client.local import Client
    from contentgen.settings import Settings

T = TypeVar("T")

__all__ = [
    "ContentgenGroup",
    "err",
    "fail",
    "load_settings",
    "out",
    "print_json",
    "run",
    "sub_app",
]


class CommandFailed(Exception):
    """What ``fail`` raises: rendered by the root group like a ``ContentgenError``."""

    def __init__(self, message: str, code: int, **details: Any) -> None:
        super().__init__(message)
        self.message = message
        self.code = code
        self.details = details


def fail(message: str, code: int = 1, **details: Any) -> NoReturn:
    """Stop the command with ``error: MESSAGE`` (or its JSON form) and exit ``code``.
    ``details`` (``field``, ``job_id``) go into the JSON error object."""
    raise CommandFailed(message, code, **details)


def load_settings() -> Settings:
    """The settings, with any problem in them raised as a one-line ``ConfigurationError``."""
    from contentgen.settings import load_settings as load

    return load()


def configure_logging(level: str) -> None:
    from contentgen.logs import configure

    configure(level)


def run(work: Callable[[Client], Awaitable[T]]) -> T:
    """Open a client from settings (``open_client``: the server's when ``--server`` or
    CONTENTGEN_SERVER_URL is set), run ``work`` on it, close it (errors propagate to the
    root group, which prints them)."""
    from contentgen.errors import ContentgenError

    async def main() -> T:
        from contentgen.client.base import open_client

        settings = load_settings()
        configure_logging(settings.log_level)
        if settings.tracing:
            from contentgen.tracing import setup_tracing

            setup_tracing(settings)
        async with open_client(settings) as cg:
            try:
                return await work(cast("Client", cg))
            except AttributeError as exc:
                if not settings.server_url or exc.obj is not cg:
                    raise
                raise ContentgenError(
                    f"this command works on the local database only (the server has no "
                    f"{exc.name!r}); run it without --server / CONTENTGEN_SERVER_URL"
                ) from None

    return asyncio.run(main())


def sub_app(help_text: str) -> typer.Typer:
    """A command group (``contentgen clients ...``) with the root's help style."""
    return typer.Typer(help=help_text, no_args_is_help=True, rich_markup_mode=None)


# --- the root group: every failure is one line, or one JSON object ---------------------------


def _wants_json(argv: Sequence[str]) -> bool:
    args = list(argv)
    if "--" in args:
        args = args[: args.index("--")]
    return "--json" in args


def _report(message: str, code: int, kind: str, details: dict[str, Any]) -> int:
    """Print a failure and return its exit code."""
    if json_mode():
        body: dict[str, Any] = {"error": one_line(message), "type": kind, "exit_code": code}
        for key in ("field", "job_id"):
            if details.get(key) is not None:
                body[key] = str(details[key])
        print_json(body)
    else:
        err.print(plain(("error:", "red"), " ", one_line(message)))
    return code


def _usage_message(exc: Any) -> str:
    """A click usage error as one line naming the option, e.g. ``--type: 'video' is not one
    of 'blog', 'social', 'local'``, plus where to look."""
    from typer._click.exceptions import BadParameter, NoSuchOption

    message = exc.format_message() if isinstance(exc, NoSuchOption) else exc.message
    message = str(message).replace("Value error, ", "")
    if isinstance(exc, BadParameter) and exc.param is not None:
        names = [n for n in getattr(exc.param, "opts", []) if n.startswith("--")]
        label = (
            names[0]
            if names
            else str(getattr(exc.param, "metavar", None) or exc.param.name).upper()
        )
        if "missing" in type(exc).__name__.lower():
            message = f"{label}: required"
        else:
            message = f"{label}: {message[0].lower()}{message[1:]}" if message else label
    message = message.rstrip(". ")
    ctx = getattr(exc, "ctx", None)
    if ctx is not None:
        message += f" (see `{ctx.command_path} --help`)"
    return message


def handle_error(exc: BaseException) -> int:
    """Print a known failure and return its exit code; re-raise anything else (a bug)."""
    from typer._click.exceptions import NoArgsIsHelpError, UsageError

    from contentgen.errors import ContentgenError, InvalidInput
    from contentgen.settings import settings_error

    if isinstance(exc, CommandFailed):
        return _report(exc.message, exc.code, "error", exc.details)
    if isinstance(exc, ContentgenError):
        code = 2 if isinstance(exc, InvalidInput) else 1
        return _report(exc.message, code, type(exc).__name__, exc.details)
    if isinstance(exc, NoArgsIsHelpError):
        exc.show()
        return exc.exit_code
    if isinstance(exc, UsageError):
        return _report(_usage_message(exc), exc.exit_code, "UsageError", {})
    if isinstance(exc, typer.Abort | KeyboardInterrupt):
        return _report("interrupted", 130, "Interrupted", {})
    if isinstance(exc, OSError) and exc.strerror:
        where = f"{exc.filename}: " if exc.filename else ""
        return _report(f"{where}{exc.strerror}", 1, "OSError", {})
    translated = settings_error(exc)
    if translated is not None:
        return _report(translated.message, 1, type(translated).__name__, translated.details)
    from pydantic import ValidationError

    if isinstance(exc, ValidationError):  # a model refused a value the library let through
        from contentgen.models import invalid_input_from

        bad = invalid_input_from(exc)
        return _report(bad.message, 2, "InvalidInput", bad.details)
    raise exc


class ContentgenGroup(TyperGroup):
    """The root command: reports every failure through ``handle_error`` and sets JSON mode
    when ``--json`` is on the command line."""

    def main(  # type: ignore[override]
        self,
        args: Sequence[str] | None = None,
        prog_name: str | None = None,
        complete_var: str | None = None,
        standalone_mode: bool = True,
        **extra: Any,
    ) -> Any:
        argv = list(sys.argv[1:] if args is None else args)
        set_json_mode(_wants_json(argv))
        try:
            rv = super().main(argv, prog_name, complete_var, standalone_mode=False, **extra)
            code = rv if isinstance(rv, int) else 0
        except Exception as exc:  # every exception: handle_error re-raises what it can't
            code = handle_error(exc)
        except KeyboardInterrupt as exc:
            code = handle_error(exc)
        finally:
            sys.stdout.flush()
        if standalone_mode:
            sys.exit(code)
        return code
