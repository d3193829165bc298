"""A minimal worker process over the lease protocol, for the multi-process acceptance tests and
benchmarks/scaling.py until the jobs branch's ``contentgen worker`` is merged.

    python queue_worker.py --concurrency 8 --lease 2 --idle-exit 3 [--run-for 60]

Settings come from the environment (CONTENTGEN_DATABASE_URL, CONTENTGEN_API_BASE, ...). It
claims jobs (LISTEN wake-ups when idle), heartbeats every lease/3, calls the model through the
Router (so shared rate limits apply) and finishes each job with its usage row under the fencing
token. It exits after ``--idle-exit`` seconds without work, or after ``--run-for`` seconds.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import secrets
import socket
import sys
import time
from typing import Any

from contentgen.llm.router import Router
from contentgen.models import ContentResult, JobStatus, LlmUsage, ResultMetadata, TokenUsage
from contentgen.settings import Settings
from contentgen.storage.base import ClaimedJob
from contentgen.storage.factory import open_storage


async def run_one(storage: Any, router: Router, claimed: ClaimedJob, lease_s: float) -> None:
    lease = claimed.lease

    async def beat() -> None:
        nonlocal lease
        while True:
            await asyncio.sleep(lease_s / 3)
            renewed = await storage.heartbeat(lease, lease_s)
            if renewed is None:
                return
            lease = renewed

    beating = asyncio.create_task(beat())
    job = claimed.job
    try:
        done = await router.complete(f"Write about {job.params.topic}", model=router_model())
    finally:
        beating.cancel()
    usage = LlmUsage(job_id=job.id, client_id=job.client_id, provider=done.provider,
                     model=done.model, input_tokens=done.input_tokens,
                     output_tokens=done.output_tokens, cost=done.cost,
                     latency_ms=done.latency_ms)  # fmt: skip
    result = ContentResult(content=done.text, title=job.params.topic, metadata=ResultMetadata(
        word_count=len(done.text.split()), keywords_used=[], llm_provider=done.provider,
        model=done.model, generation_cost=done.cost or 0.0, generation_time_ms=done.latency_ms,
        token_usage=TokenUsage(input=done.input_tokens, output=done.output_tokens)))  # fmt: skip
    await storage.finish_job(lease, status=JobStatus.COMPLETED, result=result, usage=[usage])


def router_model() -> str:
    return os.environ.get("CONTENTGEN_MODEL", "openai/gpt-4o-mini")


async def main(args: argparse.Namespace) -> int:
    settings = Settings()
    holder = f"{socket.gethostname()}:{os.getpid()}:{secrets.token_hex(3)}"
    storage = open_storage(settings.database_url, listen=settings.database_listen,
                           pool_size=settings.database_pool_size)  # fmt: skip
    wait_for_change = getattr(storage, "wait_for_change", None)
    router = Router(settings)
    started = time.monotonic()
    idle_since = time.monotonic()
    running: set[asyncio.Task[None]] = set()
    async with storage:
        try:
            while True:
                if args.run_for and time.monotonic() - started > args.run_for:
                    break
                free = args.concurrency - len(running)
                claimed = []
                if free > 0:
                    claimed = await storage.claim_jobs(holder, limit=free, lease_seconds=args.lease,
                                                       max_attempts=5)  # fmt: skip
                for c in claimed:
                    task = asyncio.create_task(run_one(storage, router, c, args.lease))
                    running.add(task)
                    task.add_done_callback(running.discard)
                if running or claimed:
                    idle_since = time.monotonic()
                elif time.monotonic() - idle_since > args.idle_exit:
                    break
                if not claimed:
                    if running:
                        await asyncio.wait(running, timeout=0.2,
                                           return_when=asyncio.FIRST_COMPLETED)  # fmt: skip
                    elif wait_for_change is not None:
                        await wait_for_change(timeout=0.2)
                    else:
                        await asyncio.sleep(0.2)
        finally:
            for task in running:
                task.cancel()
            await asyncio.gather(*running, return_exceptions=True)
            await router.aclose()
    print(f"worker {holder} done", file=sys.stderr)
    return 0


if __name__ == "__main__":
    parser = argparse.ArgumentParser()
    parser.add_argument("--concurrency", type=int, default=8)
    parser.add_argument("--lease", type=float, default=30.0)
    parser.add_argument("--idle-exit", type=float, default=3.0)
    parser.add_argument("--run-for", type=float, default=0.0)
    sys.exit(asyncio.run(main(parser.parse_args())))
