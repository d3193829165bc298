"""Run the server with uvicorn (what ``contentgen serve`` does).

Auth is on unless ``no_auth`` is asked for on a loopback address; without a secret the server
does not start. Jobs run in this process (``workers_in_process``) and/or in separate
``contentgen worker`` processes on the same database.
"""

from __future__ import annotations

import asyncio
import contextlib
import gc
import ipaddress
import signal
from collections.abc import Callable, Iterator
from typing import Any

from contentgen.errors import ConfigurationError, InvalidInput
from contentgen.logs import get_logger
from contentgen.settings import Settings

log = get_logger("contentgen.server")


def is_loopback(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        return False


def check_auth(settings: Settings, host: str, no_auth: bool) -> bool:
    """Whether tokens are checked; refuses the unsafe combinations."""
    if no_auth:
        if not is_loopback(host):
            raise InvalidInput(
                f"--no-auth: only on a loopback address (127.0.0.1, ::1), not {host!r}; "
                "set CONTENTGEN_JWT_SECRET and make tokens with `contentgen tokens create`",
                field="no_auth",
            )
        return False
    if settings.jwt_secret is None:
        raise ConfigurationError(
            "the server needs CONTENTGEN_JWT_SECRET (32+ random bytes, e.g. from "
            "`python -c 'import secrets; print(secrets.token_urlsafe(48))'`) to check tokens; "
            "for local use only, `contentgen serve --no-auth` on 127.0.0.1"
        )
    from contentgen.server.security import check_secret

    check_secret(settings.jwt_secret.get_secret_value())
    return True


@contextlib.contextmanager
def _stop_on_signals(server: Any) -> Iterator[None]:
    """SIGINT/SIGTERM: stop accepting, finish what runs, then return normally (exit 0) —
    uvicorn's own handling re-raises the signal after its shutdown, which would skip closing
    the database; a second signal stops at once."""
    loop = asyncio.get_running_loop()

    def stop() -> None:
        if server.should_exit:
            server.force_exit = True
        server.should_exit = True

    handled = []
    for sig in (signal.SIGINT, signal.SIGTERM):
        with contextlib.suppress(NotImplementedError, RuntimeError, ValueError):
            loop.add_signal_handler(sig, stop)
            handled.append(sig)
    try:
        yield
    finally:
        for sig in handled:
            loop.remove_signal_handler(sig)


#: First-generation threshold of the collector while serving (CPython's default: 700).
GC_GEN0 = 10_000


def settle_heap() -> None:
    """Move what start-up made (imports, the app, its schemas: long-lived) out of the cyclic
    collector's sight and collect young objects less often. Measured with
    benchmarks/server_status.py, GET /status of pending jobs: p99 74 ms -> 18 ms (full
    collections no longer walk the start-up heap in the middle of requests)."""
    gc.collect()
    gc.freeze()
    gc.set_threshold(GC_GEN0, *gc.get_threshold()[1:])


async def serve(
    settings: Settings,
    *,
    host: str = "127.0.0.1",
    port: int = 8000,
    workers_in_process: int | None = None,
    no_auth: bool = False,
    on_ready: Callable[[str], None] | None = None,
) -> None:
    """Serve until SIGINT/SIGTERM; ``on_ready(url)`` is called once the socket listens."""
    auth = check_auth(settings, host, no_auth)
    import uvicorn

    from contentgen.client.local import LocalClient
    from contentgen.server.app import create_app

    async with LocalClient.from_settings(settings) as client:
        app = create_app(settings, client, auth=auth, workers_in_process=workers_in_process)
        config = uvicorn.Config(
            app, host=host, port=port, log_config=None, access_log=False, lifespan="on",
            timeout_graceful_shutdown=30, server_header=False,
        )  # fmt: skip
        server = uvicorn.Server(config)
        server.capture_signals = lambda: _stop_on_signals(server)  # type: ignore[method-assign]
        task = asyncio.create_task(server.serve(), name="uvicorn")
        while not server.started and not task.done():
            await asyncio.sleep(0.02)
        if server.started:
            settle_heap()
            sock = server.servers[0].sockets[0].getsockname()
            shown = f"[{sock[0]}]" if ":" in sock[0] else sock[0]
            url = f"http://{shown}:{sock[1]}"
            log.warning("server_started", url=url, auth=auth,
                        workers_in_process=app.state.contentgen.workers_in_process)  # fmt: skip
            if on_ready is not None:
                on_ready(url)
        try:
            await task
        finally:
            if not task.done():
                task.cancel()
                with contextlib.suppress(asyncio.CancelledError):
                    await task
