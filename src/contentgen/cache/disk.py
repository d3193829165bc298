"""``DiskCache``: the default cache, a directory managed by diskcache (SQLite + files).

Every process that opens the same directory shares the entries and the hit/miss counters
(diskcache keeps both in its SQLite database), so CLI runs, workers and the server see one
cache.

A cache is only a cache: when its database is damaged (a crash mid-write, a disk error, a file
overwritten), the damage is logged once as ``disk_cache_rebuilt``, diskcache's files are
deleted and an empty cache takes their place — whether the damage is found when opening or by
a later call (a directory where diskcache's database belongs counts as damage too). If even
that fails, the cache turns itself off for the process (``disk_cache_disabled``) rather than
fail the work it sits in front of. A directory that cannot be used at all (a file in its
place, no permission) is for the user to fix: the work goes on without a cache and says so
once (``disk_cache_unusable``, with the fix); only the commands about the cache itself
(``stats``, ``clear``) fail with that ``ConfigurationError``.

diskcache is synchronous, so its calls run on one worker thread of the cache's own, never on
the event loop: alone a get takes ~30 µs and a set ~60 µs, but with other processes writing to
the same directory (workers and a server) the 99th percentile was ~10 ms and the worst set
200 ms (its SQLite write lock), a stall no server loop can afford; the thread hop costs
~90 µs. diskcache's connections are per thread, so the one opened while constructing is
opened on that thread at first use and ``aclose`` closes it there.

The directory is opened on first use, so a command that never touches the cache (e.g.
`contentgen jobs`) neither imports diskcache nor opens its database (issue 7, point 20).
"""

from __future__ import annotations

import asyncio
import contextlib
import re
import shutil
import sqlite3
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any, Self, TypeVar

from contentgen.cache.base import CacheStats
from contentgen.errors import ConfigurationError
from contentgen.files import private_dir, private_file
from contentgen.logs import get_logger

log = get_logger()
T = TypeVar("T")

#: diskcache's own files in its directory: the database and the value sub-directories.
_DB_FILES = ("cache.db", "cache.db-wal", "cache.db-shm", "cache.db-journal")
_VALUE_DIR = re.compile(r"^[0-9a-f]{2}$")


def _damaged(exc: BaseException) -> bool:
    """True for errors that mean the database is damaged (not locked, not unwritable)."""
    if isinstance(exc, sqlite3.OperationalError):
        text = str(exc).lower()
        return "malformed" in text or "not a database" in text or "corrupt" in text
    return isinstance(exc, sqlite3.DatabaseError)


class DiskCache:
    """A ``Cache`` stored under ``directory`` (created if missing, mode 0700)."""

    def __init__(self, directory: Path) -> None:
        self.directory = Path(directory)
        self._opened = False
        self._cache: Any = None  # None once opened: turned off after damage not repaired
        self._unusable: ConfigurationError | None = None  # why the directory cannot be used
        self._said = False  # disk_cache_unusable logged
        self._executor: ThreadPoolExecutor | None = None  # the thread every call runs on

    def _handle(self, strict: bool) -> Any:
        """The diskcache, opened on first use (on the worker thread); a damaged one is
        rebuilt. An unusable directory turns the cache off with one warning, or is a
        ``ConfigurationError`` when ``strict`` (a command about the cache itself)."""
        if not self._opened:
            self._opened = True
            try:
                self._cache = self._open()
            except (OSError, sqlite3.Error) as exc:
                if _damaged(exc) or self._db_is_a_directory():
                    self._rebuild(exc)
                else:
                    self._unusable = ConfigurationError(
                        f"disk cache: cannot open directory {str(self.directory)!r} ({exc}); "
                        "point CONTENTGEN_CACHE_URL at a writable directory, e.g. "
                        "disk:///tmp/cg-cache", directory=str(self.directory),
                    )  # fmt: skip
                    self._unusable.__cause__ = exc
        if self._unusable is not None:
            if strict:
                raise self._unusable
            if not self._said:  # once per process: the work goes on without a cache
                self._said = True
                log.warning("disk_cache_unusable", error=str(self._unusable))
        return self._cache

    def _db_is_a_directory(self) -> bool:
        return any((self.directory / name).is_dir() for name in _DB_FILES)

    def _open(self) -> Any:
        import diskcache

        private_dir(self.directory)
        private_file(self.directory / "cache.db", siblings=("-wal", "-shm"))
        cache = diskcache.Cache(str(self.directory))
        try:
            # Turns on hit/miss counting in the database itself, so every instance and every
            # process on this directory adds to (and reads) the same counters.
            cache.stats(enable=True)
        except BaseException:
            cache.close()
            raise
        return cache

    def _rebuild(self, cause: BaseException) -> None:
        """Replace a damaged cache by an empty one (or turn the cache off)."""
        if self._cache is not None:
            with contextlib.suppress(Exception):  # a damaged database may fail to close
                self._cache.close()
            self._cache = None
        try:
            for name in _DB_FILES:
                path = self.directory / name
                if path.is_dir() and not path.is_symlink():
                    shutil.rmtree(path)
                else:
                    path.unlink(missing_ok=True)
            for child in self.directory.iterdir():
                if child.is_dir() and _VALUE_DIR.match(child.name):
                    shutil.rmtree(child, ignore_errors=True)
            self._cache = self._open()
        except (OSError, sqlite3.Error) as exc:
            log.warning("disk_cache_disabled", directory=str(self.directory), error=str(exc),
                        cause=str(cause))  # fmt: skip
            return
        log.warning("disk_cache_rebuilt", directory=str(self.directory), error=str(cause))

    async def _run(
        self, operation: Callable[[Any], T], default: T, *, strict: bool = False
    ) -> T:
        """``_call`` on the cache's worker thread."""
        if self._executor is None:
            self._executor = ThreadPoolExecutor(1, thread_name_prefix="contentgen-diskcache")
        loop = asyncio.get_running_loop()
        return await loop.run_in_executor(self._executor, self._call, operation, default, strict)

    def _call(self, operation: Callable[[Any], T], default: T, strict: bool) -> T:
        """Run ``operation`` on the diskcache; on damage rebuild once and retry."""
        for attempt in (1, 2):
            cache = self._handle(strict)
            if cache is None:
                return default
            try:
                return operation(cache)
            except sqlite3.Error as exc:
                if not _damaged(exc) or attempt == 2:
                    if _damaged(exc):
                        log.warning("disk_cache_disabled", directory=str(self.directory),
                                    error=str(exc))  # fmt: skip
                        self._cache = None
                        return default
                    raise
                self._rebuild(exc)
        return default

    async def get(self, key: str) -> bytes | None:
        value = await self._run(lambda c: c.get(key), None)
        return None if value is None else bytes(value)

    async def set(self, key: str, value: bytes, ttl: float | None = None) -> None:
        """Store ``value``; a ``ttl`` of zero or less stores an already-expired entry."""
        await self._run(lambda c: c.set(key, bytes(value), expire=ttl), None)

    async def delete(self, key: str) -> None:
        await self._run(lambda c: c.delete(key), None)

    async def delete_prefix(self, prefix: str) -> int:
        def run(cache: Any) -> int:
            cache.expire()
            matching = [
                key for key in cache.iterkeys() if isinstance(key, str) and key.startswith(prefix)
            ]
            # delete() is False for a key another process removed (or that expired) meanwhile.
            return sum(1 for key in matching if cache.delete(key))

        return await self._run(run, 0)

    async def clear(self) -> None:
        def run(cache: Any) -> None:
            cache.clear()
            cache.stats(enable=True, reset=True)

        await self._run(run, None, strict=True)

    async def stats(self) -> CacheStats:
        def run(cache: Any) -> CacheStats:
            # len() counts expired rows too; drop them first so size is the number of live keys.
            cache.expire()
            hits, misses = cache.stats(enable=True)
            return CacheStats(hits=int(hits), misses=int(misses), size=len(cache))

        return await self._run(run, CacheStats(hits=0, misses=0, size=0), strict=True)

    async def aclose(self) -> None:
        executor, self._executor = self._executor, None
        if executor is None:
            return
        try:
            await asyncio.get_running_loop().run_in_executor(executor, self._close_connection)
        finally:
            executor.shutdown(wait=False)

    def _close_connection(self) -> None:
        if self._cache is not None:
            self._cache.close()
        self._cache, self._opened, self._unusable = None, False, None

    async def __aenter__(self) -> Self:
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.aclose()
