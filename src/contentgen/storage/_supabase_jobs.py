"""``SupabaseStorage``'s jobs, leases, usage rows and prompt jobs over PostgREST: state changes
are the SQL functions of the migrations called as RPCs (one transaction each), reads are
table requests."""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from datetime import datetime
from typing import Any

from contentgen.errors import ClientNotFound, ContentgenError, InvalidInput, JobNotFound
from contentgen.models import (
    ContentResult,
    Job,
    JobAttempt,
    JobFilter,
    JobPage,
    JobStatus,
    LlmUsage,
    PromptJob,
    UsageSummary,
)
from contentgen.storage import _checks as checks
from contentgen.storage import _pg_rows as rows
from contentgen.storage._pg_jobs import (
    fenced_usage_args,
    fenced_usage_refused,
    finish_args,
    release_usage,
)
from contentgen.storage._supabase_rest import Rest, api_error, as_json, iso
from contentgen.storage.base import ClaimedJob, Lease

_ZERO = "00000000-0000-0000-0000-000000000000"
_JOB_COLS = rows.JOB_COLS.replace(" ", "")
_USAGE_COLS = rows.USAGE_COLS.replace(" ", "")


def _is_uuid_prefix(text: str) -> bool:
    """Is ``text`` the start of a canonical UUID (hex digits, dashes at 8, 13, 18, 23)?"""
    return len(text) <= len(_ZERO) and all(
        (c == "-") if z == "-" else (c in "0123456789abcdef")
        for c, z in zip(text, _ZERO, strict=False)
    )


class SupabaseJobs:
    """The ``JobStore`` and ``UsageStore`` half of ``SupabaseStorage``."""

    @property
    def rest(self) -> Rest:
        raise NotImplementedError

    # jobs ----------------------------------------------------------------------------------------
    async def create_job(self, job: Job) -> Job:
        if job.status is not JobStatus.PENDING:
            raise checks.not_pending(job)
        doc = {"id": str(job.id), "client_id": str(job.client_id), "status": job.status.value,
               "params": as_json(job.params), "result": as_json(job.result), "error": job.error,
               "strategy_version": job.strategy_version,
               "template_version": job.template_version, "request_key": job.request_key,
               "created_at": iso(job.created_at), "updated_at": iso(job.updated_at)}  # fmt: skip
        try:
            await self.rest.insert("jobs", doc)
        except ContentgenError as exc:
            code, _ = api_error(exc)
            if code == "23503":
                raise ClientNotFound(str(job.client_id)) from exc
            if code == "23505":
                raise checks.duplicate("job", job.id) from exc
            raise
        return job

    async def get_job(self, job_id: uuid.UUID) -> Job | None:
        found = await self.rest.select("jobs", _JOB_COLS, id=job_id)
        return rows.job_from(found[0]) if found else None

    async def find_jobs_by_prefix(self, prefix: str, limit: int = 2) -> list[Job]:
        prefix = prefix.lower()
        if not _is_uuid_prefix(prefix):
            return []
        low = prefix + _ZERO[len(prefix) :]
        high = prefix + _ZERO[len(prefix) :].replace("0", "f")
        found = await self.rest.select("jobs", _JOB_COLS, order=["seq"], limit=limit,
                                       ranges={"id": (low, high)})  # fmt: skip
        return [rows.job_from(r) for r in found]

    async def find_job_by_key(self, key: str) -> Job | None:
        found = await self.rest.select("jobs", _JOB_COLS, order=["-created_at", "-seq"],
                                       limit=1, request_key=key)  # fmt: skip
        return rows.job_from(found[0]) if found else None

    async def list_jobs(self, filt: JobFilter) -> JobPage:
        where: dict[str, Any] = {}
        if filt.client_id is not None:
            where["client_id"] = filt.client_id
        if filt.status is not None:
            where["status"] = filt.status.value
        if filt.strategy_version is not None:
            where["strategy_version"] = filt.strategy_version
        if filt.template_version is not None:
            where["template_version"] = filt.template_version
        before = None if filt.cursor is None else checks.parse_cursor(filt.cursor)
        limit = max(filt.limit, 0)
        found = await self.rest.select("jobs", _JOB_COLS + ",seq", order=["-seq"],
                                       limit=limit + 1, below={"seq": before}, **where)  # fmt: skip
        page = found[:limit]
        more = len(found) > limit and bool(page)
        return JobPage(
            jobs=[rows.job_from(r) for r in page],
            next_cursor=checks.make_cursor(int(page[-1]["seq"])) if more else None,
        )

    async def count_jobs(self, client_id: uuid.UUID) -> int:
        return await self.rest.count("jobs", client_id=client_id)

    async def list_usage(self, job_id: uuid.UUID) -> list[LlmUsage]:
        found = await self.rest.select("llm_usage", _USAGE_COLS, order=["seq"],
                                       job_id=job_id)  # fmt: skip
        return [rows.usage_from(r) for r in found]

    async def usage_summary(
        self,
        *,
        client_id: uuid.UUID | None = None,
        since: datetime | None = None,
        until: datetime | None = None,
    ) -> list[UsageSummary]:
        found = await self.rest.rpc("contentgen_usage_summary", {
            "p_client_id": None if client_id is None else str(client_id),
            "p_since": None if since is None else iso(since),
            "p_until": None if until is None else iso(until),
        })  # fmt: skip
        return [rows.summary_from(r) for r in found]

    # leases --------------------------------------------------------------------------------------
    async def claim_jobs(
        self,
        holder: str,
        *,
        limit: int,
        lease_seconds: float,
        max_attempts: int,
        job_id: uuid.UUID | None = None,
    ) -> list[ClaimedJob]:
        checks.check_lease_args(limit, lease_seconds, max_attempts)
        found = await self.rest.rpc("contentgen_claim_jobs", {
            "p_holder": holder, "p_limit": limit, "p_lease_seconds": float(lease_seconds),
            "p_max_attempts": max_attempts, "p_job_id": None if job_id is None else str(job_id),
        })  # fmt: skip
        return [rows.claimed_from(r) for r in found]

    async def heartbeat(self, lease: Lease, lease_seconds: float) -> Lease | None:
        checks.check_lease_args(1, lease_seconds, 1)
        found = await self.rest.rpc("contentgen_heartbeat", {
            "p_job_id": str(lease.job_id), "p_token": lease.token,
            "p_lease_seconds": float(lease_seconds),
        })  # fmt: skip
        return rows.lease_from(lease.job_id, found[0]) if found else None

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
        args = finish_args(lease, status, result, error, usage, strategy_version,
                           template_version, client_id)  # fmt: skip
        try:
            found = await self.rest.rpc("contentgen_finish_job", {
                "p_job_id": str(lease.job_id), "p_token": lease.token, "p_status": args[2],
                "p_result": as_json(result), "p_error": error,
                "p_usage": [rows.usage_doc(u) for u in checks.stamped(usage, lease.attempt)],
                "p_strategy_version": strategy_version, "p_template_version": template_version,
            })  # fmt: skip
        except ContentgenError as exc:
            code, _ = api_error(exc)
            if code == "23505":
                raise checks.duplicate("usage row", "in this batch") from exc
            if code == "23503":
                raise InvalidInput("usage: a usage row names a job or client that does not "
                                   "exist", field="usage") from exc  # fmt: skip
            raise
        return rows.job_from(found[0]) if found else None

    async def release_job(self, lease: Lease, *, usage: Sequence[LlmUsage] = ()) -> bool:
        done = await self.rest.rpc("contentgen_release_job", {
            "p_job_id": str(lease.job_id), "p_token": lease.token,
            "p_usage": release_usage(lease, usage),
        })  # fmt: skip
        return bool(done)

    async def store_fenced_usage(self, lease: Lease, usage: Sequence[LlmUsage]) -> int:
        args = fenced_usage_args(lease, usage)
        if args is None:
            return 0
        client_id, docs = args
        stored = int(await self.rest.rpc("contentgen_store_fenced_usage", {
            "p_job_id": str(lease.job_id), "p_client_id": str(client_id), "p_usage": docs,
        }))  # fmt: skip
        if stored < 0:
            found = await self.rest.select("jobs", "id", id=lease.job_id)
            raise fenced_usage_refused(lease.job_id, client_id, bool(found))
        return stored

    async def _status(self, job_id: uuid.UUID) -> JobStatus:
        found = await self.rest.select("jobs", "status", id=job_id)
        if not found:
            raise JobNotFound(str(job_id))
        return JobStatus(found[0]["status"])

    async def cancel_job(self, job_id: uuid.UUID) -> Job:
        found = await self.rest.rpc("contentgen_cancel_job", {"p_job_id": str(job_id)})
        if not found:
            raise checks.wrong_state(job_id, await self._status(job_id), "cancelled")
        return rows.job_from(found[0])

    async def job_attempts(self, job_id: uuid.UUID) -> list[JobAttempt]:
        found = await self.rest.select("job_attempts", rows.ATTEMPT_COLS.replace(" ", ""),
                                       order=["token"], job_id=job_id)  # fmt: skip
        return [rows.attempt_from(r) for r in found]

    async def retry_job(self, job_id: uuid.UUID) -> Job:
        found = await self.rest.rpc("contentgen_retry_job", {"p_job_id": str(job_id)})
        if not found:
            raise checks.wrong_state(job_id, await self._status(job_id), "retried")
        return rows.job_from(found[0])

    # prompt jobs ---------------------------------------------------------------------------------
    async def save_prompt_job(self, job: PromptJob) -> PromptJob:
        doc = {"id": str(job.id), "client_id": str(job.params.client_id),
               "status": job.status.value, "params": as_json(job.params), "prompt": job.prompt,
               "metadata": as_json(job.metadata), "error": job.error,
               "created_at": iso(job.created_at), "updated_at": iso(job.updated_at)}  # fmt: skip
        await self.rest.upsert("prompt_jobs", doc, on_conflict="id")
        return job

    async def get_prompt_job(self, job_id: uuid.UUID) -> PromptJob | None:
        found = await self.rest.select("prompt_jobs", "*", id=job_id)
        return rows.prompt_job_from(found[0]) if found else None
