"""``Client``: what users import. Wires the backends from settings and runs jobs in-process.

::

    async with Client.from_settings() as cg:
        job = await cg.generate(topic="Solar panels for small offices", client="acme")
        print(job.result.content)
"""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import AsyncGenerator, AsyncIterable, AsyncIterator, Iterable
from contextlib import aclosing
from typing import Any, Self

from pydantic import ValidationError

from contentgen.cache.base import Cache
from contentgen.cache.factory import open_cache
from contentgen.client.setup_api import SetupApi
from contentgen.errors import InvalidInput, JobFailed, JobNotFound
from contentgen.instructions.builder import BuiltPrompt, InstructionsModule
from contentgen.llm.base import LLM
from contentgen.llm.router import Router
from contentgen.llm.routing import Route
from contentgen.logs import get_logger
from contentgen.models import (
    ContentRequest,
    Job,
    JobFilter,
    JobStatus,
    PromptJob,
    PromptRequest,
    invalid_input_from,
)
from contentgen.production.batch import BatchEngine, BatchOutcome
from contentgen.production.pipeline import Pipeline
from contentgen.production.runner import JobRunner
from contentgen.settings import Settings
from contentgen.storage.base import Storage
from contentgen.storage.factory import open_storage

log = get_logger()

ClientRef = str | uuid.UUID | None


class Client(SetupApi):
    """The local client: storage, cache, IM, pipeline and runner in this process."""

    def __init__(
        self,
        settings: Settings,
        storage: Storage,
        cache: Cache,
        router: Router,
    ) -> None:
        self.settings = settings
        self.storage = storage
        self.cache = cache
        self.router = router
        self.instructions = InstructionsModule(
            storage,
            cache,
            strategy_ttl=settings.strategy_cache_ttl,
            prompt_ttl=settings.prompt_cache_ttl,
        )
        self.pipeline = Pipeline(settings, storage, self.instructions, router)
        self.runner = JobRunner(self.pipeline, settings.concurrency)
        self._opened = False

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
        overrides = {"*": llm} if llm is not None else None
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
            Router(settings, overrides=overrides),
        )

    async def __aenter__(self) -> Self:
        await self.open()
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.aclose()

    async def open(self) -> None:
        if not self._opened:
            await self.storage.open()
            self._opened = True

    async def aclose(self) -> None:
        try:
            await self.runner.aclose()
            await self.instructions.drain()
        finally:
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

    async def submit(self, request: ContentRequest | None = None, **fields: Any) -> uuid.UUID:
        """Create a pending job and start it in the background; returns its id at once."""
        if request is None:
            request = await self.make_request(**fields)
        elif await self.storage.get_client(request.client_id) is None:
            await self.resolve_client(request.client_id)  # raises ClientNotFound
        # A missing provider key or extra fails here, before a job exists (issue 7, point 6).
        await self.router.check(request)
        job = await self.storage.create_job(Job(params=request))
        log.info("job_submitted", job_id=str(job.id), client_id=str(request.client_id))
        self.runner.schedule(job)
        return job.id

    async def status(self, job_id: uuid.UUID | str) -> Job:
        """A job by id, or by a unique prefix of its id (at least 4 characters)."""
        if isinstance(job_id, str) and _maybe_prefix(job_id):
            found = await self.storage.find_jobs_by_prefix(job_id.strip(), limit=2)
            if len(found) == 1:
                return found[0]
            if len(found) > 1:
                raise InvalidInput(
                    f"job: {job_id!r} matches several jobs; give more characters", field="job"
                )
            raise JobNotFound(job_id)
        job = await self.storage.get_job(_as_uuid(job_id))
        if job is None:
            raise JobNotFound(str(job_id))
        return job

    async def wait(
        self, job_id: uuid.UUID | str, *, timeout: float | None = None, poll: float = 0.5
    ) -> Job:
        """Wait until the job is finished and return it (whatever its final status)."""
        job_uuid = _as_uuid(job_id)
        task = self.runner.task_for(job_uuid)
        async with asyncio.timeout(timeout):
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
        """Submit and wait. Raises ``JobFailed`` (with the job id) if the job failed."""
        job_id = await self.submit(request, **fields)
        job = await self.wait(job_id, timeout=timeout)
        if job.status is JobStatus.FAILED:
            raise JobFailed(str(job.id), job.error or "unknown error")
        return job

    async def jobs(self, filt: JobFilter | None = None, **fields: Any) -> list[Job]:
        return (await self.storage.list_jobs(filt or JobFilter(**fields))).jobs

    async def batch(
        self,
        requests: Iterable[ContentRequest | tuple[int, ContentRequest]]
        | AsyncIterable[tuple[int, ContentRequest]],
        *,
        resume: bool = False,
        concurrency: int | None = None,
        stop: asyncio.Event | None = None,
    ) -> AsyncGenerator[BatchOutcome, None]:
        """Run many requests; yields each outcome as its job finishes (any order).

        Requests may be plain (numbered 0, 1, ... in ``BatchOutcome.index``) or (index,
        request) pairs. With ``resume``, a request whose identity already has a completed job
        is not run again (``BatchOutcome.reused``). Setting ``stop`` ends intake; running
        jobs finish.
        """
        engine = BatchEngine(
            self.storage, self.instructions, self.pipeline,
            concurrency=concurrency or self.settings.concurrency,
        )  # fmt: skip
        outcomes = engine.run(_numbered(requests), resume=resume, stop=stop)
        async with aclosing(outcomes):
            async for outcome in outcomes:
                yield outcome

    # prompts (IM) ---------------------------------------------------------------------------
    async def prompt(self, client: ClientRef = None, **fields: Any) -> BuiltPrompt:
        """Build the prompt a request would get, without calling a model."""
        request = await self.make_request(client, **fields)
        return await self.instructions.build(request.prompt_request())

    async def generate_prompt(self, request: PromptRequest) -> uuid.UUID:
        return await self.instructions.generate_prompt(request)

    async def get_prompt(self, job_id: uuid.UUID | str) -> PromptJob:
        return await self.instructions.get_prompt(_as_uuid(job_id))

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
