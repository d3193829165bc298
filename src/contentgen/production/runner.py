"""Jobs this process submitted, run here at once (``LocalClient.submit``), through the same
claim path as every other runner: a job another runner claimed first is simply not run here.

Each job is one named asyncio task; at most ``concurrency`` run at once."""

from __future__ import annotations

import asyncio
import uuid

from contentgen.llm.base import TextCallback
from contentgen.logs import get_logger
from contentgen.production.pipeline import JobRun, Pipeline, RunControl

log = get_logger()


class JobRunner:
    def __init__(self, pipeline: Pipeline, concurrency: int) -> None:
        self.pipeline = pipeline
        self._slots = asyncio.Semaphore(concurrency)
        self._tasks: dict[uuid.UUID, asyncio.Task[JobRun | None]] = {}
        self._controls: dict[uuid.UUID, RunControl] = {}

    def schedule(
        self, job_id: uuid.UUID, *, on_text: TextCallback | None = None
    ) -> asyncio.Task[JobRun | None]:
        control = RunControl("release")
        task = asyncio.create_task(self._run(job_id, control, on_text), name=f"job-{job_id}")
        self._tasks[job_id] = task
        self._controls[job_id] = control
        task.add_done_callback(lambda t: self._done(job_id, t))
        return task

    def _done(self, job_id: uuid.UUID, task: asyncio.Task[JobRun | None]) -> None:
        self._tasks.pop(job_id, None)
        self._controls.pop(job_id, None)
        if not task.cancelled() and task.exception() is not None:
            exc = task.exception()
            log.error("job_task_crashed", job_id=str(job_id), error=repr(exc))

    async def _run(
        self, job_id: uuid.UUID, control: RunControl, on_text: TextCallback | None
    ) -> JobRun | None:
        async with self._slots:
            return await self.pipeline.run(job_id, control=control, on_text=on_text)

    def task_for(self, job_id: uuid.UUID) -> asyncio.Task[JobRun | None] | None:
        return self._tasks.get(job_id)

    async def cancel(self, job_id: uuid.UUID) -> bool:
        """Stop the job's model call at once and end it ``cancelled`` (``completed`` if the
        piece was written already); False when it does not run here."""
        task = self._tasks.get(job_id)
        if task is None:
            return False
        self._controls[job_id].on_cancel = "cancel"
        task.cancel()
        await asyncio.gather(task, return_exceptions=True)
        return True

    @property
    def active(self) -> int:
        return len(self._tasks)

    async def aclose(self, *, cancel: bool = False) -> None:
        """Let running jobs finish (or stop them: each is released back to pending, for a
        worker or a later run)."""
        tasks = list(self._tasks.values())
        if cancel:
            for task in tasks:
                task.cancel()
        if tasks:
            await asyncio.gather(*tasks, return_exceptions=True)
