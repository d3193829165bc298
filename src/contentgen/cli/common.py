"""What every command shares: consoles, the client, error rendering, one asyncio.run."""

from __future__ import annotations

import asyncio
import json
import sys
from collections.abc import Awaitable, Callable
from typing import TYPE_CHECKING, Any, NoReturn, TypeVar, cast

import typer
from rich.console import Console

if TYPE_CHECKING:
    from contentgen.client.local import Client

T = TypeVar("T")

out = Console(soft_wrap=True, highlight=False)
err = Console(stderr=True, soft_wrap=True, highlight=False)


def configure_logging(level: str) -> None:
    from contentgen.logs import configure

    configure(level)


def run(work: Callable[[Client], Awaitable[T]]) -> T:
    """Open a client from settings (``open_client``: the server's when ``--server`` or
    CONTENTGEN_SERVER_URL is set), run ``work`` on it, close it; errors become one red line
    (exit 2 for bad input, 1 otherwise)."""
    from contentgen.errors import ContentgenError, InvalidInput

    async def main() -> T:
        from contentgen.client.base import open_client
        from contentgen.settings import Settings

        settings = Settings()
        configure_logging(settings.log_level)
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

    try:
        return asyncio.run(main())
    except InvalidInput as exc:
        fail(exc.message, code=2)
    except ContentgenError as exc:
        fail(exc.message, code=1)
    except KeyboardInterrupt:
        fail("interrupted", code=130)


def fail(message: str, code: int = 1) -> NoReturn:
    err.print(f"[red]error:[/red] {message}", markup=True, highlight=False)
    raise typer.Exit(code)


def print_json(data: Any) -> None:
    sys.stdout.write(json.dumps(data, indent=2, default=str) + "\n")
