"""The fake OpenAI-compatible server alone: is it fast enough not to limit a benchmark?

Run: python benchmarks/fake_server_throughput.py [--calls 2000] [--concurrency 32]
         [--delay 0.05] [--processes 1]
(moved here from the unit tests: timed tests do not belong in the suite). Ideal wall time is
calls / concurrency x delay; the server is fine when the ratio is close to 1.
"""

from __future__ import annotations

import argparse
import asyncio
import subprocess
import sys
import time

import aiohttp

BODY = {"model": "gpt-4o-mini", "messages": [{"role": "user", "content": "coffee in Lisbon"}]}


async def drive(url: str, calls: int, concurrency: int) -> float:
    gate = asyncio.Semaphore(concurrency)
    async with aiohttp.ClientSession() as session:

        async def one() -> None:
            async with gate, session.post(f"{url}/chat/completions", json=BODY) as response:
                response.raise_for_status()
                await response.read()

        started = time.perf_counter()
        await asyncio.gather(*(one() for _ in range(calls)))
        return time.perf_counter() - started


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--calls", type=int, default=2000)
    parser.add_argument("--concurrency", type=int, default=32)
    parser.add_argument("--delay", type=float, default=0.05)
    parser.add_argument("--processes", type=int, default=1)
    args = parser.parse_args()
    server = subprocess.Popen(
        [sys.executable, "-m", "contentgen.testing.openai_server", "--port", "0",
         "--delay", str(args.delay), "--processes", str(args.processes)],
        stdout=subprocess.PIPE, text=True,
    )  # fmt: skip
    try:
        assert server.stdout is not None
        url = server.stdout.readline().removeprefix("listening on ").strip()
        wall = asyncio.run(drive(url, args.calls, args.concurrency))
    finally:
        server.terminate()
        server.wait()
    ideal = args.calls / args.concurrency * args.delay
    print(f"calls {args.calls}  concurrency {args.concurrency}  server processes "
          f"{args.processes}  wall {wall:.3f} s  ideal {ideal:.3f} s  ratio {wall / ideal:.3f}")


if __name__ == "__main__":
    main()
