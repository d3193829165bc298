"""Jobs run inside the server process: a loop that claims runnable jobs from the database
and runs at most ``concurrency`` at once (``contentgen serve --workers-in-process N``; 0 leaves
every job to separate ``contentgen worker`` processes).

A claim is atomic in storage and gives a lease (heartbeated while the job runs, fenced when
lost), so the server and other workers on the same database never run a job twice, and a job
whose runner died is taken over when its lease expires.
"""

from __future__ import annotations

import asyncio
import contextlib
import time
import uuid
from collections.abc import Callable

from contentgen.client.local import LocalClient
from contentgen.logs import get_logger
from contentgen.models import Job
from contentgen.storage.base import ClaimedJob

log = get_logger()

OnFinish = Callable[[Job, float], None]
OnStart = Callable[[Job], None]


class InProcessWorker:
    def __init__(
        self, client: LocalClient, concurrency: int, *, on_start: OnStart,
        on_finish: OnFinish, poll: float = 1.0,
    ) -> None:  # fmt: skip
        self.client = client
        self.concurrency = concurrency
        self.poll = poll
        self._on_start = on_start
        self._on_finish = on_finish
        self._wake = asyncio.Event()
        self._stopping = False
        self._running: dict[uuid.UUID, asyncio.Task[None]] = {}
        self._loop_task: asyncio.Task[None] | None = None

    @property
    def active(self) -> int:
        return len(self._running)

    def wake(self) -> None:
        """A job was queued: look now instead of at the next poll."""
        self._wake.set()

    def start(self) -> None:
        self._loop_task = asyncio.create_task(self._loop(), name="in-process-worker")

    async def stop(self, grace: float = 30.0) -> None:
        """Stop taking jobs; let running ones finish for ``grace`` seconds, then cancel them."""
        self._stopping = True
        self._wake.set()
        if self._loop_task is not None:
            self._loop_task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._loop_task
        running = list(self._running.values())
        if running:
            _done, late = await asyncio.wait(running, timeout=grace)
            for task in late:
                task.cancel()
            await asyncio.gather(*late, return_exceptions=True)

    async def _loop(self) -> None:
        while not self._stopping:
            self._wake.clear()
            free = self.concurrency - len(self._running)
            if free > 0:
                try:
                    claimed = await self.client.claim_jobs(free)
                except Exception as exc:
                    log.warning("worker_claim_failed", error=repr(exc))
                    claimed = []
                for one in claimed:
                    self._running[one.job.id] = asyncio.create_task(
                        self._run(one), name=f"job-{one.job.id}"
                    )
                if len(claimed) == free:
                    continue  # maybe more waiting
            with contextlib.suppress(TimeoutError):
                async with asyncio.timeout(self.poll):
                    await self._wake.wait()

    async def _run(self, claimed: ClaimedJob) -> None:
        started = time.perf_counter()
        job = claimed.job
        self._on_start(job)
        try:
            done = await self.client.run_claimed(claimed)
        except Exception as exc:  # run_claimed records job failures itself; this is a bug
            log.error("job_run_crashed", job_id=str(job.id), error=repr(exc))
            return
        finally:
            self._running.pop(job.id, None)
            self._wake.set()  # a slot is free
        self._on_finish(done, time.perf_counter() - started)
