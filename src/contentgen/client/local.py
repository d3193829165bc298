"""``LocalClient``: wires the backends from settings and runs jobs in-process.

::

    async with LocalClient.from_settings() as cg:
        job = await cg.generate(topic="Solar panels for small offices", client="acme")
        print(job.result.content)

It implements ``ContentClient`` (``client/base.py``). ``Client`` is the old name of this class,
kept as an alias for one release. ``scoped(clients)`` gives a view that sees only those
clients (and their jobs and prompt jobs): the rule the server applies to a token.

Its methods come in mixins by concern: ``jobs_api`` (submit, status, wait, cancel, list),
``worker_api`` (workers, claims, batches), ``setup_api`` (clients, strategies) and
``budget_api`` (budgets, usage); this module wires the backends and applies the scope.
"""

from __future__ import annotations

import copy
import uuid
from typing import TYPE_CHECKING, Any, Self

from pydantic import ValidationError

from contentgen.cache.base import Cache
from contentgen.cache.factory import open_cache
from contentgen.client.budget_api import BudgetApi
from contentgen.client.jobs_api import JobsApi, as_uuid
from contentgen.client.setup_api import SetupApi
from contentgen.client.worker_api import WorkerApi
from contentgen.errors import ClientNotFound, Forbidden, JobNotFound, PromptJobNotFound
from contentgen.instructions.builder import BuiltPrompt, InstructionsModule
from contentgen.models import Client as ClientRecord
from contentgen.models import ContentRequest, PromptJob, PromptRequest, invalid_input_from
from contentgen.settings import Settings
from contentgen.storage.base import Storage
from contentgen.storage.factory import open_storage

if TYPE_CHECKING:
    from contentgen.llm.base import LLM
    from contentgen.llm.router import Router
    from contentgen.llm.routing import Route
    from contentgen.production.pipeline import Pipeline
    from contentgen.production.runner import JobRunner

ClientRef = str | uuid.UUID | None


class LocalClient(JobsApi, WorkerApi, SetupApi, BudgetApi):
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
            job_uuid = as_uuid(job_id)
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


#: The old name of ``LocalClient`` (kept for one release); ``contentgen.models.Client`` is the
#: client record.
Client = LocalClient
