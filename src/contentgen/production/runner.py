"""Run jobs in-process with bounded concurrency; each job is one asyncio task."""

from __future__ import annotations

import asyncio
import uuid

from contentgen.logs import get_logger
from contentgen.models import Job
from contentgen.production.pipeline import Pipeline

log = get_logger()


class JobRunner:
    """Schedules jobs on the event loop; at most ``concurrency`` run at once."""

    def __init__(self, pipeline: Pipeline, concurrency: int) -> None:
        self.pipeline = pipeline
        self._slots = asyncio.Semaphore(concurrency)
        self._tasks: dict[uuid.UUID, asyncio.Task[Job]] = {}

    def schedule(self, job: Job) -> asyncio.Task[Job]:
        task = asyncio.create_task(self._run(job), name=f"job-{job.id}")
        self._tasks[job.id] = task
        task.add_done_callback(lambda _t: self._tasks.pop(job.id, None))
        return task

    async def _run(self, job: Job) -> Job:
        async with self._slots:
            return await self.pipeline.run(job)

    def task_for(self, job_id: uuid.UUID) -> asyncio.Task[Job] | None:
        return self._tasks.get(job_id)

    @property
    def active(self) -> int:
        return len(self._tasks)

    async def aclose(self, *, cancel: bool = False) -> None:
        """Let running jobs finish (or cancel them: they stay pending/in_progress in storage
        and can be resumed)."""
        tasks = list(self._tasks.values())
        if cancel:
            for task in tasks:
                task.cancel()
        if tasks:
            await asyncio.gather(*tasks, return_exceptions=True)
