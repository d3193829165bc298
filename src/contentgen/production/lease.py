"""Keeping a job's lease while it runs, and writing its final status whatever happens.

``LeaseKeeper`` extends the lease every third of its length; when the lease is lost (another
runner took the job over after an expiry, or it was cancelled) its ``lost`` future completes
and the runner stops its work without writing anything: the store fences it out anyway.

``settle`` runs a final write to the end even when the caller is cancelled meanwhile (a job's
last status must not be lost between "the model answered" and "the row says so").
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Awaitable
from typing import TypeVar

from contentgen.logs import get_logger
from contentgen.models import utcnow
from contentgen.storage.base import Lease, Storage

T = TypeVar("T")
log = get_logger()


async def settle(work: Awaitable[T]) -> T:
    """Await ``work`` to its end, shielded from cancellation; a cancellation that arrived
    meanwhile is raised once it is done."""
    task = asyncio.ensure_future(work)
    cancelled = False
    while True:
        try:
            result = await asyncio.shield(task)
            break
        except asyncio.CancelledError:
            if task.done():  # the write itself was cancelled (the event loop is closing)
                raise
            cancelled = True
    if cancelled:
        raise asyncio.CancelledError
    return result


class LeaseKeeper:
    """Heartbeats ``lease`` every ``lease_seconds / 3`` inside ``async with``.

    ``lease`` is always the newest lease (finish the job with it); ``lost`` is a future that
    completes when the lease cannot be renewed any more."""

    def __init__(self, store: Storage, lease: Lease, lease_seconds: float) -> None:
        self.store = store
        self.lease = lease
        self.lease_seconds = lease_seconds
        self.lost: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        self._task: asyncio.Task[None] | None = None

    async def __aenter__(self) -> LeaseKeeper:
        self._task = asyncio.create_task(self._beat(), name=f"heartbeat-{self.lease.job_id}")
        return self

    async def __aexit__(self, *exc: object) -> None:
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
        if not self.lost.done():
            self.lost.cancel()

    @property
    def is_lost(self) -> bool:
        return self.lost.done() and not self.lost.cancelled()

    def _lose(self, why: str) -> None:
        log.warning("lease_lost", job_id=str(self.lease.job_id), token=self.lease.token, why=why)
        if not self.lost.done():
            self.lost.set_result(None)

    async def _beat(self) -> None:
        every = self.lease_seconds / 3
        while True:
            await asyncio.sleep(every)
            try:
                renewed = await self.store.heartbeat(self.lease, self.lease_seconds)
            except Exception as exc:  # the database hiccupped: try again until it expires
                if utcnow() >= self.lease.expires_at:
                    self._lose(f"no heartbeat before expiry ({type(exc).__name__})")
                    return
                log.warning("heartbeat_failed", job_id=str(self.lease.job_id),
                            error=f"{type(exc).__name__}: {exc}")  # fmt: skip
                continue
            if renewed is None:
                self._lose("taken over, cancelled or finished elsewhere")
                return
            self.lease = renewed
