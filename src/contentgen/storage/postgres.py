"""``PostgresStorage``: the backend for many workers on many machines (extra ``postgres``).

Selected by ``CONTENTGEN_DATABASE_URL=postgresql://USER:PASSWORD@HOST:PORT/DB`` (a Supabase
project's direct or pooler URL works). An asyncpg pool serves operations; ``open()`` applies the
shipped migrations under an advisory lock (a no-op when they are applied). Claiming, heartbeats
and finishing go through SQL functions of the migrations (``0002_job_queue.sql``): ``FOR UPDATE
SKIP LOCKED`` claims, leases in ``job_leases``, fencing tokens checked at finish. Budgets and
the usage report are in ``_pg_budgets`` (``0005_budgets.sql``).

A connection that dies under an operation (server restart, ``pg_terminate_backend``, network)
is retried once on a fresh connection: every operation is one transaction, so a retry either
repeats nothing that committed or is fenced (a finish whose first try committed finds the job
no longer running under its token and writes nothing).
"""

from __future__ import annotations

import asyncio
import json
import uuid
from collections.abc import Sequence
from datetime import datetime
from typing import Any, Self

from contentgen.errors import ContentgenError, StorageError
from contentgen.logs import get_logger
from contentgen.models import (
    Client,
    ContentPreference,
    ContentResult,
    ContentType,
    Job,
    JobAttempt,
    JobFilter,
    JobPage,
    JobStatus,
    LlmUsage,
    PromptJob,
    PromptTemplate,
    SeoRule,
    Strategy,
    StrategyHistoryEntry,
    UsageSummary,
)
from contentgen.storage import _checks as checks
from contentgen.storage import _pg_jobs as jobs
from contentgen.storage import _pg_setup as setup
from contentgen.storage._pg_budgets import Op, PostgresBudgets, T
from contentgen.storage.base import ClaimedJob, Lease
from contentgen.storage.postgres_conn import (
    create_pool,
    describe,
    import_asyncpg,
    looks_pooled,
)
from contentgen.storage.postgres_listen import JobChangeListener
from contentgen.storage.postgres_migrate import migrate

log = get_logger(__name__)


class PostgresStorage(PostgresBudgets):
    """Async ``Storage`` on PostgreSQL; ``async with PostgresStorage(url) as storage: ...``.

    ``pooled``: the URL goes through a pooler in transaction mode (PgBouncer, Supavisor): no
    prepared statement cache and no LISTEN. None guesses from the port (Supavisor's 6543).
    ``listen``: use LISTEN/NOTIFY for ``wait_for_change`` (else it polls).
    """

    def __init__(
        self,
        url: str,
        *,
        pool_size: int = 10,
        listen: bool = True,
        pooled: bool | None = None,
        migrate: bool = True,
    ) -> None:
        self._url = url
        self.pooled = looks_pooled(url) if pooled is None else pooled
        self.pool_size = pool_size
        self.auto_migrate = migrate
        self._pool: Any = None
        self._lifecycle = asyncio.Lock()
        self.changes = JobChangeListener(url, enabled=listen and not self.pooled)

    def __repr__(self) -> str:
        return f"PostgresStorage({describe(self._url)!r})"  # never the password

    # lifecycle ----------
    async def open(self) -> None:
        async with self._lifecycle:
            if self._pool is not None:
                return
            pool = await create_pool(self._url, pooled=self.pooled, max_size=self.pool_size)
            try:
                if self.auto_migrate:
                    async with pool.acquire() as conn:
                        await migrate(conn)
            except BaseException:
                await pool.close()
                raise
            self._pool = pool

    async def aclose(self) -> None:
        async with self._lifecycle:
            pool, self._pool = self._pool, None
            await self.changes.aclose()
            if pool is not None:
                await pool.close()

    async def __aenter__(self) -> Self:
        await self.open()
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.aclose()

    async def _run(self, op: Op[T]) -> T:
        """Run ``op(conn)`` on a pooled connection; one retry, on fresh connections, if the
        connection died."""
        pg = import_asyncpg()
        # A backend that was terminated while its connection sat idle in the pool surfaces as
        # one of these on the next use (InternalClientError: the FATAL message arrived while
        # asyncpg was not reading).
        lost = (pg.ConnectionDoesNotExistError, pg.InterfaceError, pg.AdminShutdownError,
                pg.InternalClientError, ConnectionError)  # fmt: skip
        for attempt in (1, 2):
            pool = self._pool
            if pool is None:
                raise checks.not_open(repr(self))
            try:
                async with pool.acquire() as conn:
                    return await op(conn)
            except ContentgenError:
                raise
            except lost as exc:
                if attempt == 2:
                    raise StorageError(
                        f"lost the connection to {describe(self._url)}: {exc}"
                    ) from exc
                log.warning("storage.connection_lost", error=str(exc), retrying=True)
                # the others in the pool died with it (a restart, a terminated session set):
                # replace them all, so the retry does not draw another dead one
                await pool.expire_connections()
            except (pg.PostgresError, OSError, TimeoutError) as exc:
                raise StorageError(f"database error on {describe(self._url)}: {exc}") from exc
        raise AssertionError("unreachable")

    # live updates ----------
    async def wait_for_change(
        self,
        job_id: uuid.UUID | None = None,
        timeout: float = 1.0,
        *,
        statuses: frozenset[str] | None = None,
    ) -> bool:
        """Wait until a job (``job_id``, or any) changes status — to one of ``statuses`` if
        given (``{"pending"}``: new work) — at most ``timeout`` seconds.

        True: something changed (LISTEN/NOTIFY). False: the time ran out, or LISTEN is off or
        unavailable and this was a plain sleep. Either way, re-read what you wait for.
        """
        return await self.changes.wait(job_id, timeout, statuses=statuses)

    # clients and setup ----------
    async def add_client(self, client: Client) -> Client:
        return await self._run(lambda c: setup.add_client(c, client))

    async def get_client(self, client_id: uuid.UUID) -> Client | None:
        return await self._run(lambda c: setup.get_client(c, client_id))

    async def get_client_by_name(self, name: str) -> Client | None:
        return await self._run(lambda c: setup.get_client_by_name(c, name))

    async def list_clients(self) -> list[Client]:
        return await self._run(setup.list_clients)

    async def rename_client(self, client_id: uuid.UUID, name: str) -> Client:
        return await self._run(lambda c: setup.rename_client(c, client_id, name))

    async def delete_client(self, client_id: uuid.UUID) -> None:
        await self._run(lambda c: setup.delete_client(c, client_id))

    async def setup_revision(self, client_id: uuid.UUID) -> int:
        return await self._run(lambda c: setup.setup_revision(c, client_id))

    async def insert_strategy(self, strategy: Strategy, entry: StrategyHistoryEntry) -> Strategy:
        return await self._run(lambda c: setup.insert_strategy(c, strategy, entry))

    async def set_active_strategy(
        self, client_id: uuid.UUID, version: int, entry: StrategyHistoryEntry
    ) -> Strategy | None:
        return await self._run(lambda c: setup.set_active_strategy(c, client_id, version, entry))

    async def get_strategy(
        self, client_id: uuid.UUID, version: int | None = None
    ) -> Strategy | None:
        return await self._run(lambda c: setup.get_strategy(c, client_id, version))

    async def list_strategies(self, client_id: uuid.UUID) -> list[Strategy]:
        return await self._run(lambda c: setup.list_strategies(c, client_id))

    async def strategy_history(self, client_id: uuid.UUID) -> list[StrategyHistoryEntry]:
        return await self._run(lambda c: setup.strategy_history(c, client_id))

    async def add_seo_rule(self, rule: SeoRule) -> SeoRule:
        return await self._run(lambda c: setup.add_seo_rule(c, rule))

    async def list_seo_rules(self, client_id: uuid.UUID) -> list[SeoRule]:
        return await self._run(lambda c: setup.list_seo_rules(c, client_id))

    async def delete_seo_rule(self, client_id: uuid.UUID, name: str) -> bool:
        return await self._run(lambda c: setup.delete_seo_rule(c, client_id, name))

    async def set_preference(self, pref: ContentPreference) -> ContentPreference:
        return await self._run(lambda c: setup.set_preference(c, pref))

    async def list_preferences(self, client_id: uuid.UUID) -> list[ContentPreference]:
        return await self._run(lambda c: setup.list_preferences(c, client_id))

    async def delete_preference(self, client_id: uuid.UUID, key: str) -> bool:
        return await self._run(lambda c: setup.delete_preference(c, client_id, key))

    async def insert_template(self, template: PromptTemplate) -> PromptTemplate:
        return await self._run(lambda c: setup.insert_template(c, template))

    async def get_template(
        self, client_id: uuid.UUID, content_type: ContentType, version: int | None = None
    ) -> PromptTemplate | None:
        return await self._run(lambda c: setup.get_template(c, client_id, content_type, version))

    async def list_templates(self, client_id: uuid.UUID) -> list[PromptTemplate]:
        return await self._run(lambda c: setup.list_templates(c, client_id))

    # jobs ----------
    async def create_job(self, job: Job) -> Job:
        return await self._run(lambda c: jobs.create_job(c, job))

    async def get_job(self, job_id: uuid.UUID) -> Job | None:
        return await self._run(lambda c: jobs.get_job(c, job_id))

    async def find_jobs_by_prefix(self, prefix: str, limit: int = 2) -> list[Job]:
        return await self._run(lambda c: jobs.find_jobs_by_prefix(c, prefix.lower(), limit))

    async def find_job_by_key(self, key: str) -> Job | None:
        return await self._run(lambda c: jobs.find_job_by_key(c, key))

    async def list_jobs(self, filt: JobFilter) -> JobPage:
        return await self._run(lambda c: jobs.list_jobs(c, filt))

    async def count_jobs(self, client_id: uuid.UUID) -> int:
        return await self._run(lambda c: jobs.count_jobs(c, client_id))

    async def list_usage(self, job_id: uuid.UUID) -> list[LlmUsage]:
        return await self._run(lambda c: jobs.list_usage(c, job_id))

    async def usage_summary(
        self,
        *,
        client_id: uuid.UUID | None = None,
        since: datetime | None = None,
        until: datetime | None = None,
    ) -> list[UsageSummary]:
        return await self._run(lambda c: jobs.usage_summary(c, client_id, since, until))

    async def claim_jobs(
        self,
        holder: str,
        *,
        limit: int,
        lease_seconds: float,
        max_attempts: int,
        job_id: uuid.UUID | None = None,
    ) -> list[ClaimedJob]:
        return await self._run(
            lambda c: jobs.claim_jobs(
                c, holder, limit=limit, lease_seconds=lease_seconds,
                max_attempts=max_attempts, job_id=job_id,
            )
        )  # fmt: skip

    async def heartbeat(self, lease: Lease, lease_seconds: float) -> Lease | None:
        return await self._run(lambda c: jobs.heartbeat(c, lease, lease_seconds))

    async def finish_job(
        self,
        lease: Lease,
        *,
        status: JobStatus,
        result: ContentResult | None = None,
        error: str | None = None,
        usage: Sequence[LlmUsage] = (),
        strategy_version: int | None = None,
        template_version: str | None = None,
    ) -> Job | None:
        client_id = usage[0].client_id if usage else None
        args = jobs.finish_args(
            lease, status, result, error, usage, strategy_version, template_version, client_id
        )
        return await self._run(lambda c: jobs.finish_job(c, lease, args))

    async def release_job(self, lease: Lease, *, usage: Sequence[LlmUsage] = ()) -> bool:
        docs = jobs.release_usage(lease, usage)
        encoded = None if docs is None else json.dumps(docs)
        return await self._run(lambda c: jobs.release_job(c, lease, encoded))

    async def store_fenced_usage(self, lease: Lease, usage: Sequence[LlmUsage]) -> int:
        return await self._run(lambda c: jobs.store_fenced_usage(c, lease, usage))

    async def cancel_job(self, job_id: uuid.UUID) -> Job:
        return await self._run(lambda c: jobs.cancel_job(c, job_id))

    async def retry_job(self, job_id: uuid.UUID) -> Job:
        return await self._run(lambda c: jobs.retry_job(c, job_id))

    async def job_attempts(self, job_id: uuid.UUID) -> list[JobAttempt]:
        return await self._run(lambda c: jobs.job_attempts(c, job_id))

    # prompt jobs ----------
    async def save_prompt_job(self, job: PromptJob) -> PromptJob:
        return await self._run(lambda c: setup.save_prompt_job(c, job))

    async def get_prompt_job(self, job_id: uuid.UUID) -> PromptJob | None:
        return await self._run(lambda c: setup.get_prompt_job(c, job_id))
