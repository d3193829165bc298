"""``DiskCache``: the default cache, a directory managed by diskcache (SQLite + files).

Every process that opens the same directory shares the entries and the hit/miss counters
(diskcache keeps both in its SQLite database), so CLI runs, workers and the server see one
cache.

A cache is only a cache: when its database is damaged (a crash mid-write, a disk error, a file
overwritten), the damage is logged once as ``disk_cache_rebuilt``, diskcache's files are
deleted and an empty cache takes their place — whether the damage is found when opening or by
a later call. If even that fails, the cache turns itself off for the process
(``disk_cache_disabled``) rather than fail the work it sits in front of. A directory that
cannot be written at all is still a ``ConfigurationError``: that is for the user to fix.

diskcache is synchronous. Its calls are called directly rather than through
``asyncio.to_thread``: measured here, a set takes ~50 µs and a get ~13 µs, while one hop to a
worker thread costs ~90 µs — and thread-local SQLite connections opened in pool threads could
not be closed by ``aclose``.
"""

from __future__ import annotations

import contextlib
import re
import shutil
import sqlite3
from collections.abc import Callable
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
    """A ``Cache`` stored under ``directory`` (created if missing, mode 0700).

    The directory is opened on first use, so a command that never touches the cache (e.g.
    `contentgen jobs`) neither imports diskcache nor opens its database."""

    def __init__(self, directory: Path) -> None:
        self.directory = Path(directory)
        self._opened = False
        self._cache: Any = None  # None once opened: turned off after damage not repaired

    def _handle(self) -> Any:
        """The diskcache, opened on first use (a damaged one is rebuilt)."""
        if self._opened:
            return self._cache
        self._opened = True
        try:
            self._cache = self._open()
        except (OSError, sqlite3.Error) as exc:
            if not _damaged(exc):
                self._opened = False
                raise ConfigurationError(
                    f"disk cache: cannot open directory {str(self.directory)!r} ({exc}); point "
                    "CONTENTGEN_CACHE_URL at a writable directory, e.g. disk:///tmp/cg-cache",
                    directory=str(self.directory),
                ) from exc
            self._rebuild(exc)
        return self._cache

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
                (self.directory / name).unlink(missing_ok=True)
            for child in self.directory.iterdir():
                if child.is_dir() and _VALUE_DIR.match(child.name):
                    shutil.rmtree(child, ignore_errors=True)
            self._cache = self._open()
        except (OSError, sqlite3.Error) as exc:
            log.warning("disk_cache_disabled", directory=str(self.directory), error=str(exc),
                        cause=str(cause))  # fmt: skip
            return
        log.warning("disk_cache_rebuilt", directory=str(self.directory), error=str(cause))

    def _call(self, operation: Callable[[Any], T], default: T) -> T:
        """Run ``operation`` on the diskcache; on damage rebuild once and retry."""
        for attempt in (1, 2):
            cache = self._handle()
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
        value = self._call(lambda c: c.get(key), None)
        return None if value is None else bytes(value)

    async def set(self, key: str, value: bytes, ttl: float | None = None) -> None:
        """Store ``value``; a ``ttl`` of zero or less stores an already-expired entry."""
        self._call(lambda c: c.set(key, bytes(value), expire=ttl), None)

    async def delete(self, key: str) -> None:
        self._call(lambda c: c.delete(key), None)

    async def delete_prefix(self, prefix: str) -> int:
        def run(cache: Any) -> int:
            cache.expire()
            matching = [
                key for key in cache.iterkeys() if isinstance(key, str) and key.startswith(prefix)
            ]
            # delete() is False for a key another process removed (or that expired) meanwhile.
            return sum(1 for key in matching if cache.delete(key))

        return self._call(run, 0)

    async def clear(self) -> None:
        def run(cache: Any) -> None:
            cache.clear()
            cache.stats(enable=True, reset=True)

        self._call(run, None)

    async def stats(self) -> CacheStats:
        def run(cache: Any) -> CacheStats:
            # len() counts expired rows too; drop them first so size is the number of live keys.
            cache.expire()
            hits, misses = cache.stats(enable=True)
            return CacheStats(hits=int(hits), misses=int(misses), size=len(cache))

        return self._call(run, CacheStats(hits=0, misses=0, size=0))

    async def aclose(self) -> None:
        if self._cache is not None:
            self._cache.close()
        self._cache, self._opened = None, False

    async def __aenter__(self) -> Self:
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.aclose()
