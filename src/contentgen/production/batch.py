"""The batch engine: many requests through the pipeline with bounded concurrency.

Requests stream in; at most ``concurrency`` model calls are in flight (and a few more jobs,
claimed ahead); outcomes stream out as jobs finish (not in input order), exactly one per
request unless the batch is stopped before the request's job finished.

Ownership is the same as for any job: each request's job is created ``pending`` and claimed
(leased) by this batch before its prompt is built. Its key (``request_key``) is the request's
identity plus, for the n-th repeat of an identical request in the same input, ``#n``: a resumed
batch finds each row's own job, so identical rows are each paid once, and never twice. On
resume a row's earlier job is reused when completed, run again when failed or cancelled,
claimed when pending or abandoned (expired lease), and followed to its end when another
runner holds it under a live lease (never failed or run a second time).

A stop ends intake: running jobs finish. Cancelling the batch stops running calls at once;
their jobs are released (pending) for ``--resume`` or a worker. After
``stop_after_failures`` consecutive rows failed at the provider after their retries (it could
not be reached, refused the key, stayed overloaded or rate-limited, the client's budget ran
out: whatever fails every row alike), the batch stops taking rows by itself and says why, once
(``on_halt``), instead of paying for the rest to fail the same way.
"""

from __future__ import annotations

import asyncio
import contextlib
import uuid
from collections import Counter
from collections.abc import AsyncGenerator, AsyncIterable, Callable
from dataclasses import dataclass

from contentgen.errors import Conflict, ProviderError
from contentgen.instructions.builder import InstructionsModule
from contentgen.instructions.setup import EffectiveSetup
from contentgen.logs import get_logger
from contentgen.models import ContentRequest, Job, JobStatus
from contentgen.production.lease import settle
from contentgen.production.pipeline import JobRun, Pipeline, RunControl
from contentgen.storage.base import ClaimedJob, Storage

log = get_logger()

#: What a run of failed rows says, by the kind of the first one's provider error.
_HALT_WHY = {
    "connection": "could not reach the provider",
    "timeout": "could not reach the provider",
    "auth": "were refused by the provider (check its key)",
    "budget": "were over the client's budget (see `contentgen budgets show`)",
    "rate_limit": "stayed rate-limited by the provider",
}


def prefetch(concurrency: int) -> int:
    """Jobs a batch keeps ready beyond its calls in flight (see ``BatchEngine.run``)."""
    return max(1, concurrency // 4)


def row_key(identity: str, repeat: int) -> str:
    """The ``request_key`` of the ``repeat``-th (0-based) occurrence of a request."""
    return identity if repeat == 0 else f"{identity}#{repeat}"


@dataclass(frozen=True)
class BatchOutcome:
    """One finished request: ``reused`` when a completed job from an earlier run was found."""

    index: int
    job: Job
    reused: bool = False


class BatchEngine:
    def __init__(
        self,
        storage: Storage,
        instructions: InstructionsModule,
        pipeline: Pipeline,
        *,
        concurrency: int,
        stop_after_failures: int = 5,
        follow_poll: float = 0.25,
    ) -> None:
        self.storage = storage
        self.instructions = instructions
        self.pipeline = pipeline
        self.concurrency = concurrency
        self.stop_after_failures = stop_after_failures
        self.follow_poll = follow_poll
        self._setups: dict[uuid.UUID, EffectiveSetup | None] = {}
        self._failing = 0  # rows in a row that failed at the provider
        self._first: ProviderError | None = None

    async def _setup(self, client_id: uuid.UUID) -> EffectiveSetup | None:
        """Each client's strategy is loaded once per batch (None: the job loads it itself and
        fails with the reason)."""
        if client_id not in self._setups:
            try:
                self._setups[client_id] = await self.instructions.setup_for(client_id)
            except Exception:
                self._setups[client_id] = None
        return self._setups[client_id]

    async def _take(
        self, request: ContentRequest, key: str, previous: Job | None
    ) -> tuple[ClaimedJob | None, uuid.UUID]:
        """This row's job, claimed by us when we may run it; else (None, id) to follow."""
        if previous is not None and previous.status in (JobStatus.FAILED, JobStatus.CANCELLED):
            with contextlib.suppress(Conflict):  # retried by someone else meanwhile
                await self.storage.retry_job(previous.id)
        if previous is None:
            previous = await self.storage.create_job(Job(params=request, request_key=key))
        claimed = await self.pipeline.claim(job_id=previous.id)
        return (claimed[0] if claimed else None), previous.id

    async def _follow(self, job_id: uuid.UUID) -> Job:
        """Wait for a job another runner holds to finish."""
        pause = self.follow_poll
        while True:
            job = await self.storage.get_job(job_id)
            if job is None or job.status.finished:
                assert job is not None, "a followed job was deleted"
                return job
            # Its lease may expire (runner gone): then it can be ours.
            claimed = await self.pipeline.claim(job_id=job_id)
            if claimed:
                raise _Claimed(claimed[0])
            await asyncio.sleep(pause)
            pause = min(pause * 2, 2.0)

    def _count(
        self, run: JobRun, stop: asyncio.Event, on_halt: Callable[[str], None] | None
    ) -> None:
        """Count rows in a row that failed at the provider; halt at the limit."""
        failure = run.failure
        if isinstance(failure, ProviderError) and run.job.status is JobStatus.FAILED:
            self._failing += 1
            if self._failing == 1:
                self._first = failure
            if self._failing >= self.stop_after_failures and not stop.is_set():
                stop.set()
                reason = self._halt_reason()
                log.info("batch_halted", reason=reason)  # the caller says it, once
                if on_halt is not None:
                    on_halt(reason)
        elif run.job.status is JobStatus.COMPLETED:
            self._failing = 0

    def _halt_reason(self) -> str:
        first = self._first
        assert first is not None
        causes = [a.error for a in first.attempts if a.error]  # as the first attempt saw it
        why = _HALT_WHY.get(first.kind, "failed at the provider")
        return f"{self._failing} rows in a row {why} ({causes[0] if causes else first.message})"

    async def run(
        self,
        requests: AsyncIterable[tuple[int, ContentRequest]],
        *,
        resume: bool = False,
        stop: asyncio.Event | None = None,
        on_halt: Callable[[str], None] | None = None,
    ) -> AsyncGenerator[BatchOutcome, None]:
        stop = stop or asyncio.Event()
        outcomes: asyncio.Queue[BatchOutcome | BaseException | None] = asyncio.Queue(
            maxsize=self.concurrency * 4
        )
        # ``concurrency`` bounds model calls in flight. Jobs in flight may exceed it by a few
        # (``prefetch``): the next jobs are claimed while calls run, so a finished call's slot
        # is taken at once, and storing/analysing results happens outside the call slots.
        calls = asyncio.Semaphore(self.concurrency)
        slots = asyncio.Semaphore(self.concurrency + prefetch(self.concurrency))
        running: set[asyncio.Task[None]] = set()
        unstarted: dict[asyncio.Task[None], ClaimedJob] = {}  # cancelled before they ran?
        repeats: Counter[str] = Counter()

        async def run_one(
            index: int, claimed: ClaimedJob | None, job_id: uuid.UUID,
            setup: EffectiveSetup | None,
        ) -> None:  # fmt: skip
            task = asyncio.current_task()
            assert task is not None
            unstarted.pop(task, None)  # from here, a cancel releases the job (run_claimed)
            try:
                while True:
                    if claimed is None:
                        try:
                            job = await self._follow(job_id)
                        except _Claimed as taken:
                            claimed = taken.claimed
                            continue
                        await outcomes.put(BatchOutcome(index, job))
                        return
                    run = await self.pipeline.run_claimed(
                        claimed, setup, call_slots=calls, cache=False,
                        control=RunControl("release"),
                    )  # fmt: skip
                    if run.fenced:  # lost the lease: see how the job ends elsewhere
                        claimed = None
                        continue
                    self._count(run, stop, on_halt)
                    await outcomes.put(BatchOutcome(index, run.job))
                    return
            finally:
                slots.release()

        async def produce() -> None:
            async for index, request in requests:
                if stop.is_set():
                    break
                identity = request.identity()
                key = row_key(identity, repeats[identity])
                repeats[identity] += 1
                previous = await self.storage.find_job_by_key(key) if resume else None
                if previous is not None and previous.status is JobStatus.COMPLETED:
                    await outcomes.put(BatchOutcome(index, previous, reused=True))
                    continue
                await slots.acquire()
                if stop.is_set():
                    slots.release()
                    break
                try:
                    setup = await self._setup(request.client_id)
                    claimed, job_id = await self._take(request, key, previous)
                except BaseException:
                    slots.release()
                    raise
                task = asyncio.create_task(run_one(index, claimed, job_id, setup),
                                           name=f"row-{index}")  # fmt: skip
                running.add(task)
                if claimed is not None:
                    unstarted[task] = claimed
                task.add_done_callback(running.discard)
            if running:
                await asyncio.gather(*list(running))

        async def producer() -> None:
            try:
                await produce()
            except BaseException as exc:
                in_flight = list(running)
                for task in in_flight:
                    task.cancel()  # each releases its job (pending again) before it ends
                await asyncio.gather(*in_flight, return_exceptions=True)
                for claimed in unstarted.values():  # cancelled before their first step
                    with contextlib.suppress(Exception):
                        await settle(self.storage.release_job(claimed.lease))
                await outcomes.put(exc)
                if isinstance(exc, asyncio.CancelledError):
                    raise
            else:
                await outcomes.put(None)

        feeder = asyncio.create_task(producer(), name="batch-producer")
        try:
            while True:
                item = await outcomes.get()
                if item is None:
                    break
                if isinstance(item, BaseException):
                    raise item
                yield item
        finally:
            if not feeder.done():
                feeder.cancel()
                # drain, so cancelled rows can settle their jobs
                while not feeder.done():
                    with contextlib.suppress(TimeoutError):
                        await asyncio.wait_for(outcomes.get(), timeout=0.05)
            log.info("batch_finished", clients=len(self._setups))


class _Claimed(Exception):
    """A followed job became ours (its runner's lease expired)."""

    def __init__(self, claimed: ClaimedJob) -> None:
        super().__init__(str(claimed.job.id))
        self.claimed = claimed
