"""The SQL behind ``PostgresStorage`` for jobs, leases and usage rows.

State changes that need more than one statement are SQL functions shipped in the migrations
(``contentgen_claim_jobs`` etc., see ``0002_job_queue.sql``), so that ``SupabaseStorage`` runs the
very same transactions through PostgREST.
"""

from __future__ import annotations

import json
import uuid
from collections.abc import Sequence
from datetime import datetime
from typing import Any

from contentgen.errors import ClientNotFound, InvalidInput, JobNotFound
from contentgen.models import (
    ContentResult,
    Job,
    JobAttempt,
    JobFilter,
    JobPage,
    JobStatus,
    LlmUsage,
    UsageSummary,
)
from contentgen.storage import _checks as checks
from contentgen.storage import _pg_rows as rows
from contentgen.storage._pg_rows import ATTEMPT_COLS, JOB_COLS, USAGE_COLS, aware
from contentgen.storage._pg_setup import constraint, integrity_error, is_integrity
from contentgen.storage.base import ClaimedJob, Lease

Conn = Any  # asyncpg.Connection


async def create_job(conn: Conn, job: Job) -> Job:
    if job.status is not JobStatus.PENDING:
        raise checks.not_pending(job)
    try:
        await conn.execute(
            f"INSERT INTO jobs ({JOB_COLS}) "
            "VALUES ($1, $2, $3, $4::jsonb, $5::jsonb, $6, $7, $8, $9, $10, $11)",
            job.id, job.client_id, job.status.value, job.params.model_dump_json(),
            None if job.result is None else job.result.model_dump_json(), job.error,
            job.strategy_version, job.template_version, job.request_key,
            aware(job.created_at), aware(job.updated_at),
        )  # fmt: skip
    except Exception as exc:
        if not is_integrity(exc):
            raise
        kind, _ = constraint(exc)
        if kind == "foreign_key":
            raise ClientNotFound(str(job.client_id)) from exc
        if kind == "unique":
            raise checks.duplicate("job", job.id) from exc
        raise integrity_error(exc) from exc
    return job


async def get_job(conn: Conn, job_id: uuid.UUID) -> Job | None:
    row = await conn.fetchrow(f"SELECT {JOB_COLS} FROM jobs WHERE id = $1", job_id)
    return None if row is None else rows.job_from(row)


async def find_jobs_by_prefix(conn: Conn, prefix: str, limit: int) -> list[Job]:
    escaped = prefix.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
    found = await conn.fetch(
        f"SELECT {JOB_COLS} FROM jobs WHERE id::text LIKE $1 ORDER BY seq LIMIT $2",
        escaped + "%", limit,
    )  # fmt: skip
    return [rows.job_from(r) for r in found]


async def find_job_by_key(conn: Conn, key: str) -> Job | None:
    row = await conn.fetchrow(
        f"SELECT {JOB_COLS} FROM jobs WHERE request_key = $1 "
        "ORDER BY created_at DESC, seq DESC LIMIT 1",
        key,
    )
    return None if row is None else rows.job_from(row)


def _where(filt: JobFilter) -> tuple[str, list[Any]]:
    clauses: list[str] = []
    params: list[Any] = []
    for column, value in (
        ("client_id", filt.client_id),
        ("status", None if filt.status is None else filt.status.value),
        ("strategy_version", filt.strategy_version),
        ("template_version", filt.template_version),
    ):
        if value is not None:
            params.append(value)
            clauses.append(f"{column} = ${len(params)}")
    return (f" WHERE {' AND '.join(clauses)}" if clauses else ""), params


async def list_jobs(conn: Conn, filt: JobFilter) -> JobPage:
    where, params = _where(filt)
    if filt.cursor is not None:
        params.append(checks.parse_cursor(filt.cursor))
        where += (" AND " if where else " WHERE ") + f"seq < ${len(params)}"
    limit = max(filt.limit, 0)
    params.append(limit + 1)  # one more tells whether there is a next page
    found = await conn.fetch(
        f"SELECT {JOB_COLS}, seq FROM jobs{where} ORDER BY seq DESC LIMIT ${len(params)}",
        *params,
    )
    page = found[:limit]
    more = len(found) > limit and bool(page)
    return JobPage(
        jobs=[rows.job_from(r) for r in page],
        next_cursor=checks.make_cursor(page[-1]["seq"]) if more else None,
    )


async def count_jobs(conn: Conn, client_id: uuid.UUID) -> int:
    return int(await conn.fetchval("SELECT count(*) FROM jobs WHERE client_id = $1", client_id))


async def list_usage(conn: Conn, job_id: uuid.UUID) -> list[LlmUsage]:
    found = await conn.fetch(
        f"SELECT {USAGE_COLS} FROM llm_usage WHERE job_id = $1 ORDER BY seq", job_id
    )
    return [rows.usage_from(r) for r in found]


async def _status(conn: Conn, job_id: uuid.UUID) -> JobStatus:
    value = await conn.fetchval("SELECT status FROM jobs WHERE id = $1", job_id)
    if value is None:
        raise JobNotFound(str(job_id))
    return JobStatus(value)


# the lease protocol (PLAN.md "Storage") ----------
async def claim_jobs(
    conn: Conn,
    holder: str,
    *,
    limit: int,
    lease_seconds: float,
    max_attempts: int,
    job_id: uuid.UUID | None = None,
) -> list[ClaimedJob]:
    checks.check_lease_args(limit, lease_seconds, max_attempts)
    found = await conn.fetch(
        "SELECT * FROM contentgen_claim_jobs($1, $2, $3, $4, $5)",
        holder, limit, float(lease_seconds), max_attempts, job_id,
    )  # fmt: skip
    return [rows.claimed_from(r) for r in found]


async def heartbeat(conn: Conn, lease: Lease, lease_seconds: float) -> Lease | None:
    checks.check_lease_args(1, lease_seconds, 1)
    row = await conn.fetchrow(
        "SELECT * FROM contentgen_heartbeat($1, $2, $3)",
        lease.job_id, lease.token, float(lease_seconds),
    )  # fmt: skip
    return None if row is None else rows.lease_from(lease.job_id, row)


def finish_args(
    lease: Lease,
    status: JobStatus,
    result: ContentResult | None,
    error: str | None,
    usage: Sequence[LlmUsage],
    strategy_version: int | None,
    template_version: str | None,
    client_id: uuid.UUID | None,
) -> list[Any]:
    """Checked arguments of ``contentgen_finish_job`` (shared with SupabaseStorage)."""
    checks.check_finish(status, result is not None, error)
    if client_id is not None:
        checks.check_usage(lease.job_id, client_id, list(usage))
    else:
        for u in usage:
            if u.job_id != lease.job_id:
                checks.check_usage(lease.job_id, u.client_id, [u])
    return [
        lease.job_id,
        lease.token,
        status.value,
        None if result is None else result.model_dump_json(),
        error,
        json.dumps([rows.usage_doc(u) for u in checks.stamped(usage, lease.attempt)]),
        strategy_version,
        template_version,
    ]


async def finish_job(conn: Conn, lease: Lease, args: list[Any]) -> Job | None:
    try:
        row = await conn.fetchrow(
            "SELECT * FROM contentgen_finish_job($1, $2, $3, $4::jsonb, $5, $6::jsonb, $7, $8)",
            *args,
        )
    except Exception as exc:
        if is_integrity(exc) and constraint(exc)[0] == "unique":
            raise checks.duplicate("usage row", "in this batch") from exc
        if is_integrity(exc) and constraint(exc)[0] == "foreign_key":
            raise InvalidInput(
                "usage: a usage row names a job or client that does not exist", field="usage"
            ) from exc
        raise
    return None if row is None or row["id"] is None else rows.job_from(row)


def release_usage(lease: Lease, usage: Sequence[LlmUsage]) -> list[dict[str, Any]] | None:
    """Checked usage rows of ``contentgen_release_job`` (shared with SupabaseStorage)."""
    if not usage:
        return None
    checks.check_usage(lease.job_id, usage[0].client_id, list(usage))
    return [rows.usage_doc(u) for u in checks.stamped(usage, lease.attempt)]


async def release_job(conn: Conn, lease: Lease, usage: str | None) -> bool:
    """``usage``: the rows as ``finish_args`` encodes them (None: no rows)."""
    sql = "SELECT contentgen_release_job($1, $2, $3::jsonb)"
    return bool(await conn.fetchval(sql, lease.job_id, lease.token, usage))


def fenced_usage_args(
    lease: Lease, usage: Sequence[LlmUsage]
) -> tuple[uuid.UUID, list[dict[str, Any]]] | None:
    """``contentgen_store_fenced_usage``'s client id and rows (shared with SupabaseStorage);
    None when there is nothing to store."""
    if not usage:
        return None
    client_id = usage[0].client_id
    checks.check_usage(lease.job_id, client_id, usage)
    return client_id, [rows.usage_doc(u) for u in checks.stamped(usage, lease.attempt)]


def fenced_usage_refused(job_id: uuid.UUID, client_id: uuid.UUID, found: bool) -> Exception:
    """What a -1 from ``contentgen_store_fenced_usage`` means: no such job, or another client's."""
    if not found:
        return JobNotFound(str(job_id))
    return InvalidInput(
        f"usage: rows of client {client_id} cannot be stored with job {job_id} of another "
        "client", field="usage",
    )  # fmt: skip


async def store_fenced_usage(conn: Conn, lease: Lease, usage: Sequence[LlmUsage]) -> int:
    args = fenced_usage_args(lease, usage)
    if args is None:
        return 0
    client_id, docs = args
    sql = "SELECT contentgen_store_fenced_usage($1, $2, $3::jsonb)"
    stored = int(await conn.fetchval(sql, lease.job_id, client_id, json.dumps(docs)))
    if stored < 0:
        found = await conn.fetchval("SELECT EXISTS (SELECT FROM jobs WHERE id = $1)", lease.job_id)
        raise fenced_usage_refused(lease.job_id, client_id, bool(found))
    return stored


async def cancel_job(conn: Conn, job_id: uuid.UUID) -> Job:
    row = await conn.fetchrow("SELECT * FROM contentgen_cancel_job($1)", job_id)
    if row is None or row["id"] is None:
        raise checks.wrong_state(job_id, await _status(conn, job_id), "cancelled")
    return rows.job_from(row)


async def retry_job(conn: Conn, job_id: uuid.UUID) -> Job:
    row = await conn.fetchrow("SELECT * FROM contentgen_retry_job($1)", job_id)
    if row is None or row["id"] is None:
        raise checks.wrong_state(job_id, await _status(conn, job_id), "retried")
    return rows.job_from(row)


async def job_attempts(conn: Conn, job_id: uuid.UUID) -> list[JobAttempt]:
    found = await conn.fetch(
        f"SELECT {ATTEMPT_COLS} FROM job_attempts WHERE job_id = $1 ORDER BY token", job_id
    )
    return [rows.attempt_from(r) for r in found]


async def usage_summary(
    conn: Conn, client_id: uuid.UUID | None, since: datetime | None, until: datetime | None
) -> list[UsageSummary]:
    found = await conn.fetch(
        "SELECT * FROM contentgen_usage_summary($1, $2, $3)",
        client_id, None if since is None else aware(since), None if until is None else aware(until),
    )  # fmt: skip
    return [rows.summary_from(r) for r in found]
