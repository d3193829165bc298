"""Job leases of ``MemoryStorage``: the same rules as ``_sqlite_leases``, on dicts.

Every operation runs under the storage's lock without awaiting inside, so it is as atomic as
the SQL transaction it mirrors.
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from dataclasses import dataclass, replace
from datetime import datetime, timedelta

from contentgen.models import ContentResult, Job, JobAttempt, JobStatus, LlmUsage, utcnow
from contentgen.storage import _checks as checks
from contentgen.storage._memory_jobs import MemoryJobs, clone
from contentgen.storage.base import ClaimedJob, Lease


@dataclass
class _LeaseRow:
    """``job_leases``: ``attempt - attempt_base`` counts against max_attempts."""

    holder: str
    token: int
    attempt: int
    attempt_base: int
    expires_at: datetime
    renewed_at: datetime


class MemoryLeases(MemoryJobs):
    def __init__(self) -> None:
        super().__init__()
        self._leases: dict[uuid.UUID, _LeaseRow] = {}
        self._attempts: dict[uuid.UUID, list[JobAttempt]] = {}

    def _end_attempt(
        self, job_id: uuid.UUID, outcome: str, error: str | None, now: datetime
    ) -> None:
        history = self._attempts.get(job_id, [])
        for i, a in enumerate(history):
            if a.outcome is None:
                history[i] = a.model_copy(update={"outcome": outcome, "error": error,
                                                  "ended_at": now})  # fmt: skip

    def _holds(self, lease: Lease) -> Job | None:
        job = self._jobs.get(lease.job_id)
        row = self._leases.get(lease.job_id)
        if job is None or row is None or job.status is not JobStatus.IN_PROGRESS:
            return None
        return job if row.token == lease.token else None

    async def claim_jobs(
        self,
        holder: str,
        *,
        limit: int,
        lease_seconds: float,
        max_attempts: int,
        job_id: uuid.UUID | None = None,
    ) -> list[ClaimedJob]:
        self._check()
        checks.check_lease_args(limit, lease_seconds, max_attempts)
        async with self._lock:
            now = utcnow()
            expires = now + timedelta(seconds=lease_seconds)
            runnable: list[Job] = []
            for job in self._by_seq():
                if job_id is not None and job.id != job_id:
                    continue
                row = self._leases.get(job.id)
                if job.status is JobStatus.PENDING:
                    runnable.append(job)
                elif job.status is JobStatus.IN_PROGRESS and (
                    row is None or row.expires_at <= now
                ):
                    if row is not None and row.attempt - row.attempt_base >= max_attempts:
                        used = row.attempt - row.attempt_base
                        error = checks.worker_lost(used, row.holder, row.renewed_at)
                        job.status, job.error, job.updated_at = JobStatus.FAILED, error, now
                        self._end_attempt(job.id, "lost", error, now)
                    else:
                        runnable.append(job)
            claimed: list[ClaimedJob] = []
            for job in runnable[:limit]:
                row = self._leases.get(job.id)
                if row is None:
                    row = _LeaseRow(holder, 1, 1, 0, expires, now)
                    self._leases[job.id] = row
                else:
                    self._end_attempt(job.id, "lost", None, now)
                    row.holder, row.token, row.attempt = holder, row.token + 1, row.attempt + 1
                    row.expires_at, row.renewed_at = expires, now
                attempt = JobAttempt(
                    job_id=job.id, token=row.token, attempt=row.attempt, holder=holder,
                    claimed_at=now,
                )  # fmt: skip
                self._attempts.setdefault(job.id, []).append(attempt)
                if job.status is JobStatus.PENDING:
                    job.status, job.updated_at = JobStatus.IN_PROGRESS, now
                lease = Lease(job.id, holder, row.token, row.attempt, expires)
                claimed.append(ClaimedJob(job=clone(job), lease=lease))
        return claimed

    async def heartbeat(self, lease: Lease, lease_seconds: float) -> Lease | None:
        self._check()
        checks.check_lease_args(1, lease_seconds, 1)
        async with self._lock:
            if self._holds(lease) is None:
                return None
            row = self._leases[lease.job_id]
            now = utcnow()
            row.expires_at, row.renewed_at = now + timedelta(seconds=lease_seconds), now
            return replace(lease, holder=row.holder, attempt=row.attempt,
                           expires_at=row.expires_at)  # fmt: skip

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
        self._check()
        checks.check_finish(status, result is not None, error)
        async with self._lock:
            job = self._holds(lease)
            if job is None:
                return None
            self._check_usage(job, usage)
            now = utcnow()
            job.status, job.error, job.updated_at = status, error, now
            job.result = None if result is None else clone(result)
            if strategy_version is not None:
                job.strategy_version = strategy_version
            if template_version is not None:
                job.template_version = template_version
            self._store_usage(job, usage, lease.attempt)
            self._end_attempt(job.id, status.value, error, now)
            return clone(job)

    def _store_usage(self, job: Job, usage: Sequence[LlmUsage], attempt: int) -> None:
        """The job's usage rows (checked by the caller), replacing its budget holds."""
        self._usage.update((u.id, clone(u)) for u in checks.stamped(usage, attempt))
        for rid in [k for k, r in self._reservations.items() if r.job_id == job.id]:
            del self._reservations[rid]  # the usage rows replace what they held

    async def release_job(self, lease: Lease, *, usage: Sequence[LlmUsage] = ()) -> bool:
        self._check()
        async with self._lock:
            job = self._holds(lease)
            if job is None:
                return False
            if usage:
                self._check_usage(job, usage)
                self._store_usage(job, usage, lease.attempt)
            now = utcnow()
            job.status, job.updated_at = JobStatus.PENDING, now
            row = self._leases[job.id]
            row.attempt, row.expires_at = row.attempt - 1, now
            self._end_attempt(job.id, "released", None, now)
        return True

    async def store_fenced_usage(self, lease: Lease, usage: Sequence[LlmUsage]) -> int:
        self._check()
        async with self._lock:
            job = self._job(lease.job_id)
            checks.check_usage(job.id, job.client_id, usage)
            new = {u.id: clone(u) for u in checks.stamped(usage, lease.attempt)
                   if u.id not in self._usage}  # fmt: skip
            self._usage.update(new)
            return len(new)

    async def cancel_job(self, job_id: uuid.UUID) -> Job:
        self._check()
        async with self._lock:
            job = self._job(job_id)
            if job.status.finished:
                raise checks.wrong_state(job_id, job.status, "cancelled")
            now = utcnow()
            job.status, job.updated_at = JobStatus.CANCELLED, now
            self._end_attempt(job_id, "cancelled", None, now)
            return clone(job)

    async def retry_job(self, job_id: uuid.UUID) -> Job:
        self._check()
        async with self._lock:
            job = self._job(job_id)
            if job.status not in (JobStatus.FAILED, JobStatus.CANCELLED):
                raise checks.wrong_state(job_id, job.status, "retried")
            job.status, job.result, job.error, job.updated_at = (
                JobStatus.PENDING, None, None, utcnow()
            )  # fmt: skip
            row = self._leases.get(job_id)
            if row is not None:
                row.attempt_base = row.attempt
            return clone(job)

    async def job_attempts(self, job_id: uuid.UUID) -> list[JobAttempt]:
        self._check()
        return [clone(a) for a in self._attempts.get(job_id, [])]
