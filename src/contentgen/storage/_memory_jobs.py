"""The lifecycle, jobs, usage and prompt jobs of ``MemoryStorage`` (see ``memory.py``)."""

from __future__ import annotations

import asyncio
import copy
import itertools
import uuid
from collections.abc import Sequence
from datetime import datetime
from typing import Self, TypeVar

from pydantic import BaseModel

from contentgen.errors import ClientNotFound, JobNotFound
from contentgen.models import (
    Client,
    Job,
    JobFilter,
    JobPage,
    JobStatus,
    LlmUsage,
    PromptJob,
    UsageSummary,
    from_nanos,
)
from contentgen.storage import _checks as checks
from contentgen.storage.base import Reservation

M = TypeVar("M", bound=BaseModel)


def clone(model: M) -> M:
    return model.model_copy(deep=True)


def clones(models: list[M]) -> list[M]:
    return [m.model_copy(deep=True) for m in models]


def _summary(provider: str, model: str, rows: list[LlmUsage]) -> UsageSummary:
    priced = [u.cost_nanos for u in rows if u.cost_nanos is not None]
    return UsageSummary(
        provider=provider,
        model=model,
        calls=len(rows),
        failed_calls=sum(1 for u in rows if u.error is not None),
        input_tokens=sum(u.input_tokens for u in rows),
        output_tokens=sum(u.output_tokens for u in rows),
        cached_tokens=sum(u.cached_tokens for u in rows),
        reasoning_tokens=sum(u.reasoning_tokens for u in rows),
        cost=from_nanos(sum(priced)) if priced else None,
        unpriced_calls=len(rows) - len(priced),
    )


class MemoryJobs:
    """Base of ``MemoryStorage``: open/close, the client registry, jobs and prompt jobs."""

    def __init__(self) -> None:
        self._open = False
        self._lock = asyncio.Lock()
        self._clients: dict[uuid.UUID, Client] = {}
        self._jobs: dict[uuid.UUID, Job] = {}
        self._seq: dict[uuid.UUID, int] = {}  # creation order, like jobs.seq
        self._next_seq = itertools.count(1)  # shared by every handle from ``share()``
        self._usage: dict[uuid.UUID, LlmUsage] = {}
        self._budgets: dict[uuid.UUID, int] = {}  # client -> its own limit (nano-dollars)
        self._reservations: dict[uuid.UUID, Reservation] = {}
        self._prompt_jobs: dict[uuid.UUID, PromptJob] = {}

    def __repr__(self) -> str:
        return f"{type(self).__name__}()"

    def share(self) -> Self:
        """Another handle on the same data, opened and closed on its own: what a second
        connection to one database is (the contract suite's "two instances" use it)."""
        other = copy.copy(self)  # the same dicts, counter and lock
        other._open = False
        return other

    async def open(self) -> None:
        self._open = True

    async def aclose(self) -> None:
        self._open = False

    async def __aenter__(self) -> Self:
        await self.open()
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.aclose()

    def _check(self) -> None:
        if not self._open:
            raise checks.not_open(repr(self))

    def _require_client(self, client_id: uuid.UUID) -> None:
        if client_id not in self._clients:
            raise ClientNotFound(str(client_id))

    # jobs -------------------------------------------------------------------------------------
    async def create_job(self, job: Job) -> Job:
        self._check()
        if job.status is not JobStatus.PENDING:
            raise checks.not_pending(job)
        async with self._lock:
            self._require_client(job.client_id)
            if job.id in self._jobs:
                raise checks.duplicate("job", job.id)
            self._jobs[job.id] = clone(job)
            self._seq[job.id] = next(self._next_seq)
        return job

    async def get_job(self, job_id: uuid.UUID) -> Job | None:
        self._check()
        found = self._jobs.get(job_id)
        return None if found is None else clone(found)

    def _by_seq(self) -> list[Job]:
        """Every job, oldest first (creation order)."""
        return sorted(self._jobs.values(), key=lambda j: self._seq[j.id])

    async def find_jobs_by_prefix(self, prefix: str, limit: int = 2) -> list[Job]:
        self._check()
        prefix = prefix.lower()
        found = [clone(j) for j in self._by_seq() if str(j.id).startswith(prefix)]
        return found[:limit]

    async def find_job_by_key(self, key: str) -> Job | None:
        self._check()
        for job in reversed(self._by_seq()):  # newest first
            if job.request_key == key:
                return clone(job)
        return None

    async def list_jobs(self, filt: JobFilter) -> JobPage:
        self._check()
        below = None if filt.cursor is None else checks.parse_cursor(filt.cursor)
        matches = [
            j
            for j in reversed(self._by_seq())
            if (filt.client_id is None or j.client_id == filt.client_id)
            and (filt.status is None or j.status == filt.status)
            and (filt.strategy_version is None or j.strategy_version == filt.strategy_version)
            and (filt.template_version is None or j.template_version == filt.template_version)
            and (below is None or self._seq[j.id] < below)
        ]
        limit = max(filt.limit, 0)
        page = matches[:limit]
        more = len(matches) > limit and bool(page)
        cursor = checks.make_cursor(self._seq[page[-1].id]) if more else None
        return JobPage(jobs=clones(page), next_cursor=cursor)

    async def count_jobs(self, client_id: uuid.UUID) -> int:
        self._check()
        return sum(1 for j in self._jobs.values() if j.client_id == client_id)

    def _job(self, job_id: uuid.UUID) -> Job:
        found = self._jobs.get(job_id)
        if found is None:
            raise JobNotFound(str(job_id))
        return found

    def _check_usage(self, job: Job, usage: Sequence[LlmUsage]) -> None:
        """Everything the SQL constraints would refuse, checked before anything changes."""
        checks.check_usage(job.id, job.client_id, usage)
        seen: set[uuid.UUID] = set()
        for u in usage:
            if u.id in self._usage or u.id in seen:
                raise checks.duplicate("usage row", u.id)
            seen.add(u.id)

    async def list_usage(self, job_id: uuid.UUID) -> list[LlmUsage]:
        self._check()
        return clones([u for u in self._usage.values() if u.job_id == job_id])

    async def usage_summary(
        self,
        *,
        client_id: uuid.UUID | None = None,
        since: datetime | None = None,
        until: datetime | None = None,
    ) -> list[UsageSummary]:
        self._check()
        groups: dict[tuple[str, str], list[LlmUsage]] = {}
        for u in self._usage.values():
            if (client_id is None or u.client_id == client_id) and (
                (since is None or u.created_at >= since) and (until is None or u.created_at < until)
            ):
                groups.setdefault((u.provider, u.model), []).append(u)
        return [_summary(*key, rows) for key, rows in sorted(groups.items())]

    # prompt jobs ------------------------------------------------------------------------------
    async def save_prompt_job(self, job: PromptJob) -> PromptJob:
        self._check()
        self._prompt_jobs[job.id] = clone(job)
        return job

    async def get_prompt_job(self, job_id: uuid.UUID) -> PromptJob | None:
        self._check()
        found = self._prompt_jobs.get(job_id)
        return None if found is None else clone(found)
