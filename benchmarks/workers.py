"""Jobs/s completed by 1, 2 and 4 `contentgen worker` processes on one SQLite file, with an
instant fake provider (the fake OpenAI-compatible server, in its own process, answering at
once; repair rounds off, so one call per job): what the job lifecycle itself costs (claim,
prompt, call over HTTP, measuring the piece, finish with its usage row), not a model.

    python benchmarks/workers.py [--jobs 2000] [--concurrency 8] [--workers 1,2,4]

For each worker count: a fresh database with ``--jobs`` queued jobs, N worker processes
started, and the rate measured between the first and the last job finished (from the jobs'
attempt records), so process start-up is not counted. Checks after each run: every job
completed, one usage row each.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import signal
import sqlite3
import subprocess
import sys
import tempfile
import time
from datetime import datetime
from pathlib import Path

from contentgen.client.local import LocalClient
from contentgen.settings import Settings

TOPIC = "Practical guide to energy savings for small offices"


def start_provider() -> tuple[subprocess.Popen[str], str]:
    proc = subprocess.Popen(
        [sys.executable, "-m", "contentgen.testing.openai_server", "--port", "0",
         "--delay", "0"],
        stdout=subprocess.PIPE, text=True,
    )  # fmt: skip
    assert proc.stdout is not None
    line = proc.stdout.readline().strip()  # "listening on URL"
    return proc, line.rsplit(" ", 1)[-1]


def queue(jobs: int) -> None:
    async def main() -> None:
        async with LocalClient.from_settings(Settings()) as cg:
            cg.run_submitted = False
            request = await cg.make_request(topic=TOPIC)
            for _ in range(jobs):
                await cg.submit(request)

    asyncio.run(main())


def count(db: Path, sql: str) -> int:
    conn = sqlite3.connect(f"file:{db}?mode=ro", uri=True, timeout=30)
    try:
        return int(conn.execute(sql).fetchone()[0])
    finally:
        conn.close()


def finish_span(db: Path) -> float:
    conn = sqlite3.connect(f"file:{db}?mode=ro", uri=True, timeout=30)
    try:
        first, last = conn.execute(
            "SELECT min(ended_at), max(ended_at) FROM job_attempts WHERE outcome = 'completed'"
        ).fetchone()
    finally:
        conn.close()
    return (datetime.fromisoformat(last) - datetime.fromisoformat(first)).total_seconds()


def run(workers: int, jobs: int, concurrency: int, base_url: str) -> float:
    home = Path(tempfile.mkdtemp(prefix=f"cg-workers-{workers}-"))
    env = dict(os.environ, CONTENTGEN_HOME=str(home), CONTENTGEN_API_BASE=base_url,
               CONTENTGEN_API_KEY="sk-bench", CONTENTGEN_MODEL="openai/gpt-4o-mini",
               CONTENTGEN_LOG_LEVEL="error", CONTENTGEN_REPAIR_ROUNDS="0")  # fmt: skip
    os.environ.update(env)
    db = home / "contentgen.db"
    queue(jobs)
    procs = [subprocess.Popen([sys.executable, "-m", "contentgen", "worker", "--concurrency",
                               str(concurrency)], env=env) for _ in range(workers)]  # fmt: skip
    deadline = time.monotonic() + 600
    while count(db, "SELECT count(*) FROM jobs WHERE status = 'completed'") < jobs:
        if time.monotonic() > deadline:
            raise SystemExit("timed out")
        time.sleep(0.2)
    for proc in procs:
        proc.send_signal(signal.SIGTERM)
    codes = [proc.wait(60) for proc in procs]
    usage = count(db, "SELECT count(*) FROM llm_usage")
    assert codes == [0] * workers, codes
    assert usage == jobs, f"{usage} usage rows for {jobs} jobs (one call each expected)"
    return (jobs - 1) / finish_span(db)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--jobs", type=int, default=2000)
    parser.add_argument("--concurrency", type=int, default=8, help="jobs at once per worker")
    parser.add_argument("--workers", default="1,2,4", help="worker counts to measure")
    args = parser.parse_args()
    provider, base_url = start_provider()
    try:
        print(f"{args.jobs} jobs, --concurrency {args.concurrency} per worker, SQLite, "
              f"instant fake provider at {base_url}")  # fmt: skip
        for n in (int(x) for x in args.workers.split(",")):
            rate = run(n, args.jobs, args.concurrency, base_url)
            print(f"{n} worker process(es): {rate:8.1f} jobs/s completed", flush=True)
    finally:
        provider.terminate()
        provider.wait(10)


if __name__ == "__main__":
    main()
