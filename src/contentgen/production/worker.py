"""A worker: runs jobs from storage until stopped (``contentgen worker``, ``jobs recover``, the
server's in-process workers). Coordination only: every storage step is the pipeline's.

- It claims up to ``concurrency`` jobs at once and runs each as a named task, supervised: a
  task that crashes is logged, its slot freed; a claim that fails (database down) is logged
  and retried after the idle pause.
- Idle, it polls with back-off (``poll`` doubling up to ``max_poll``). ``wake()`` ends a
  pause at once: a backend that can be told about new jobs (PostgreSQL ``LISTEN``) calls it,
  as does a job finishing (a slot is free). ``wait_for_work`` is that seam.
- ``stop`` (an event) ends claiming; running jobs get ``grace`` seconds to finish, then they
  are cancelled, which releases them (back to pending, for another worker). A worker
  cancelled outright releases its jobs at once.
"""

from __future__ import annotations

import asyncio
import contextlib
import uuid
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field

from contentgen.logs import get_logger
from contentgen.models import Job
from contentgen.production.lease import settle
from contentgen.production.pipeline import JobRun, Pipeline, RunControl
from contentgen.storage.base import ClaimedJob

log = get_logger()

#: Failed claims in a row after which a one-off run (``once``) gives up with the error.
ONCE_CLAIM_FAILURES = 5


@dataclass
class WorkerStats:
    """What a worker did: runs by the final status of their job (``fenced`` for runs whose
    lease was lost, ``released`` for runs handed back when it stopped)."""

    by_status: Counter[str] = field(default_factory=Counter)

    @property
    def runs(self) -> int:
        return sum(self.by_status.values())


class Worker:
    def __init__(
        self,
        pipeline: Pipeline,
        *,
        concurrency: int,
        poll: float = 0.2,
        max_poll: float = 2.0,
        grace: float = 30.0,
        on_start: Callable[[Job], None] | None = None,
        on_finish: Callable[[JobRun], None] | None = None,
    ) -> None:
        self.pipeline = pipeline
        self.concurrency = concurrency
        self.poll = poll
        self.max_poll = max_poll
        self.grace = grace
        self.stats = WorkerStats()
        self._on_start = on_start
        self._on_finish = on_finish
        self._wake = asyncio.Event()
        self._running: dict[uuid.UUID, asyncio.Task[None]] = {}

    @property
    def active(self) -> int:
        """Jobs running now."""
        return len(self._running)

    def wake(self) -> None:
        """Look for work now instead of at the end of the idle pause."""
        self._wake.set()

    async def wait_for_work(self, timeout: float | None) -> bool:
        """Pause until ``wake()`` or ``timeout``; True when woken."""
        try:
            async with asyncio.timeout(timeout):
                await self._wake.wait()
        except TimeoutError:
            return False
        finally:
            self._wake.clear()
        return True

    async def run(self, stop: asyncio.Event | None = None, *, once: bool = False) -> WorkerStats:
        """Claim and run jobs until ``stop`` is set; with ``once``, until nothing is left to
        claim and nothing runs (``contentgen jobs recover``)."""
        stop = stop or asyncio.Event()
        watcher = asyncio.create_task(self._watch(stop), name="worker-stop-watcher")
        listener = self._listen_for_work()
        log.info("worker_started", holder=self.pipeline.holder, concurrency=self.concurrency)
        if not once:  # `once` warms up when it has claimed something (often nothing is left)
            await self.pipeline.warm()
        try:
            await self._loop(stop, once)
        except asyncio.CancelledError:
            await settle(self._drain(grace=0))
            raise
        finally:
            watcher.cancel()
            if listener is not None:
                listener.cancel()
        await settle(self._drain(grace=self.grace))
        log.info("worker_stopped", holder=self.pipeline.holder, runs=self.stats.runs)
        return self.stats

    def _listen_for_work(self) -> asyncio.Task[None] | None:
        """With a storage that is told about new jobs (PostgreSQL LISTEN/NOTIFY), wake the
        idle loop as soon as a job becomes pending instead of at the end of its pause."""
        changes = getattr(self.pipeline.storage, "wait_for_change", None)
        if changes is None:
            return None

        async def relay() -> None:
            new_work = frozenset({"pending"})
            while True:
                try:
                    if await changes(timeout=self.max_poll, statuses=new_work):
                        self.wake()
                except Exception as exc:  # LISTEN trouble: polling goes on regardless
                    log.warning("worker_listen_failed", error=f"{type(exc).__name__}: {exc}")
                    await asyncio.sleep(self.max_poll)

        return asyncio.create_task(relay(), name="worker-listen")

    async def _watch(self, stop: asyncio.Event) -> None:
        await stop.wait()
        self.wake()

    async def _loop(self, stop: asyncio.Event, once: bool) -> None:
        pause = self.poll
        failures = 0
        cold = once
        while not stop.is_set():
            free = self.concurrency - len(self._running)
            claimed: list[ClaimedJob] = []
            if free > 0:
                try:
                    claimed = await self.pipeline.claim(limit=free)
                    failures = 0
                except Exception as exc:  # the database is away: log, pause, try again
                    failures += 1
                    log.warning("worker_claim_failed", error=f"{type(exc).__name__}: {exc}",
                                failures=failures)  # fmt: skip
                    if once and failures >= ONCE_CLAIM_FAILURES:
                        raise
            if claimed and cold:
                cold = False
                await self.pipeline.warm()
            for item in claimed:
                self._start(item)
            if claimed:
                pause = self.poll
                continue
            if once and not self._running and not failures:
                return
            if await self.wait_for_work(pause if free > 0 else self.max_poll):
                pause = self.poll  # woken: new work or a free slot
            elif free > 0:
                pause = min(pause * 2, self.max_poll)

    def _start(self, claimed: ClaimedJob) -> None:
        job_id = claimed.job.id
        task = asyncio.create_task(self._run_one(claimed), name=f"job-{job_id}")
        self._running[job_id] = task
        task.add_done_callback(lambda t: self._ended(job_id, t))

    def _ended(self, job_id: uuid.UUID, task: asyncio.Task[None]) -> None:
        self._running.pop(job_id, None)
        if task.cancelled():
            self.stats.by_status["released"] += 1
        elif task.exception() is not None:
            log.error("job_task_crashed", job_id=str(job_id), error=repr(task.exception()))
            self.stats.by_status["crashed"] += 1
        self.wake()

    async def _run_one(self, claimed: ClaimedJob) -> None:
        if self._on_start is not None:
            self._on_start(claimed.job)
        done = await self.pipeline.run_claimed(claimed, control=RunControl("release"))
        self.stats.by_status["fenced" if done.fenced else done.job.status.value] += 1
        if self._on_finish is not None:
            self._on_finish(done)

    async def _drain(self, *, grace: float) -> None:
        """Wait up to ``grace`` seconds for running jobs, then release the rest."""
        running = list(self._running.values())
        if not running:
            return
        log.info("worker_draining", running=len(running), grace=grace)
        late: set[asyncio.Task[None]] = set(running)
        if grace > 0:
            _done, late = await asyncio.wait(running, timeout=grace)
        for task in late:
            task.cancel()
        with contextlib.suppress(Exception):
            await asyncio.gather(*late, return_exceptions=True)
