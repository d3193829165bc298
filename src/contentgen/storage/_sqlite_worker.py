"""The engine of ``SqliteStorage``: one connection used from one worker thread.

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
from collections import deque
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Generic, Self, TypeVar

from contentgen.errors import ContentgenError, StorageError
from contentgen.files import private_dir, private_file
from contentgen.logs import get_logger
from contentgen.storage import _checks as checks
from contentgen.storage._migrate import load_migrations, migrate

T = TypeVar("T")
Conn = sqlite3.Connection


@dataclass(frozen=True)
class _Op(Generic[T]):
    fn: Callable[[Conn], T]
    future: asyncio.Future[T]


log = get_logger(__name__)

#: Seconds opening a database keeps trying while another process holds it (as busy_timeout).
OPEN_PATIENCE = 30.0

PRAGMAS = (
    # First, so that switching to WAL waits for other writers. Long: SQLite's busy wait polls
    # (sleeping up to 100 ms), so a process can lose the write lock many times in a row to
    # another that writes back to back (workers sharing a file on a loaded machine).
    "PRAGMA busy_timeout = 30000",
    "PRAGMA journal_mode = WAL",
    "PRAGMA synchronous = NORMAL",
    "PRAGMA foreign_keys = ON",
)


def _connect(path: Path) -> tuple[Conn, list[int]]:
    """Open, configure and migrate; runs on the worker thread."""
    try:
        # The database holds every client's data: owner-only (its -wal/-shm follow its mode).
        private_dir(path.parent)
        private_file(path, siblings=("-wal", "-shm", "-journal"))
    except OSError as exc:
        raise StorageError(f"cannot create the database {path}: {exc}") from exc
    try:
        conn = sqlite3.connect(
            path, check_same_thread=False, isolation_level=None, cached_statements=256
        )
    except sqlite3.Error as exc:
        raise StorageError(f"cannot open database {path}: {exc}") from exc
    try:
        try:
            applied = _configure(conn)
        except sqlite3.OperationalError as exc:
            if not _locked(exc):
                raise
            applied = _configure_when_free(conn)
    except BaseException:
        conn.close()
        raise
    return conn, applied


def _configure(conn: Conn) -> list[int]:
    for pragma in PRAGMAS:
        conn.execute(pragma)
    return migrate(conn, load_migrations())


def _locked(exc: BaseException) -> bool:
    return isinstance(exc, sqlite3.OperationalError) and (
        "locked" in str(exc) or "busy" in str(exc)
    )


def _configure_when_free(conn: Conn) -> list[int]:
    """``_configure`` again until the database lets us (up to ``OPEN_PATIENCE`` seconds).

    SQLite answers some lock conflicts at once instead of waiting out ``busy_timeout`` (to
    avoid a deadlock, e.g. switching a new file to WAL while another process creates it), so
    two processes opening one database at the same moment could see "database is locked"."""
    from tenacity import Retrying, retry_if_exception, stop_after_delay, wait_random

    retrying = Retrying(retry=retry_if_exception(_locked), stop=stop_after_delay(OPEN_PATIENCE),
                        wait=wait_random(0.02, 0.2), reraise=True)  # fmt: skip
    for attempt in retrying:
        with attempt:
            if conn.in_transaction:
                conn.execute("ROLLBACK")
            return _configure(conn)
    raise AssertionError("unreachable: tenacity re-raises the last error")


def _close(conn: Conn) -> None:
    try:
        conn.execute("PRAGMA optimize")
    except sqlite3.OperationalError:
        pass  # only an optimisation: another process may hold the write lock right now
    finally:
        conn.close()


class SqliteWorker:
    """The connection of a ``SqliteStorage`` and the one thread that uses it."""

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

