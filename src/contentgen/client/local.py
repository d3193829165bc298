"""``LocalClient``: wires the backends from settings and runs jobs in-process.

::

    async with LocalClient.from_settings() as cg:
        job = await cg.generate(topic="Solar panels for small offices", client="acme")
        print(job.result.content)

It implements ``ContentClient`` (``client/base.py``). ``Client`` is the old name of this class,
kept as an alias for one release. ``scoped(clients)`` gives a view that sees only those
clients (and their jobs and prompt jobs): the rule the server applies to a token.
"""

from __future__ import annotations

import asyncio
import contextlib
import copy
import uuid
from collections import Counter
from collections.abc import AsyncGenerator, AsyncIterable, AsyncIterator, Callable, Iterable
from contextlib import aclosing
from typing import TYPE_CHECKING, Any, Self

from pydantic import ValidationError

from contentgen.cache.base import Cache
from contentgen.cache.factory import open_cache
from contentgen.client.base import decode_cursor, encode_cursor
from contentgen.client.budget_api import BudgetApi
from contentgen.client.setup_api import SetupApi
from contentgen.errors import (
    ClientNotFound,
    Conflict,
    Forbidden,
    InvalidInput,
    JobFailed,
    JobNotFound,
    PromptJobNotFound,
)
from contentgen.instructions.builder import BuiltPrompt, InstructionsModule
from contentgen.llm.base import LLM, TextCallback
from contentgen.logs import get_logger
from contentgen.models import (
    Client as ClientRecord,
)
from contentgen.models import (
    ContentRequest,
    Job,
    JobFilter,
    JobPage,
    JobStatus,
    PromptJob,
    PromptRequest,
    invalid_input_from,
)
from contentgen.settings import Settings
from contentgen.storage.base import ClaimedJob, Storage
from contentgen.storage.factory import open_storage

if TYPE_CHECKING:
    from contentgen.llm.router import Router
    from contentgen.llm.routing import Route
    from contentgen.production.batch import BatchOutcome
    from contentgen.production.pipeline import JobRun, Pipeline
    from contentgen.production.runner import JobRunner
    from contentgen.production.worker import Worker, WorkerStats

log = get_logger()

ClientRef = str | uuid.UUID | None


class LocalClient(SetupApi, BudgetApi):
    """The local client: storage, cache, IM, pipeline and runner in this process."""

    #: The clients this view may use (None: all); see ``scoped``.
    scope: frozenset[uuid.UUID] | None = None
    #: False in a server with separate workers: ``submit`` only queues the job.
    run_submitted: bool = True
    _owner: bool = True

    def __init__(
        self,
        settings: Settings,
        storage: Storage,
        cache: Cache,
        router: Router | None = None,
        *,
        overrides: dict[str, LLM] | None = None,
    ) -> None:
        self.settings = settings
        self.storage = storage
        self.cache = cache
        self.instructions = InstructionsModule(
            storage,
            cache,
            strategy_ttl=settings.strategy_cache_ttl,
            prompt_ttl=settings.prompt_cache_ttl,
        )
        # The model side (router, pipeline, runner) is built on first use, so commands that
        # only read (jobs, status, clients) never import it. One dict, shared by scoped views.
        self._parts: dict[str, Any] = {"router": router, "overrides": overrides}
        self._opened = False

    @property
    def router(self) -> Router:
        router = self._parts["router"]
        if router is None:
            from contentgen.llm.router import Router

            router = self._parts["router"] = Router(
                self.settings, overrides=self._parts["overrides"]
            )
        return router  # type: ignore[no-any-return]

    @property
    def pipeline(self) -> Pipeline:
        pipeline = self._parts.get("pipeline")
        if pipeline is None:
            from contentgen.production.pipeline import Pipeline

            pipeline = self._parts["pipeline"] = Pipeline(
                self.settings, self.storage, self.instructions, self.router
            )
        return pipeline

    @property
    def runner(self) -> JobRunner:
        runner = self._parts.get("runner")
        if runner is None:
            from contentgen.production.runner import JobRunner

            runner = self._parts["runner"] = JobRunner(self.pipeline, self.settings.concurrency)
        return runner

    @classmethod
    def from_settings(
        cls,
        settings: Settings | None = None,
        *,
        llm: LLM | None = None,
        storage: Storage | None = None,
        cache: Cache | None = None,
    ) -> Self:
        """Build a client from settings (environment, .env, contentgen.toml).

        ``llm`` replaces every model backend (e.g. a ``FakeLLM`` in tests).
        """
        settings = settings or Settings()
        overrides: dict[str, LLM] | None = {"*": llm} if llm is not None else None
        return cls(
            settings,
            storage
            or open_storage(
                settings.database_url,
                listen=settings.database_listen,
                pooled=settings.database_pooled,
                pool_size=settings.database_pool_size,
                supabase_key=settings.supabase_key and settings.supabase_key.get_secret_value(),
            ),
            cache or open_cache(settings.cache_url),
            overrides=overrides,
        )

    async def __aenter__(self) -> Self:
        await self.open()
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.aclose()

    def scoped(self, clients: frozenset[uuid.UUID] | None) -> Self:
        """A view of this client limited to ``clients`` (None: all of them).

        A job, prompt job or client outside the scope is ``NotFound`` exactly like a missing
        one; adding or removing clients needs the whole scope. The view shares this client's
        backends: closing it closes nothing, the client it came from owns them."""
        view = copy.copy(self)
        if clients is not None and self.scope is not None:
            clients = clients & self.scope
        view.scope = frozenset(clients) if clients is not None else self.scope
        view._owner = False
        return view

    def in_scope(self, client_id: uuid.UUID) -> bool:
        return self.scope is None or client_id in self.scope

    async def open(self) -> None:
        if not self._owner:
            return
        if not self._opened:
            await self.storage.open()
            self._opened = True

    async def aclose(self) -> None:
        if not self._owner:
            return
        try:
            if self._parts.get("runner") is not None:
                await self.runner.aclose()
            await self.instructions.drain()
        finally:
            if self._parts["router"] is not None:
                await self.router.aclose()
            await self.cache.aclose()
            await self.storage.aclose()
            self._opened = False

    # requests -------------------------------------------------------------------------------
    async def make_request(self, client: ClientRef = None, **fields: Any) -> ContentRequest:
        """Validate fields into a ``ContentRequest`` (client by name, UUID or the default;
        content_type defaults to blog)."""
        fields.setdefault("content_type", "blog")
        try:
            ContentRequest(client_id=uuid.UUID(int=0), **fields)
        except ValidationError as exc:
            raise invalid_input_from(exc) from exc
        record = await self.resolve_client(client)
        return ContentRequest(client_id=record.id, **fields)

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
        job = await self.storage.get_job(_as_uuid(job_id))
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

    # prompts (IM) ---------------------------------------------------------------------------
    async def prompt(self, client: ClientRef = None, **fields: Any) -> BuiltPrompt:
        """Build the prompt a request would get, without calling a model."""
        request = await self.make_request(client, **fields)
        return await self.instructions.build(request.prompt_request())

    async def generate_prompt(self, request: PromptRequest) -> uuid.UUID:
        """Queue a prompt job (the reference's ``POST /generate-prompt``); returns its id."""
        if not self.in_scope(request.client_id):
            raise ClientNotFound(str(request.client_id))
        return await self.instructions.generate_prompt(request)

    async def get_prompt(self, job_id: uuid.UUID | str) -> PromptJob:
        try:
            job_uuid = _as_uuid(job_id)
        except JobNotFound:
            raise PromptJobNotFound(str(job_id)) from None
        job = await self.instructions.get_prompt(job_uuid)
        if not self.in_scope(job.params.client_id):
            raise PromptJobNotFound(str(job_id))
        return job

    # clients (scope) ------------------------------------------------------------------------
    async def resolve_client(self, ref: str | uuid.UUID | None) -> ClientRecord:
        """A client by UUID or name (``None``: the ``default`` client), within the scope."""
        if self.scope is not None and ref is None:
            raise ClientNotFound("default")
        record = await super().resolve_client(ref)
        if not self.in_scope(record.id):
            raise ClientNotFound(str(ref))
        return record

    async def list_clients(self) -> list[ClientRecord]:
        return [c for c in await super().list_clients() if self.in_scope(c.id)]

    async def add_client(self, name: str, parent: str | uuid.UUID | None = None) -> ClientRecord:
        if self.scope is not None:
            raise Forbidden("clients: adding a client needs access to every client")
        return await super().add_client(name, parent)

    async def remove_client(self, ref: str | uuid.UUID, *, force: bool = False) -> list[str]:
        if self.scope is not None:
            await self.resolve_client(ref)  # NotFound outside the scope
            raise Forbidden("clients: removing a client needs access to every client")
        return await super().remove_client(ref, force=force)

    async def check_ready(self) -> None:
        """Raise ``StorageError`` unless the database answers (the server's ``/readyz``)."""
        from contentgen.errors import StorageError

        try:
            await self.storage.get_job(uuid.UUID(int=0))
        except Exception as exc:
            raise StorageError(f"database unreachable: {type(exc).__name__}") from exc

    # models ---------------------------------------------------------------------------------
    def choose_model(
        self, *, model: str | None = None, provider: str | None = None, priority: str = "balanced"
    ) -> Route:
        """The route a request would take (``.model`` is its primary model, ``.reason`` why)."""
        return self.router.route(model=model, provider=provider, priority=priority)


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


#: The old name of ``LocalClient`` (kept for one release); ``contentgen.models.Client`` is the
#: client record.
Client = LocalClient


def _maybe_prefix(value: str) -> bool:
    """True for a short hex prefix like ``1a2b3c4d`` (not a whole UUID)."""
    value = value.strip().lower()
    return 4 <= len(value) < 36 and all(c in "0123456789abcdef-" for c in value)


def _as_uuid(value: uuid.UUID | str) -> uuid.UUID:
    if isinstance(value, uuid.UUID):
        return value
    try:
        return uuid.UUID(value)
    except ValueError as exc:
        raise JobNotFound(value) from exc
