"""Live job status for ``GET /status/{job_id}/events`` (server-sent events).

One ``JobWatcher`` per app polls the jobs somebody is watching (one read per job per
interval, however many subscribers it has) and hears at once about changes this process makes
(``notify``). Each subscriber has its own bounded queue; a slow one loses intermediate states,
never the latest. A subscriber that goes away only unsubscribes: the job runs on.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable

from contentgen.errors import NotFound
from contentgen.logs import get_logger
from contentgen.models import Job
from contentgen.server.bodies import status_body

log = get_logger()

QUEUE_SIZE = 8
PING_SECONDS = 15.0

Loader = Callable[[uuid.UUID], Awaitable[Job]]


class JobWatcher:
    def __init__(self, load: Loader, *, interval: float = 0.25) -> None:
        self._load = load
        self.interval = interval
        self._subscribers: dict[uuid.UUID, set[asyncio.Queue[Job]]] = {}
        self._last: dict[uuid.UUID, Job] = {}
        self._task: asyncio.Task[None] | None = None

    @contextlib.asynccontextmanager
    async def subscribe(self, job: Job) -> AsyncIterator[asyncio.Queue[Job]]:
        """A queue that receives the job each time its status changes from ``job``'s."""
        queue: asyncio.Queue[Job] = asyncio.Queue(QUEUE_SIZE)
        subscribers = self._subscribers.setdefault(job.id, set())
        self._publish(job)  # news for the others if it is newer than what they saw
        latest = self._last[job.id]
        if latest.updated_at > job.updated_at and latest.status is not job.status:
            _offer(queue, latest)
        subscribers.add(queue)
        if self._task is None or self._task.done():
            self._task = asyncio.create_task(self._poll(), name="job-watcher")
        try:
            yield queue
        finally:
            subscribers.discard(queue)
            if not subscribers:
                self._subscribers.pop(job.id, None)
                self._last.pop(job.id, None)

    def notify(self, job: Job) -> None:
        """A change made in this process: tell the job's subscribers now."""
        if job.id in self._subscribers:
            self._publish(job)

    def _publish(self, job: Job) -> None:
        last = self._last.get(job.id)
        if last is not None and (
            job.updated_at < last.updated_at
            or (job.updated_at == last.updated_at and job.status is last.status)
        ):
            return  # stale or already seen
        self._last[job.id] = job
        for queue in self._subscribers.get(job.id, ()):
            _offer(queue, job)

    async def _poll(self) -> None:
        while self._subscribers:
            for job_id in list(self._subscribers):
                try:
                    job = await self._load(job_id)
                except NotFound:
                    continue
                except Exception as exc:  # a database hiccup must not end every stream
                    log.warning("job_watch_failed", job_id=str(job_id), error=repr(exc))
                    continue
                self._publish(job)
            await asyncio.sleep(self.interval)

    async def aclose(self) -> None:
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task


def _offer(queue: asyncio.Queue[Job], job: Job) -> None:
    """Put without blocking; a full queue drops its oldest state (the latest always fits)."""
    if queue.full():
        queue.get_nowait()
    queue.put_nowait(job)


async def status_events(watcher: JobWatcher, job: Job) -> AsyncIterator[dict[str, str]]:
    """SSE events of one job: its status now, then one per change, ending at a final status.

    Each event is ``event: status``, ``id: N`` (1, 2, ...) and the ``/status`` body as data."""
    seq = 1
    yield {"event": "status", "id": str(seq), "data": json.dumps(status_body(job))}
    if job.status.finished:
        return
    async with watcher.subscribe(job) as queue:
        current = job
        while not current.status.finished:
            update = await queue.get()
            if update.status is current.status:
                continue
            current = update
            seq += 1
            yield {"event": "status", "id": str(seq), "data": json.dumps(status_body(current))}
