"""Command line of the fake OpenAI-compatible server:
``python -m contentgen.testing.openai_server --port N --delay 0.05 [--processes K]``
(benchmarks run it as separate processes).

``--processes K`` serves one port from K processes (``SO_REUSEPORT``: the kernel spreads the
connections), so a benchmark measures the client, not one busy server process.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import signal
import ssl
import subprocess
import sys
import threading

from contentgen.testing.openai_server import FakeOpenAIServer


async def _serve(args: argparse.Namespace, tls: ssl.SSLContext | None) -> None:
    reuse_port = args.processes > 1 or args.reuse_port
    server = FakeOpenAIServer(host=args.host, port=args.port, delay=args.delay, reply=args.reply,
                              tls=tls, reuse_port=reuse_port)  # fmt: skip
    url = await server.start()
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for signum in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(signum, stop.set)
    if args.reuse_port:  # a child: end with the parent (its stdin closes when the parent dies)
        threading.Thread(target=_end_with_parent, args=(loop, stop), daemon=True).start()
    children = [_child(args, server.port) for _ in range(args.processes - 1)]
    try:
        # A command-line entry point: say where it listens so a benchmark script can connect.
        print(f"listening on {url}", flush=True)
        await stop.wait()
    finally:
        for child in children:
            child.terminate()
        for child in children:
            child.wait()
        await server.stop()


def _end_with_parent(loop: asyncio.AbstractEventLoop, stop: asyncio.Event) -> None:
    sys.stdin.read()  # returns at EOF: the parent is gone
    loop.call_soon_threadsafe(stop.set)


def _child(args: argparse.Namespace, port: int) -> subprocess.Popen[str]:
    command = [sys.executable, "-m", "contentgen.testing.openai_server", "--host", args.host,
               "--port", str(port), "--delay", str(args.delay), "--reuse-port"]  # fmt: skip
    if args.reply is not None:
        command += ["--reply", args.reply]
    if args.certfile:
        command += ["--certfile", args.certfile, "--keyfile", args.keyfile]
    child = subprocess.Popen(command, stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
    assert child.stdout is not None
    child.stdout.readline()  # "listening on ...": it is accepting
    return child


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
    parser.add_argument("--processes", type=int, default=1, help="processes serving the port")
    parser.add_argument("--reuse-port", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    tls = None
    if args.certfile:
        tls = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
        tls.load_cert_chain(args.certfile, args.keyfile)
    with contextlib.suppress(KeyboardInterrupt):
        asyncio.run(_serve(args, tls))
