"""``SqliteStorage``: the embedded default backend (stdlib ``sqlite3``).

One connection, used from one dedicated worker thread: every operation is a coroutine that
hands a small synchronous function to that thread, so operations are serialized without locks
and the event loop never blocks on disk. WAL with ``synchronous=NORMAL`` makes each commit cheap;
each call is one statement or one transaction.

Operations queue up in order and the worker runs every queued one per wake-up, handing the
results back in one event-loop callback: under load (a batch at 32 calls in flight) one
thread round trip serves several operations instead of one each (each costs ~85 µs of CPU
and wakes both threads).
"""

from __future__ import annotations

import asyncio
import contextlib
import sqlite3
import uuid
from collections import deque
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Generic, Self, TypeVar

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
    StrategyConfig,
    StrategyHistoryEntry,
)
from contentgen.storage import _checks as checks
from contentgen.storage import _sqlite_jobs as jobs
from contentgen.storage import _sqlite_leases as leases
from contentgen.storage import _sqlite_ops as ops
from contentgen.storage._migrate import load_migrations, migrate
from contentgen.storage.base import ClaimedJob, Lease

T = TypeVar("T")
Conn = sqlite3.Connection


@dataclass(frozen=True)
class _Op(Generic[T]):
    fn: Callable[[Conn], T]
    future: asyncio.Future[T]


log = get_logger(__name__)

PRAGMAS = (
    "PRAGMA busy_timeout = 5000",  # first, so that switching to WAL waits for other writers
    "PRAGMA journal_mode = WAL",
    "PRAGMA synchronous = NORMAL",
    "PRAGMA foreign_keys = ON",
)


def _connect(path: Path) -> tuple[Conn, list[int]]:
    """Open, configure and migrate; runs on the worker thread."""
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise StorageError(f"cannot create the directory for database {path}: {exc}") from exc
    try:
        conn = sqlite3.connect(
            path, check_same_thread=False, isolation_level=None, cached_statements=256
        )
    except sqlite3.Error as exc:
        raise StorageError(f"cannot open database {path}: {exc}") from exc
    try:
        for pragma in PRAGMAS:
            conn.execute(pragma)
        applied = migrate(conn, load_migrations())
    except BaseException:
        conn.close()
        raise
    return conn, applied


def _close(conn: Conn) -> None:
    try:
        conn.execute("PRAGMA optimize")
    finally:
        conn.close()


class SqliteStorage:
    """Async ``Storage`` in a SQLite file; ``async with SqliteStorage(path) as storage: ...``."""

    def __init__(self, path: Path | str) -> None:
        self.path = Path(path)
        self._conn: Conn | None = None
        self._executor: ThreadPoolExecutor | None = None
        self._lifecycle = asyncio.Lock()
        # Operations waiting for the worker; appended on the loop, taken by the worker.
        self._queue: deque[_Op[Any]] = deque()
        self._draining = False  # a drain is submitted and has not reported back yet

    def __repr__(self) -> str:
        return f"SqliteStorage({str(self.path)!r})"

    async def open(self) -> None:
        async with self._lifecycle:
            if self._conn is not None:
                return
            executor = ThreadPoolExecutor(max_workers=1, thread_name_prefix="contentgen-sqlite")
            loop = asyncio.get_running_loop()
            try:
                conn, applied = await loop.run_in_executor(executor, _connect, self.path)
            except BaseException as exc:
                executor.shutdown(wait=False)
                if isinstance(exc, sqlite3.Error):
                    raise StorageError(f"cannot open database {self.path}: {exc}") from exc
                raise
            self._conn, self._executor = conn, executor
        if applied:
            log.info("storage.migrated", path=str(self.path), versions=applied)

    async def aclose(self) -> None:
        async with self._lifecycle:
            conn, executor = self._conn, self._executor
            if conn is None or executor is None:
                return
            self._conn = self._executor = None
            try:
                # queued behind any drain already submitted, so it runs after those operations
                await asyncio.get_running_loop().run_in_executor(executor, _close, conn)
            finally:
                executor.shutdown(wait=False)
                if not self._draining:
                    self._fail_queued()

    async def __aenter__(self) -> Self:
        await self.open()
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.aclose()

    async def _call(self, fn: Callable[[Conn], T]) -> T:
        conn, executor = self._conn, self._executor
        if conn is None or executor is None:
            raise checks.not_open(repr(self))
        loop = asyncio.get_running_loop()
        future: asyncio.Future[T] = loop.create_future()
        self._queue.append(_Op(fn, future))
        if not self._draining:
            self._submit_drain(conn, executor, loop)
        try:
            return await future
        except ContentgenError:
            raise
        except sqlite3.Error as exc:
            raise StorageError(f"database error in {self.path}: {exc}") from exc

    def _drain(self, conn: Conn, loop: asyncio.AbstractEventLoop) -> None:
        """Worker thread: run every queued operation in order; report back once."""
        done: list[tuple[_Op[Any], Any, BaseException | None]] = []
        while self._queue:
            op = self._queue.popleft()
            if op.future.cancelled():  # as with run_in_executor: not started, never runs
                continue
            try:
                done.append((op, op.fn(conn), None))
            except BaseException as exc:  # handed to the caller, raised there
                done.append((op, None, exc))
        with contextlib.suppress(RuntimeError):  # a closed loop: nobody is waiting any more
            loop.call_soon_threadsafe(self._settle, done)

    def _settle(self, done: list[tuple[_Op[Any], Any, BaseException | None]]) -> None:
        """Event loop: resolve the drained operations; start another drain if more queued."""
        for op, result, error in done:
            if op.future.done():  # the caller was cancelled; the operation still ran
                continue
            if error is None:
                op.future.set_result(result)
            else:
                op.future.set_exception(error)
        self._draining = False
        if self._queue:
            conn, executor = self._conn, self._executor
            if conn is None or executor is None:
                self._fail_queued()
            else:
                self._submit_drain(conn, executor, asyncio.get_running_loop())

    def _submit_drain(
        self, conn: Conn, executor: ThreadPoolExecutor, loop: asyncio.AbstractEventLoop
    ) -> None:
        self._draining = True
        try:
            executor.submit(self._drain, conn, loop)
        except RuntimeError as exc:  # the executor is shut down: fail what is queued
            self._draining = False
            while self._queue:
                op = self._queue.popleft()
                if not op.future.done():
                    op.future.set_exception(exc)

    def _fail_queued(self) -> None:
        """Operations queued while the storage closed: they never ran."""
        while self._queue:
            op = self._queue.popleft()
            if not op.future.done():
                op.future.set_exception(checks.not_open(repr(self)))

    # clients ------------------------------------------------------------------------------------
    async def add_client(self, client: Client) -> Client:
        return await self._call(lambda c: ops.add_client(c, client))

    async def get_client(self, client_id: uuid.UUID) -> Client | None:
        return await self._call(lambda c: ops.get_client(c, client_id))

    async def get_client_by_name(self, name: str) -> Client | None:
        return await self._call(lambda c: ops.get_client_by_name(c, name))

    async def list_clients(self) -> list[Client]:
        return await self._call(ops.list_clients)

    async def rename_client(self, client_id: uuid.UUID, name: str) -> Client:
        return await self._call(lambda c: ops.rename_client(c, client_id, name))

    async def delete_client(self, client_id: uuid.UUID) -> None:
        await self._call(lambda c: ops.delete_client(c, client_id))

    # strategies -------------------------------------------------------------------------------
    async def add_strategy(
        self, client_id: uuid.UUID, name: str, config: StrategyConfig, changes: list[str]
    ) -> Strategy:
        return await self._call(lambda c: ops.add_strategy(c, client_id, name, config, changes))

    async def get_strategy(
        self, client_id: uuid.UUID, version: int | None = None
    ) -> Strategy | None:
        return await self._call(lambda c: ops.get_strategy(c, client_id, version))

    async def list_strategies(self, client_id: uuid.UUID) -> list[Strategy]:
        return await self._call(lambda c: ops.list_strategies(c, client_id))

    async def activate_strategy(self, client_id: uuid.UUID, version: int) -> Strategy:
        return await self._call(lambda c: ops.activate_strategy(c, client_id, version))

    async def strategy_history(self, client_id: uuid.UUID) -> list[StrategyHistoryEntry]:
        return await self._call(lambda c: ops.strategy_history(c, client_id))

    # seo rules, preferences ------------------------------------------------------------------
    async def add_seo_rule(self, rule: SeoRule) -> SeoRule:
        return await self._call(lambda c: ops.add_seo_rule(c, rule))

    async def list_seo_rules(self, client_id: uuid.UUID) -> list[SeoRule]:
        return await self._call(lambda c: ops.list_seo_rules(c, client_id))

    async def delete_seo_rule(self, client_id: uuid.UUID, name: str) -> bool:
        return await self._call(lambda c: ops.delete_seo_rule(c, client_id, name))

    async def set_preference(self, pref: ContentPreference) -> ContentPreference:
        return await self._call(lambda c: ops.set_preference(c, pref))

    async def list_preferences(self, client_id: uuid.UUID) -> list[ContentPreference]:
        return await self._call(lambda c: ops.list_preferences(c, client_id))

    async def delete_preference(self, client_id: uuid.UUID, key: str) -> bool:
        return await self._call(lambda c: ops.delete_preference(c, client_id, key))

    # prompt templates -------------------------------------------------------------------------
    async def add_template(
        self, client_id: uuid.UUID, content_type: ContentType, body: str
    ) -> PromptTemplate:
        return await self._call(lambda c: ops.add_template(c, client_id, content_type, body))

    async def get_template(
        self, client_id: uuid.UUID, content_type: ContentType, version: int | None = None
    ) -> PromptTemplate | None:
        return await self._call(lambda c: ops.get_template(c, client_id, content_type, version))

    async def list_templates(self, client_id: uuid.UUID) -> list[PromptTemplate]:
        return await self._call(lambda c: ops.list_templates(c, client_id))

    # jobs -------------------------------------------------------------------------------------
    async def create_job(self, job: Job) -> Job:
        return await self._call(lambda c: jobs.create_job(c, job))

    async def get_job(self, job_id: uuid.UUID) -> Job | None:
        return await self._call(lambda c: jobs.get_job(c, job_id))

    async def find_jobs_by_prefix(self, prefix: str, limit: int = 2) -> list[Job]:
        return await self._call(lambda c: jobs.find_jobs_by_prefix(c, prefix.lower(), limit))

    async def find_job_by_key(self, key: str) -> Job | None:
        return await self._call(lambda c: jobs.find_job_by_key(c, key))

    async def list_jobs(self, filt: JobFilter) -> JobPage:
        return await self._call(lambda c: jobs.list_jobs(c, filt))

    async def count_jobs(self, client_id: uuid.UUID) -> int:
        return await self._call(lambda c: jobs.count_jobs(c, client_id))

    # leases -----------------------------------------------------------------------------------
    async def claim_jobs(
        self,
        holder: str,
        *,
        limit: int,
        lease_seconds: float,
        max_attempts: int,
        job_id: uuid.UUID | None = None,
    ) -> list[ClaimedJob]:
        return await self._call(
            lambda c: leases.claim_jobs(c, holder, limit, lease_seconds, max_attempts, job_id)
        )

    async def heartbeat(self, lease: Lease, lease_seconds: float) -> Lease | None:
        return await self._call(lambda c: leases.heartbeat(c, lease, lease_seconds))

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
        rows = tuple(usage)
        return await self._call(
            lambda c: leases.finish_job(
                c, lease, status, result, error, rows, strategy_version, template_version
            )
        )

    async def release_job(self, lease: Lease) -> bool:
        return await self._call(lambda c: leases.release_job(c, lease))

    async def cancel_job(self, job_id: uuid.UUID) -> Job:
        return await self._call(lambda c: leases.cancel_job(c, job_id))

    async def retry_job(self, job_id: uuid.UUID) -> Job:
        return await self._call(lambda c: leases.retry_job(c, job_id))

    async def job_attempts(self, job_id: uuid.UUID) -> list[JobAttempt]:
        return await self._call(lambda c: leases.job_attempts(c, job_id))

    async def list_usage(self, job_id: uuid.UUID) -> list[LlmUsage]:
        return await self._call(lambda c: jobs.list_usage(c, job_id))

    # prompt jobs ------------------------------------------------------------------------------
    async def save_prompt_job(self, job: PromptJob) -> PromptJob:
        return await self._call(lambda c: ops.save_prompt_job(c, job))

    async def get_prompt_job(self, job_id: uuid.UUID) -> PromptJob | None:
        return await self._call(lambda c: ops.get_prompt_job(c, job_id))
