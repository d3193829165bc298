"""Scaling out: jobs/s through a shared database with 1, 2 and 4 worker processes.

Run: python benchmarks/scaling.py [--jobs 1000] [--concurrency 16] [--slow-jobs 2000]

1. An instant fake provider (its own process): jobs/s through PostgreSQL at 1, 2 and 4 worker
   processes, and the same through SQLite (one file shared by the worker processes).
2. 2,000 jobs with a provider answering in 50 ms across 4 workers: wall time vs the ideal
   (jobs x 50 ms / total concurrency).

Everything is local: a throwaway PostgreSQL (contentgen.testing.postgres_server), the fake
OpenAI-compatible server (its own process), and ``contentgen worker`` processes — the real job
lifecycle: claim with a lease, build the prompt, call the provider, analyse, finish with the
usage rows under the fencing token. The clock runs from the workers' start until the database
counts every job completed (the workers are then stopped with SIGTERM). On a 2-core machine the
worker processes, PostgreSQL and the provider share the cores: more workers than cores measure
contention, not capacity.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

from contentgen.models import Client, ContentRequest, ContentType, Job
from contentgen.storage.factory import open_storage
from contentgen.testing.postgres_server import PostgresServer

WORKER = [sys.executable, "-m", "contentgen", "worker"]


def start_provider(delay: float) -> tuple[subprocess.Popen[str], str]:
    proc = subprocess.Popen(
        [sys.executable, "-m", "contentgen.testing.openai_server", "--port", "0",
         "--delay", str(delay), "--reply", "# Title\n\nBody of the article."],
        stdout=subprocess.PIPE, text=True,
    )  # fmt: skip
    assert proc.stdout is not None
    line = proc.stdout.readline().strip()
    return proc, line.rsplit(" ", 1)[1]


async def seed(url: str, n: int) -> None:
    async with open_storage(url) as storage:
        client = await storage.add_client(Client(name="Bench"))
        params = ContentRequest(topic="Scaling out a job queue", content_type=ContentType.BLOG,
                                client_id=client.id)  # fmt: skip
        jobs = [Job(params=params) for _ in range(n)]
        sem = asyncio.Semaphore(8)

        async def one(job: Job) -> None:
            async with sem:
                await storage.create_job(job)

        await asyncio.gather(*(one(j) for j in jobs))


async def completed(url: str) -> int:
    async with open_storage(url) as storage:
        from contentgen.models import JobFilter, JobStatus

        page = await storage.list_jobs(JobFilter(status=JobStatus.COMPLETED, limit=100_000))
        return len(page.jobs)


def cpu_seconds(pids: list[int]) -> float:
    """User + system CPU of these processes and their waited-for children (Linux /proc)."""
    total = 0.0
    for pid in pids:
        try:
            fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        total += sum(int(f) for f in fields[11:15]) / os.sysconf("SC_CLK_TCK")
    return total


def server_pids(pg: PostgresServer | None) -> list[int]:
    """The PostgreSQL postmaster and its backends (none for SQLite)."""
    if pg is None:
        return []
    found = subprocess.run(["pgrep", "-f", str(pg.root)], capture_output=True, text=True)
    parents = [int(p) for p in found.stdout.split()]
    children: list[int] = []
    for parent in parents:
        kids = subprocess.run(["pgrep", "-P", str(parent)], capture_output=True, text=True)
        children += [int(p) for p in kids.stdout.split()]
    return parents + children


CPU: dict[str, float] = {}


def run_workers(url: str, api: str, workers: int, concurrency: int, jobs: int,
                home: Path, pg: PostgresServer | None = None) -> float:  # fmt: skip
    env = {k: v for k, v in os.environ.items() if not k.startswith("CONTENTGEN_")}
    env.update({"CONTENTGEN_DATABASE_URL": url, "CONTENTGEN_API_BASE": api,
                "CONTENTGEN_API_KEY": "sk-bench", "CONTENTGEN_MODEL": "openai/gpt-4o-mini",
                "CONTENTGEN_HOME": str(home), "CONTENTGEN_LOG_LEVEL": "ERROR",
                "CONTENTGEN_REPAIR_ROUNDS": "0",  # one provider call per job: the queue measured
                "CONTENTGEN_DATABASE_POOL_SIZE": str(concurrency + 4)})  # fmt: skip
    db_before = cpu_seconds(server_pids(pg))
    started = time.perf_counter()
    procs = [subprocess.Popen([*WORKER, "-j", str(concurrency), "--grace", "5"], env=env,
                              stdin=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
             for _ in range(workers)]  # fmt: skip
    try:
        wall = asyncio.run(wait_completed(url, jobs, started))
        CPU["workers"] = cpu_seconds([p.pid for p in procs])
        CPU["database"] = cpu_seconds(server_pids(pg)) - db_before
    finally:
        for proc in procs:
            proc.send_signal(signal.SIGTERM)
        for proc in procs:
            try:
                proc.wait(timeout=60)
            except subprocess.TimeoutExpired:
                proc.kill()
    return wall


async def wait_completed(url: str, jobs: int, started: float) -> float:
    """Seconds from ``started`` until every job is completed (polled every 20 ms)."""
    import asyncpg

    conn = await asyncpg.connect(url) if url.startswith("postgresql") else None
    try:
        while True:
            if conn is not None:
                done = await conn.fetchval("SELECT count(*) FROM jobs WHERE status = 'completed'")
            else:
                done = await completed(url)
            if done >= jobs:
                return time.perf_counter() - started
            if time.perf_counter() - started > 900:
                sys.exit(f"only {done} of {jobs} jobs completed after 900 s")
            await asyncio.sleep(0.02)
    finally:
        if conn is not None:
            await conn.close()


def measure(pg: PostgresServer | None, tmp: Path, api: str, workers: int, concurrency: int,
            jobs: int) -> float:  # fmt: skip
    if pg is None:
        url = f"sqlite:///{tmp / f'bench-{workers}-{time.monotonic_ns()}.db'}"
    else:
        url = pg.create_database()
    asyncio.run(seed(url, jobs))
    return run_workers(url, api, workers, concurrency, jobs, tmp / "home", pg)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--jobs", type=int, default=1000)
    parser.add_argument("--concurrency", type=int, default=16, help="jobs in flight per worker")
    parser.add_argument("--slow-jobs", type=int, default=2000)
    parser.add_argument("--delay", type=float, default=0.05)
    args = parser.parse_args()
    results: dict[str, Any] = {}
    with tempfile.TemporaryDirectory() as tmp_dir, PostgresServer.start() as pg:
        tmp = Path(tmp_dir)
        instant, api = start_provider(0.0)
        try:
            backends: list[tuple[str, PostgresServer | None]] = [
                ("postgresql", pg),
                ("sqlite", None),
            ]
            for name, server in backends:
                for workers in (1, 2, 4):
                    wall = measure(server, tmp, api, workers, args.concurrency, args.jobs)
                    results[f"{name} x{workers}"] = args.jobs / wall
                    print(f"{name:10} {workers} worker(s): {args.jobs / wall:7.1f} jobs/s "
                          f"({args.jobs} jobs in {wall:.2f} s; CPU per job: workers "
                          f"{CPU['workers'] / args.jobs * 1000:.1f} ms incl. start-up, "
                          f"database {CPU['database'] / args.jobs * 1000:.1f} ms)",
                          flush=True)  # fmt: skip
        finally:
            instant.terminate()
        slow, api = start_provider(args.delay)
        try:
            wall = measure(pg, tmp, api, 4, args.concurrency, args.slow_jobs)
        finally:
            slow.terminate()
        ideal = args.slow_jobs * args.delay / (4 * args.concurrency)
        print(f"postgresql 4 workers x {args.concurrency} in flight, {args.slow_jobs} jobs, "
              f"{args.delay * 1000:.0f} ms provider: {wall:.2f} s (ideal {ideal:.2f} s, "
              f"{wall / ideal:.2f}x)")  # fmt: skip


if __name__ == "__main__":
    main()
