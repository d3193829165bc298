"""The batch engine: many requests through the pipeline with bounded concurrency.

Requests stream in; at most ``concurrency`` model calls are in flight (and a few more jobs,
prepared ahead); outcomes stream out as jobs finish (not in input order). Each request's
identity (``ContentRequest.identity()``) is stored on its job, so a resumed batch reuses
completed jobs and never pays twice. A stop event ends intake: running jobs finish;
cancelled ones are marked failed ("interrupted") for re-run. Every job is created pending and
claimed (leased) before its prompt is built, like any other job.
"""

from __future__ import annotations

import asyncio
import contextlib
import uuid
from collections.abc import AsyncGenerator, AsyncIterable
from dataclasses import dataclass

from contentgen.errors import ContentgenError
from contentgen.instructions.builder import InstructionsModule
from contentgen.instructions.setup import EffectiveSetup
from contentgen.logs import get_logger
from contentgen.models import ContentRequest, Job, JobStatus
from contentgen.production.pipeline import Pipeline
from contentgen.storage.base import ClaimedJob, Storage

log = get_logger()
INTERRUPTED = "interrupted before it finished; re-run the batch with --resume"


def prefetch(concurrency: int) -> int:
    """Jobs a batch keeps ready beyond its calls in flight (see ``BatchEngine.run``)."""
    return max(1, concurrency // 4)


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
    ) -> None:
        self.storage = storage
        self.instructions = instructions
        self.pipeline = pipeline
        self.concurrency = concurrency
        self._setups: dict[uuid.UUID, EffectiveSetup] = {}

    async def _setup(self, client_id: uuid.UUID) -> EffectiveSetup:
        """Each client's strategy is loaded once per batch."""
        setup = self._setups.get(client_id)
        if setup is None:
            setup = await self.instructions.setup_for(client_id)
            self._setups[client_id] = setup
        return setup

    async def run(
        self,
        requests: AsyncIterable[tuple[int, ContentRequest]],
        *,
        resume: bool = False,
        stop: asyncio.Event | None = None,
    ) -> AsyncGenerator[BatchOutcome, None]:
        stop = stop or asyncio.Event()
        outcomes: asyncio.Queue[BatchOutcome | BaseException | None] = asyncio.Queue(
            maxsize=self.concurrency * 4
        )
        # ``concurrency`` bounds model calls in flight. Jobs in flight may exceed it by a few
        # (``prefetch``): the next jobs are claimed while calls run, so a finished call's slot
        # is taken at once, and storing/analysing results happens outside the call slots.
        # A stop ends intake only: jobs already claimed still run.
        calls = asyncio.Semaphore(self.concurrency)
        slots = asyncio.Semaphore(self.concurrency + prefetch(self.concurrency))
        running: dict[asyncio.Task[None], ClaimedJob] = {}
        unclaimed: list[Job] = []  # created, not claimed yet: a cancel must not lose them

        async def run_one(
            index: int, claimed: ClaimedJob, setup: EffectiveSetup | BaseException
        ) -> None:
            try:
                if isinstance(setup, BaseException):
                    raise setup
                done = await self.pipeline.run_claimed(
                    claimed, setup, call_slots=calls, cache=False
                )
            except asyncio.CancelledError:
                done = await asyncio.shield(self.pipeline.fail(claimed, INTERRUPTED))
                await outcomes.put(BatchOutcome(index, done))
                raise
            except Exception as exc:  # storage failure: the job cannot be trusted
                done = await self.pipeline.fail(claimed, f"{type(exc).__name__}: {exc}")
            finally:
                slots.release()
            await outcomes.put(BatchOutcome(index, done))

        async def produce() -> None:
            async for index, request in requests:
                if stop.is_set():
                    break
                key = request.identity()
                previous = await self.storage.find_job_by_key(key) if resume else None
                if previous is not None and previous.status is JobStatus.COMPLETED:
                    await outcomes.put(BatchOutcome(index, previous, reused=True))
                    continue
                await slots.acquire()
                if stop.is_set():
                    slots.release()
                    break
                claimed = None
                if previous is not None and not previous.status.finished:
                    claimed = await self.pipeline.claim(previous.id)  # an earlier run's job
                if claimed is None:
                    job = Job(params=request, request_key=key)
                    unclaimed.append(job)  # known before the await
                    await self.storage.create_job(job)
                    claimed = await self.pipeline.claim(job.id)
                    unclaimed.clear()
                if claimed is None:  # cancelled under us meanwhile
                    slots.release()
                    continue
                setup: EffectiveSetup | BaseException
                try:
                    setup = await self._setup(request.client_id)
                except Exception as exc:  # storage failure: this row cannot run
                    setup = exc
                task = asyncio.create_task(run_one(index, claimed, setup))
                running[task] = claimed
                task.add_done_callback(lambda t: running.pop(t, None))
            if running:
                await asyncio.gather(*list(running), return_exceptions=True)

        async def producer() -> None:
            try:
                await produce()
            except BaseException as exc:
                in_flight = dict(running)
                for task in in_flight:
                    task.cancel()
                await asyncio.gather(*in_flight, return_exceptions=True)
                for job in unclaimed:  # created but not claimed: fail it for --resume
                    with contextlib.suppress(ContentgenError):
                        claimed = await self.pipeline.claim(job.id)
                        if claimed is not None:
                            await self.pipeline.fail(claimed, INTERRUPTED)
                await outcomes.put(exc)
                if isinstance(exc, asyncio.CancelledError):
                    raise
            else:
                await outcomes.put(None)

        feeder = asyncio.create_task(producer())
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
                # drain so cancelled jobs can record themselves as interrupted
                while not feeder.done():
                    with contextlib.suppress(TimeoutError):
                        await asyncio.wait_for(outcomes.get(), timeout=0.05)
            log.info("batch_finished", clients=len(self._setups))
