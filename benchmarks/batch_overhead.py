"""Batch orchestration overhead against a local OpenAI-compatible server with fixed latency.

Run: python benchmarks/batch_overhead.py [--rows 2000] [--concurrency 32] [--delay 0.05]
         [--https]
Target (issue 4): wall <= 1.10 x ideal, where ideal = rows / concurrency x delay
(2,000 / 32 x 50 ms = 3.125 s) on the 2-core reference machine.

The server (``python -m contentgen.testing.openai_server``) runs as a separate process and
answers every chat call after ``--delay`` seconds. The batch runs as a user would run it:
``Client.from_settings`` with ``CONTENTGEN_MODEL=openai/gpt-4o-mini`` and
``CONTENTGEN_API_BASE`` pointing at the server (so ``OpenAICompatBackend``, aiohttp, is
used), SQLite and the disk cache in a temporary ``CONTENTGEN_HOME``, and
``contentgen.batch.runner.run_file`` over a generated CSV writing into a temporary directory.
Only ``run_file`` is timed (not start-up or opening the database). Repair rounds are off
(``CONTENTGEN_REPAIR_ROUNDS=0``): one provider call per row, so the transport and the batch
machinery are what is measured; every piece is still analysed against its strategy (issue 11),
which is CPU per row. (The server's canned article fails the default strategy, so with repair
rounds on each row would make ~15 calls; benchmarks/quality.py measures repairs.)

``--https`` serves TLS with a certificate from a throw-away certificate authority made by
``trustme`` (extra ``dev``); the client trusts it through ``SSL_CERT_FILE``, as a user would
trust a private CA.
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import tempfile
from pathlib import Path

from _batch_common import run, write_csv

from contentgen.settings import Settings

TARGET = 1.10


def make_certificate(folder: Path) -> tuple[list[str], Path]:
    """Server options for a self-signed TLS certificate for 127.0.0.1, and the CA file."""
    import trustme

    ca = trustme.CA()
    cert = ca.issue_cert("127.0.0.1", "localhost")
    chain, key, ca_file = folder / "server.pem", folder / "server.key", folder / "ca.pem"
    cert.private_key_pem.write_to_path(str(key))
    with chain.open("wb") as handle:
        for blob in cert.cert_chain_pems:
            handle.write(blob.bytes())
    ca.cert_pem.write_to_path(str(ca_file))
    return ["--certfile", str(chain), "--keyfile", str(key)], ca_file


def start_server(
    delay: float, processes: int, extra: list[str]
) -> tuple[subprocess.Popen[str], str]:
    proc = subprocess.Popen(
        [sys.executable, "-m", "contentgen.testing.openai_server", "--port", "0",
         "--delay", str(delay), "--processes", str(processes), *extra],
        stdout=subprocess.PIPE, text=True,
    )  # fmt: skip
    assert proc.stdout is not None
    line = proc.stdout.readline()
    if not line.startswith("listening on "):
        proc.kill()
        sys.exit(f"the fake server did not start: {line!r}")
    return proc, line.removeprefix("listening on ").strip()


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--rows", type=int, default=2000)
    parser.add_argument("--concurrency", type=int, default=32)
    parser.add_argument("--delay", type=float, default=0.05, help="server latency, seconds")
    parser.add_argument("--https", action="store_true", help="TLS with a self-signed cert")
    parser.add_argument("--server-processes", type=int, default=1,
                        help="fake server processes (SO_REUSEPORT)")  # fmt: skip
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        home = Path(tmp)
        extra: list[str] = []
        if args.https:
            extra, ca_file = make_certificate(home)
            os.environ["SSL_CERT_FILE"] = str(ca_file)
        server, base_url = start_server(args.delay, args.server_processes, extra)
        try:
            os.environ.update(
                CONTENTGEN_HOME=str(home / "home"),
                CONTENTGEN_MODEL="openai/gpt-4o-mini",
                CONTENTGEN_API_BASE=base_url,
                CONTENTGEN_REPAIR_ROUNDS="0",
            )
            csv_path = write_csv(home / "rows.csv", args.rows)
            result = run(Settings(), csv_path, home / "out", concurrency=args.concurrency)
        finally:
            server.terminate()
            server.wait()
    if result.done != args.rows:
        sys.exit(f"expected {args.rows} completed rows, got {result.done} completed, "
                 f"{result.failed} failed")  # fmt: skip
    ideal = args.rows / args.concurrency * args.delay
    ratio = result.wall / ideal
    scheme = "https" if args.https else "http"
    print(f"{scheme}  rows {args.rows}  concurrency {args.concurrency}  server delay "
          f"{args.delay * 1000:.0f} ms  cpu {result.cpu:.2f} s "
          f"({1000 * result.cpu / args.rows:.3f} ms/row)")  # fmt: skip
    print(f"wall {result.wall:.3f} s  ideal {ideal:.3f} s  ratio {ratio:.3f}  "
          f"(target <= {TARGET:.2f}: {'met' if ratio <= TARGET else 'NOT met'})")  # fmt: skip


if __name__ == "__main__":
    main()
