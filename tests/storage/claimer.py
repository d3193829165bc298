"""A claiming process for the cross-process lease tests (run as a script, not collected).

``python claimer.py URL HOLDER drain LIMIT``: wait for a line on stdin, then claim LIMIT jobs at
a time and complete each with one usage row until none is left; one JSON line per claim.
``python claimer.py URL HOLDER hold LEASE_SECONDS``: claim one job, print its lease, sleep
until killed.
"""

from __future__ import annotations

import asyncio
import json
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parent))

from factories import make_result, make_usage

from contentgen.models import JobStatus
from contentgen.storage import open_storage


def say(**fields: object) -> None:
    print(json.dumps(fields, default=str), flush=True)


async def drain(url: str, holder: str, limit: int) -> None:
    async with open_storage(url) as storage:
        say(ready=True)
        await asyncio.to_thread(sys.stdin.readline)
        while claimed := await storage.claim_jobs(
            holder, limit=limit, lease_seconds=60, max_attempts=3
        ):
            for c in claimed:
                done = await storage.finish_job(
                    c.lease, status=JobStatus.COMPLETED, result=make_result(),
                    usage=[make_usage(c.job, provider=holder)],
                )  # fmt: skip
                say(job=c.job.id, token=c.lease.token, finished=done is not None)


async def hold(url: str, holder: str, lease_seconds: float) -> None:
    async with open_storage(url) as storage:
        claimed = await storage.claim_jobs(
            holder, limit=1, lease_seconds=lease_seconds, max_attempts=3
        )
        say(jobs=[c.job.id for c in claimed], tokens=[c.lease.token for c in claimed])
        await asyncio.sleep(3600)


def main() -> None:
    url, holder, mode, arg = sys.argv[1:5]
    if mode == "drain":
        asyncio.run(drain(url, holder, int(arg)))
    else:
        asyncio.run(hold(url, holder, float(arg)))


if __name__ == "__main__":
    main()
