"""Running stored jobs in this process on the local client (a mixin of ``LocalClient``):
workers, single claims and batches, all over the client's pipeline.
"""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import AsyncGenerator, AsyncIterable, AsyncIterator, Callable, Iterable
from contextlib import aclosing
from typing import TYPE_CHECKING

from contentgen.errors import ClientNotFound
from contentgen.models import ContentRequest, Job

if TYPE_CHECKING:
    from contentgen.instructions.builder import InstructionsModule
    from contentgen.production.batch import BatchOutcome
    from contentgen.production.pipeline import JobRun, Pipeline
    from contentgen.production.worker import Worker, WorkerStats
    from contentgen.settings import Settings
    from contentgen.storage.base import ClaimedJob, Storage


class WorkerApi:
    """Mixin: needs ``settings``, ``storage``, ``instructions``, ``scope``, ``pipeline`` and
    ``in_scope`` (``LocalClient`` has them)."""

    settings: Settings
    storage: Storage
    instructions: InstructionsModule
    scope: frozenset[uuid.UUID] | None

    if TYPE_CHECKING:  # provided by LocalClient; no stubs at run time (they would shadow it)

        @property
        def pipeline(self) -> Pipeline: ...

        def in_scope(self, client_id: uuid.UUID) -> bool: ...

    async def run_job(self, job: Job) -> Job:
        """Claim a job and run it here and now; returns it finished, or as it is when another
        runner holds it (or it is finished)."""
        run = await self.pipeline.run(job.id)
        if run is not None:
            return run.job
        current = await self.storage.get_job(job.id)
        return current if current is not None else job

    def worker(
        self, concurrency: int | None = None, *, grace: float = 30.0, poll: float = 0.2,
        max_poll: float = 2.0, on_start: Callable[[Job], None] | None = None,
        on_finish: Callable[[JobRun], None] | None = None,
    ) -> Worker:  # fmt: skip
        """A worker over this client's pipeline, not running yet (``await w.run(stop)``);
        the server keeps it to wake it when a job is queued."""
        from contentgen.production.worker import Worker

        return Worker(
            self.pipeline, concurrency=concurrency or self.settings.concurrency, poll=poll,
            max_poll=max_poll, grace=grace, on_start=on_start, on_finish=on_finish,
        )  # fmt: skip

    async def run_worker(
        self, concurrency: int | None = None, *, stop: asyncio.Event | None = None,
        once: bool = False, grace: float = 30.0, poll: float = 0.2, max_poll: float = 2.0,
        on_start: Callable[[Job], None] | None = None,
        on_finish: Callable[[JobRun], None] | None = None,
    ) -> WorkerStats:  # fmt: skip
        """Run jobs from storage (any process may have queued them) until ``stop`` is set;
        with ``once``, until none is left to claim (``contentgen jobs recover``). On stop,
        running jobs get ``grace`` seconds, then they are released for another worker."""
        worker = self.worker(concurrency, grace=grace, poll=poll, max_poll=max_poll,
                             on_start=on_start, on_finish=on_finish)  # fmt: skip
        return await worker.run(stop, once=once)

    async def claim_jobs(self, limit: int) -> list[ClaimedJob]:
        """Claim up to ``limit`` runnable jobs (pending, or in progress under an expired
        lease), oldest first, for this process (a worker's step)."""
        return await self.pipeline.claim(limit=limit)

    async def run_claimed(self, claimed: ClaimedJob) -> Job:
        """Run a claimed job to its end under its lease (heartbeats, fencing); a cancel
        hands it back (pending)."""
        return (await self.pipeline.run_claimed(claimed)).job

    async def batch(
        self,
        requests: Iterable[ContentRequest | tuple[int, ContentRequest]]
        | AsyncIterable[tuple[int, ContentRequest]],
        *,
        resume: bool = False,
        concurrency: int | None = None,
        stop: asyncio.Event | None = None,
        on_halt: Callable[[str], None] | None = None,
    ) -> AsyncGenerator[BatchOutcome, None]:
        """Run many requests; yields each outcome as its job finishes (any order).

        Requests may be plain (numbered 0, 1, ... in ``BatchOutcome.index``) or (index,
        request) pairs. With ``resume``, a request whose identity already has a completed job
        is not run again (``BatchOutcome.reused``). Setting ``stop`` ends intake; running
        jobs finish. When the provider cannot be reached for several rows in a row, the
        batch stops taking rows by itself and calls ``on_halt`` with the reason.
        """
        if self.scope is not None:
            requests = self._in_scope_only(_numbered(requests))
        from contentgen.production.batch import BatchEngine

        engine = BatchEngine(
            self.storage, self.instructions, self.pipeline,
            concurrency=concurrency or self.settings.concurrency,
        )  # fmt: skip
        outcomes = engine.run(_numbered(requests), resume=resume, stop=stop, on_halt=on_halt)
        async with aclosing(outcomes):
            async for outcome in outcomes:
                yield outcome

    async def _in_scope_only(
        self, requests: AsyncIterator[tuple[int, ContentRequest]]
    ) -> AsyncIterator[tuple[int, ContentRequest]]:
        async for index, request in requests:
            if not self.in_scope(request.client_id):
                raise ClientNotFound(str(request.client_id))
            yield index, request


async def _numbered(
    requests: Iterable[ContentRequest | tuple[int, ContentRequest]]
    | AsyncIterable[tuple[int, ContentRequest]],
) -> AsyncIterator[tuple[int, ContentRequest]]:
    if isinstance(requests, AsyncIterable):
        async for pair in requests:
            yield pair
        return
    for i, item in enumerate(requests):
        yield item if isinstance(item, tuple) else (i, item)
