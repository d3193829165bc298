"""Jobs on the local client (a mixin of ``LocalClient``): submit, follow and control them
(status, wait, generate, cancel, retry) and list them page by page within the client's scope.
"""

from __future__ import annotations

import asyncio
import contextlib
import uuid
from collections import Counter
from typing import TYPE_CHECKING, Any

from contentgen.client.base import decode_cursor, encode_cursor
from contentgen.errors import ClientNotFound, Conflict, InvalidInput, JobFailed, JobNotFound
from contentgen.logs import get_logger
from contentgen.models import ContentRequest, Job, JobFilter, JobPage, JobStatus

if TYPE_CHECKING:
    from contentgen.llm.base import TextCallback
    from contentgen.llm.router import Router
    from contentgen.models import Client as ClientRecord
    from contentgen.production.runner import JobRunner
    from contentgen.storage.base import Storage

log = get_logger()


class JobsApi:
    """Mixin: needs ``storage``, ``scope``, ``run_submitted``, ``router``, ``runner``,
    ``in_scope``, ``make_request`` and ``resolve_client`` (``LocalClient`` has them)."""

    storage: Storage
    scope: frozenset[uuid.UUID] | None
    run_submitted: bool

    if TYPE_CHECKING:  # provided by LocalClient; no stubs at run time (they would shadow it)

        @property
        def router(self) -> Router: ...

        @property
        def runner(self) -> JobRunner: ...

        def in_scope(self, client_id: uuid.UUID) -> bool: ...

        async def make_request(
            self, client: str | uuid.UUID | None = None, **fields: Any
        ) -> ContentRequest: ...

        async def resolve_client(self, ref: str | uuid.UUID | None) -> ClientRecord: ...

    # run control ----------------------------------------------------------------------------
    async def submit(
        self, request: ContentRequest | None = None, *, on_text: TextCallback | None = None,
        **fields: Any,
    ) -> uuid.UUID:  # fmt: skip
        """Create a pending job and start it in the background (unless ``run_submitted`` is
        off: then a worker runs it); returns its id at once. Like every job, it is claimed
        before it runs: when a worker claims it first, it runs there instead."""
        if request is None:
            request = await self.make_request(**fields)
        elif not self.in_scope(request.client_id):
            raise ClientNotFound(str(request.client_id))
        elif await self.storage.get_client(request.client_id) is None:
            await self.resolve_client(request.client_id)  # raises ClientNotFound
        # A missing provider key or extra fails here, before a job exists (issue 7, point 6).
        await self.router.check(request)
        job = await self.storage.create_job(Job(params=request))
        log.info("job_submitted", job_id=str(job.id), client_id=str(request.client_id))
        if self.run_submitted:
            self.runner.schedule(job.id, on_text=on_text)
        return job.id

    async def status(self, job_id: uuid.UUID | str) -> Job:
        """A job by id, or by a unique prefix of its id (at least 4 characters)."""
        if isinstance(job_id, str) and _maybe_prefix(job_id):
            found = await self.storage.find_jobs_by_prefix(job_id.strip(), limit=2)
            if self.scope is not None:
                found = [j for j in found if self.in_scope(j.client_id)]
            if len(found) == 1:
                return found[0]
            if len(found) > 1:
                raise InvalidInput(
                    f"job: {job_id!r} matches several jobs; give more characters", field="job"
                )
            raise JobNotFound(job_id)
        job = await self.storage.get_job(as_uuid(job_id))
        if job is None or not self.in_scope(job.client_id):
            raise JobNotFound(str(job_id))
        return job

    async def wait(
        self, job_id: uuid.UUID | str, *, timeout: float | None = None, poll: float = 0.5
    ) -> Job:
        """Wait until the job is finished and return it (whatever its final status); raises
        ``TimeoutError`` after ``timeout`` seconds (the job goes on)."""
        async with asyncio.timeout(timeout):
            job_uuid = (await self.status(job_id)).id
            task = self.runner.task_for(job_uuid)
            if task is not None:
                await asyncio.shield(task)
            while True:
                job = await self.status(job_uuid)
                if job.status.finished:
                    return job
                await asyncio.sleep(poll)

    async def generate(
        self, request: ContentRequest | None = None, *, timeout: float | None = None,
        **fields: Any,
    ) -> Job:  # fmt: skip
        """Submit and wait. Raises ``JobFailed`` (with the job id) if the job failed.

        Cancelling the caller (Ctrl-C) stops the model call at once and ends the job
        ``cancelled`` (or ``completed``, if the piece was already written); a ``timeout``
        leaves the job running and raises ``TimeoutError``."""
        job_id = await self.submit(request, **fields)
        try:
            job = await self.wait(job_id, timeout=timeout)
        except asyncio.CancelledError:
            from contentgen.production.lease import settle

            await settle(self._cancel_quietly(job_id))
            raise
        if job.status is JobStatus.FAILED:
            raise JobFailed(str(job.id), job.error or "unknown error")
        return job

    async def preflight(self, request: ContentRequest) -> str | None:
        """Fail early (before a job is queued) when the request's model cannot run here;
        returns the model that will write it."""
        route = await self.router.check(request)  # a missing key or extra fails here
        return route.model

    async def cancel(self, job_id: uuid.UUID | str) -> Job:
        """pending or in_progress -> cancelled (a runner holding it is fenced off);
        ``Conflict`` for a finished job."""
        job = await self.status(job_id)
        if await self.runner.cancel(job.id):  # it runs here: stop its call, keep its usage
            job = await self.status(job.id)
            if job.status is JobStatus.CANCELLED:
                return job
        return await self.storage.cancel_job(job.id)

    async def retry(self, job_id: uuid.UUID | str) -> Job:
        """A failed or cancelled job runs again as a new attempt (its history is kept);
        ``Conflict`` for a completed one."""
        job = await self.status(job_id)
        retried = await self.storage.retry_job(job.id)
        if self.run_submitted:
            self.runner.schedule(retried.id)
        return retried

    async def _cancel_quietly(self, job_id: uuid.UUID) -> None:
        """Cancel a job this caller gave up on; one that finished meanwhile stays as it is."""
        with contextlib.suppress(Conflict):
            await self.cancel(job_id)

    # listing --------------------------------------------------------------------------------
    async def jobs(self, filt: JobFilter | None = None, **fields: Any) -> list[Job]:
        """Recent jobs, newest first (``filt.limit`` of them)."""
        return (await self.jobs_page(filt or JobFilter(**fields))).jobs

    async def jobs_page(
        self, filt: JobFilter | None = None, *, cursor: str | None = None
    ) -> JobPage:
        """One page of jobs, newest first; ``cursor`` is a page's ``next_cursor``.

        A view scoped to several clients lists each client's jobs and merges them: its cursor
        holds one storage cursor per client."""
        filt = filt or JobFilter()
        if filt.client_id is not None:
            if not self.in_scope(filt.client_id):
                raise ClientNotFound(str(filt.client_id))
            return await self._storage_page(filt, cursor)
        if self.scope is None:
            return await self._storage_page(filt, cursor)
        if len(self.scope) == 1:
            (only,) = self.scope
            return await self._storage_page(filt.model_copy(update={"client_id": only}), cursor)
        return await self._merged_page(filt, sorted(self.scope), cursor)

    async def _storage_page(self, filt: JobFilter, cursor: str | None) -> JobPage:
        try:
            return await self.storage.list_jobs(filt.model_copy(update={"cursor": cursor}))
        except (ValueError, InvalidInput) as exc:
            raise InvalidInput("cursor: not a cursor this server gave out",
                               field="cursor") from exc  # fmt: skip

    async def _merged_page(
        self, filt: JobFilter, clients: list[uuid.UUID], cursor: str | None
    ) -> JobPage:
        # state per client: "" = from its newest job, a storage cursor, or None = all listed
        state: dict[str, Any] = {str(c): "" for c in clients}
        if cursor is not None:
            given = decode_cursor(cursor)
            if not all(v is None or isinstance(v, str) for v in given.values()):
                raise InvalidInput("cursor: not a cursor this server gave out", field="cursor")
            state = {str(c): given.get(str(c)) for c in clients}
        pages: dict[uuid.UUID, tuple[str, JobPage]] = {}
        for client_id in clients:
            at = state[str(client_id)]
            if at is not None:
                one = filt.model_copy(update={"client_id": client_id})
                pages[client_id] = (at, await self._storage_page(one, at or None))
        merged = sorted(((c, j) for c, (_at, page) in pages.items() for j in page.jobs),
                        key=lambda pair: pair[1].created_at, reverse=True)  # fmt: skip
        taken = merged[: filt.limit]
        counts = Counter(c for c, _j in taken)
        after: dict[str, str | None] = {}
        for client_id, (at, page) in pages.items():
            n = counts[client_id]
            if n == len(page.jobs):
                after[str(client_id)] = page.next_cursor
            elif n == 0:
                after[str(client_id)] = at
            else:  # part of its page was taken: where exactly n jobs from `at` end
                cut = filt.model_copy(update={"client_id": client_id, "limit": n})
                after[str(client_id)] = (await self._storage_page(cut, at or None)).next_cursor
        more = any(v is not None for v in after.values())
        return JobPage(jobs=[j for _c, j in taken],
                       next_cursor=encode_cursor(after) if more else None)  # fmt: skip


def _maybe_prefix(value: str) -> bool:
    """True for a short hex prefix like ``1a2b3c4d`` (not a whole UUID)."""
    value = value.strip().lower()
    return 4 <= len(value) < 36 and all(c in "0123456789abcdef-" for c in value)


def as_uuid(value: uuid.UUID | str) -> uuid.UUID:
    """A job id as a UUID; ``JobNotFound`` for a string that is not one."""
    if isinstance(value, uuid.UUID):
        return value
    try:
        return uuid.UUID(value)
    except ValueError as exc:
        raise JobNotFound(value) from exc
