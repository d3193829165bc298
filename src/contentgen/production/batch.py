"""The batch engine: many requests through the pipeline with bounded concurrency.

Requests stream in; at most ``concurrency`` model calls are in flight (and a few more jobs,
prepared ahead); outcomes stream out as jobs finish (not in input order). Each request's
identity (``ContentRequest.identity()``) is stored on its job, so a resumed batch reuses
completed jobs and never pays twice. A stop event ends intake: running jobs finish;
cancelled ones are marked failed ("interrupted") for re-run.
"""

from __future__ import annotations

import asyncio
import contextlib
import uuid
from collections.abc import AsyncGenerator, AsyncIterable
from dataclasses import dataclass

from contentgen.errors import ContentgenError
from contentgen.instructions.builder import BuiltPrompt, InstructionsModule
from contentgen.instructions.setup import EffectiveSetup
from contentgen.logs import get_logger
from contentgen.models import ContentRequest, Job, JobStatus
from contentgen.production.pipeline import Pipeline
from contentgen.storage.base import Storage

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

    async def _prepare(self, job: Job) -> tuple[Job, BuiltPrompt | None]:
        try:
            setup = await self._setup(job.client_id)
        except Exception as exc:  # storage failure: this row cannot run
            error = f"{type(exc).__name__}: {exc}"
            return job.model_copy(update={"status": JobStatus.FAILED, "error": error}), None
        return await self.pipeline.prepare(job, setup)

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
        # (``prefetch``): the next jobs are created while calls run, so a finished call's slot
        # is taken at once, and storing/analysing results happens outside the call slots.
        # A stop ends intake only: jobs already created (prepared ahead included) still run.
        calls = asyncio.Semaphore(self.concurrency)
        slots = asyncio.Semaphore(self.concurrency + prefetch(self.concurrency))
        running: dict[asyncio.Task[None], Job] = {}
        creating: list[Job] = []

        async def run_one(index: int, job: Job, built: BuiltPrompt) -> None:
            try:
                done = await self.pipeline.write(job, built, call_slots=calls)
            except asyncio.CancelledError:
                done = await asyncio.shield(self.storage.fail_job(job.id, INTERRUPTED, []))
                await outcomes.put(BatchOutcome(index, done))
                raise
            except Exception as exc:  # storage failure: the job cannot be trusted
                done = await self.storage.fail_job(job.id, f"{type(exc).__name__}: {exc}", [])
            finally:
                slots.release()
            await outcomes.put(BatchOutcome(index, done))

        async def produce() -> None:
            async for index, request in requests:
                if stop.is_set():
                    break
                key = request.identity()
                if resume:
                    previous = await self.storage.find_job_by_key(key)
                    if previous is not None and previous.status is JobStatus.COMPLETED:
                        await outcomes.put(BatchOutcome(index, previous, reused=True))
                        continue
                    if previous is not None and not previous.status.finished:
                        await self.storage.fail_job(previous.id, INTERRUPTED, [])
                await slots.acquire()
                if stop.is_set():
                    slots.release()
                    break
                job, built = await self._prepare(Job(params=request, request_key=key))
                creating.append(job)  # known before the await, so a cancel cannot lose it
                await self.storage.create_job(job)  # stored already started (or failed)
                creating.clear()
                if built is None:
                    slots.release()
                    await outcomes.put(BatchOutcome(index, job))
                    continue
                task = asyncio.create_task(run_one(index, job, built))
                running[task] = job
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
                for job in [*in_flight.values(), *creating]:  # not started or half-created
                    with contextlib.suppress(ContentgenError):
                        await self.storage.fail_job(job.id, INTERRUPTED, [])
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
