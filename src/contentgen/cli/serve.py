"""`contentgen serve` and `contentgen tokens create`."""

from __future__ import annotations

import asyncio
import uuid
from typing import TYPE_CHECKING, Annotated

import typer

from contentgen.cli.common import err, fail, out, run

if TYPE_CHECKING:
    from contentgen.client.local import Client

tokens = typer.Typer(help="Bearer tokens for the server.", no_args_is_help=True)


def serve(
    host: Annotated[str, typer.Option(help="Address to listen on.")] = "127.0.0.1",
    port: Annotated[int, typer.Option(min=0, max=65535, help="Port (0: any free one).")] = 8000,
    workers_in_process: Annotated[
        int | None,
        typer.Option(
            "--workers-in-process", min=0, max=512,
            help="Jobs run at once inside the server (default: the concurrency setting); "
            "0 leaves them to `contentgen worker` processes.",
        ),
    ] = None,
    no_auth: Annotated[
        bool, typer.Option("--no-auth", help="No tokens (only on a loopback address).")
    ] = False,
) -> None:
    """Serve the HTTP API (the reference's endpoints, jobs, SSE, metrics, OpenAPI at /docs)."""
    from contentgen.errors import ContentgenError, InvalidInput
    from contentgen.logs import configure
    from contentgen.settings import Settings

    try:
        settings = Settings()
        configure(settings.log_level, json=True)
        _require_server_extra("contentgen serve")
        from contentgen.server.run import check_auth
        from contentgen.server.run import serve as run_server

        check_auth(settings, host, no_auth)

        def ready(url: str) -> None:
            err.print(f"contentgen server listening on {url} (docs: {url}/docs)",
                      markup=False, highlight=False)  # fmt: skip

        with _runner() as runner:
            main = run_server(settings, host=host, port=port, no_auth=no_auth,
                              workers_in_process=workers_in_process, on_ready=ready)  # fmt: skip
            runner.run(main)
    except InvalidInput as exc:
        fail(exc.message, code=2)
    except ContentgenError as exc:
        fail(exc.message, code=1)
    except KeyboardInterrupt:
        pass


def _require_server_extra(purpose: str, modules: tuple[str, ...] = (
    "fastapi", "uvicorn", "jwt", "sse_starlette",
)) -> None:  # fmt: skip
    import importlib.util

    from contentgen.errors import MissingExtra

    if any(importlib.util.find_spec(m) is None for m in modules):
        raise MissingExtra("server", purpose)


def _runner() -> asyncio.Runner:
    """An asyncio runner on uvloop when it is installed (uvicorn[standard]), else plain."""
    try:
        import uvloop
    except ImportError:
        return asyncio.Runner()
    return asyncio.Runner(loop_factory=uvloop.new_event_loop)


@tokens.command("create")
def create_token(
    client: Annotated[
        list[str],
        typer.Option("--client", "-c", help="A client (name or UUID) the token may use; "
                     "repeat for several, or '*' for every client."),
    ],
    admin: Annotated[
        bool, typer.Option("--admin", help="May change clients' strategies.")
    ] = False,
    ttl: Annotated[str, typer.Option(help="Lifetime: 30d, 12h, 15m, 3600s.")] = "30d",
    name: Annotated[str, typer.Option(help="Who the token is for (its subject).")] = "contentgen",
) -> None:
    """Print a bearer token signed with CONTENTGEN_JWT_SECRET."""
    from contentgen.errors import ContentgenError
    from contentgen.settings import Settings

    try:
        _require_server_extra("contentgen tokens", ("jwt",))
    except ContentgenError as exc:
        fail(exc.message)
    from contentgen.server.security import check_secret, create_token, parse_ttl

    settings = Settings()
    if settings.jwt_secret is None:
        fail("tokens: set CONTENTGEN_JWT_SECRET (the server's secret) to sign tokens")
    secret = settings.jwt_secret.get_secret_value()
    try:
        check_secret(secret)
        seconds = parse_ttl(ttl)
    except ContentgenError as exc:
        fail(exc.message, code=2 if exc.status_code == 400 else 1)

    async def work(cg: Client) -> list[uuid.UUID]:
        return [(await cg.resolve_client(ref)).id for ref in client]

    clients = None if "*" in client else run(work)
    token = create_token(secret, clients=clients, admin=admin, ttl_seconds=seconds,
                         subject=name)  # fmt: skip
    out.print(token, markup=False, highlight=False, soft_wrap=True)
