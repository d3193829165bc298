"""Command line of the fake OpenAI-compatible server:
``python -m contentgen.testing.openai_server --port N --delay 0.05`` (benchmarks run it as a
separate process)."""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import ssl

from contentgen.testing.openai_server import FakeOpenAIServer


async def _serve(
    host: str, port: int, delay: float, reply: str | None, tls: ssl.SSLContext | None
) -> None:
    server = FakeOpenAIServer(host=host, port=port, delay=delay, reply=reply, tls=tls)
    url = await server.start()
    # A command-line entry point: say where it listens so a benchmark script can connect.
    print(f"listening on {url}", flush=True)
    try:
        await asyncio.Event().wait()
    finally:
        await server.stop()


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(
        prog="python -m contentgen.testing.openai_server",
        description="Serve a fake OpenAI-compatible chat API (for tests and benchmarks).",
    )
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=0, help="0 picks a free port")
    parser.add_argument("--delay", type=float, default=0.0, help="seconds before each answer")
    parser.add_argument("--reply", default=None, help="fixed reply text (default: an article)")
    parser.add_argument("--certfile", default=None, help="serve https with this PEM chain")
    parser.add_argument("--keyfile", default=None, help="the certificate's private key")
    args = parser.parse_args(argv)
    tls = None
    if args.certfile:
        tls = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
        tls.load_cert_chain(args.certfile, args.keyfile)
    with contextlib.suppress(KeyboardInterrupt):
        asyncio.run(_serve(args.host, args.port, args.delay, args.reply, tls))
