"""Live job updates from PostgreSQL: ``LISTEN contentgen_jobs`` on one dedicated connection.

The migrations make every insert and status change of a ``jobs`` row ``NOTIFY`` the channel
``contentgen_jobs`` with ``{"id", "client_id", "status"}``. ``JobChangeListener.wait()`` returns
as soon as a matching notification arrives; idle workers, ``Client.wait`` and the server's SSE
stream wait on it instead of sleeping a poll interval.

Where ``LISTEN`` is unavailable (a pooler in transaction mode hands each transaction to some
server connection, so notifications go astray) or turned off, or while the listening connection
is down, ``wait()`` just sleeps ``timeout``: callers re-read after every return, so polling is
the fallback and no change is ever missed for longer than one timeout.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import time
import uuid
from dataclasses import dataclass, field
from typing import Any

from contentgen.errors import StorageError
from contentgen.logs import get_logger

CHANNEL = "contentgen_jobs"
RETRY_AFTER = 5.0  # seconds before trying to LISTEN again after a failure

log = get_logger(__name__)


@dataclass(eq=False)
class _Waiter:
    job_id: uuid.UUID | None
    statuses: frozenset[str] | None = None
    event: asyncio.Event = field(default_factory=asyncio.Event)

    def wants(self, job_id: uuid.UUID | None, status: str | None) -> bool:
        if job_id is None:  # a payload we could not read: wake everyone, they re-read
            return True
        if self.job_id is not None and self.job_id != job_id:
            return False
        return self.statuses is None or status in self.statuses


class JobChangeListener:
    """Wakes waiters on job status changes; see the module docstring."""

    def __init__(self, url: str, *, enabled: bool = True) -> None:
        self._url = url
        self.enabled = enabled
        self._conn: Any = None
        self._waiters: set[_Waiter] = set()
        self._lock = asyncio.Lock()
        self._retry_at = 0.0
        self._closed = False

    @property
    def listening(self) -> bool:
        return self._conn is not None and not self._conn.is_closed()

    async def wait(
        self,
        job_id: uuid.UUID | None = None,
        timeout: float = 1.0,
        *,
        statuses: frozenset[str] | None = None,
    ) -> bool:
        """True when a job (``job_id``, or any job) changed status (to one of ``statuses``,
        if given) within ``timeout`` seconds."""
        waiter = _Waiter(job_id, statuses)
        self._waiters.add(waiter)  # before LISTEN starts: nothing between is lost
        try:
            if not await self._ensure_listening():
                await asyncio.sleep(timeout)
                return False
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(waiter.event.wait(), timeout)
            return waiter.event.is_set() and self.listening
        finally:
            self._waiters.discard(waiter)

    async def _ensure_listening(self) -> bool:
        if not self.enabled or self._closed:
            return False
        if self.listening:
            return True
        async with self._lock:
            if self.listening:
                return True
            if time.monotonic() < self._retry_at:
                return False
            from contentgen.storage.postgres_conn import connect

            try:
                conn = await connect(self._url)
                await conn.add_listener(CHANNEL, self._on_notify)
            except (StorageError, OSError) as exc:
                self._retry_at = time.monotonic() + RETRY_AFTER
                log.warning("storage.listen_unavailable", error=str(exc), fallback="polling")
                return False
            except Exception as exc:  # asyncpg errors: LISTEN refused, ...
                self._retry_at = time.monotonic() + RETRY_AFTER
                log.warning("storage.listen_unavailable", error=str(exc), fallback="polling")
                return False
            conn.add_termination_listener(self._on_lost)
            self._conn = conn
            log.debug("storage.listening", channel=CHANNEL)
            return True

    def _on_notify(self, conn: Any, pid: int, channel: str, payload: str) -> None:
        try:
            data = json.loads(payload)
            changed, status = uuid.UUID(data["id"]), str(data["status"])
        except (ValueError, KeyError, TypeError):
            changed, status = None, None
        for waiter in self._waiters:
            if waiter.wants(changed, status):
                waiter.event.set()

    def _on_lost(self, conn: Any) -> None:
        """The listening connection died: wake everyone so they re-read, listen again later."""
        if conn is self._conn:
            self._conn = None
            log.warning("storage.listen_lost", fallback="polling until reconnected")
        for waiter in self._waiters:
            waiter.event.set()

    async def aclose(self) -> None:
        self._closed = True
        conn, self._conn = self._conn, None
        if conn is not None:
            with contextlib.suppress(Exception):
                await conn.close(timeout=2)
        for waiter in self._waiters:
            waiter.event.set()
