"""Status bodies of completed jobs, ready to send.

A completed job never changes (a retry of it is refused), so its ``GET /status`` body can be
served without a database read. The one way it goes away is its client's removal, so entries
also expire after ``ttl`` seconds. Jobs in any other status are always read from storage.
The caller's scope is checked on every hit, as on a read.
"""

from __future__ import annotations

import time
import uuid
from collections import OrderedDict
from typing import NamedTuple

from contentgen.models import Job, JobStatus


class CachedBody(NamedTuple):
    client_id: uuid.UUID
    body: bytes
    expires: float


class CompletedStatusCache:
    def __init__(self, size: int = 10_000, ttl: float = 60.0) -> None:
        self.size = size
        self.ttl = ttl
        self._entries: OrderedDict[uuid.UUID, CachedBody] = OrderedDict()

    def get(self, job_id: uuid.UUID) -> CachedBody | None:
        entry = self._entries.get(job_id)
        if entry is None:
            return None
        if entry.expires <= time.monotonic():
            del self._entries[job_id]
            return None
        return entry

    def put(self, job: Job, body: bytes) -> None:
        if job.status is not JobStatus.COMPLETED or self.size <= 0:
            return
        self._entries[job.id] = CachedBody(job.client_id, body, time.monotonic() + self.ttl)
        if len(self._entries) > self.size:
            self._entries.popitem(last=False)

    def forget(self, job_id: uuid.UUID) -> None:
        self._entries.pop(job_id, None)
