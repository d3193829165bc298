"""The SQL behind ``PostgresStorage`` for jobs, leases and usage rows.

State changes that need more than one statement are SQL functions shipped in the migrations
(``contentgen_claim_jobs`` etc., see ``0002_job_queue.sql``), so that ``SupabaseStorage`` runs the
very same transactions through PostgREST.
"""

from __future__ import annotations

import json
import uuid
from collections.abc import Sequence
from typing import Any

from contentgen.errors import ClientNotFound, InvalidInput, JobNotFound
from contentgen.models import ContentResult, Job, JobFilter, JobStatus, LlmUsage
from contentgen.storage import _checks as checks
from contentgen.storage import _pg_rows as rows
from contentgen.storage._lease import ClaimedJob, Lease
from contentgen.storage._pg_rows import JOB_COLS, USAGE_COLS, aware
from contentgen.storage._pg_setup import constraint, integrity_error, is_integrity

Conn = Any  # asyncpg.Connection
FINISHED = (JobStatus.COMPLETED, JobStatus.FAILED, JobStatus.CANCELLED)


async def create_job(conn: Conn, job: Job) -> Job:
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


async def list_jobs(conn: Conn, filt: JobFilter) -> list[Job]:
    where, params = _where(filt)
    params.append(max(filt.limit, 0))
    found = await conn.fetch(
        f"SELECT {JOB_COLS} FROM jobs{where} ORDER BY created_at DESC, seq DESC "
        f"LIMIT ${len(params)}",
        *params,
    )
    return [rows.job_from(r) for r in found]


async def count_jobs(conn: Conn, client_id: uuid.UUID) -> int:
    return int(await conn.fetchval("SELECT count(*) FROM jobs WHERE client_id = $1", client_id))


async def list_usage(conn: Conn, job_id: uuid.UUID) -> list[LlmUsage]:
    found = await conn.fetch(
        f"SELECT {USAGE_COLS} FROM llm_usage WHERE job_id = $1 ORDER BY created_at, seq", job_id
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
    if limit <= 0:
        return []
    found = await conn.fetch(
        "SELECT * FROM contentgen_claim_jobs($1, $2, $3, $4, $5)",
        holder, limit, float(lease_seconds), max_attempts, job_id,
    )  # fmt: skip
    return [rows.claimed_from(r) for r in found]


async def heartbeat(conn: Conn, lease: Lease, lease_seconds: float) -> Lease | None:
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
    if status not in FINISHED:
        raise InvalidInput(
            f"status: a job finishes as completed, failed or cancelled, not {status.value}",
            field="status",
        )
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
        json.dumps([rows.usage_doc(u) for u in usage]),
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


async def release_job(conn: Conn, lease: Lease) -> bool:
    return bool(
        await conn.fetchval("SELECT contentgen_release_job($1, $2)", lease.job_id, lease.token)
    )


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


# the pre-lease protocol of main (until the storage branch removes it) ----------
async def start_job(
    conn: Conn, job_id: uuid.UUID, strategy_version: int | None, template_version: str | None
) -> bool:
    status = await conn.execute(
        "UPDATE jobs SET status = 'in_progress', strategy_version = $1, template_version = $2, "
        "updated_at = clock_timestamp() WHERE id = $3 AND status = 'pending'",
        strategy_version, template_version, job_id,
    )  # fmt: skip
    if status == "UPDATE 1":
        return True
    await _status(conn, job_id)
    return False


async def end_job(
    conn: Conn,
    job_id: uuid.UUID,
    status: JobStatus,
    result: ContentResult | None,
    error: str | None,
    usage: list[LlmUsage],
) -> Job:
    allowed = ["in_progress"] if status is JobStatus.COMPLETED else ["pending", "in_progress"]
    async with conn.transaction():
        row = await conn.fetchrow(
            "UPDATE jobs SET status = $1, result = coalesce($2::jsonb, result), error = $3, "
            f"updated_at = clock_timestamp() WHERE id = $4 AND status = ANY($5::text[]) "
            f"RETURNING {JOB_COLS}",
            status.value, None if result is None else result.model_dump_json(), error,
            job_id, allowed,
        )  # fmt: skip
        if row is None:
            action = "completed" if status is JobStatus.COMPLETED else "failed"
            raise checks.wrong_state(job_id, await _status(conn, job_id), action)
        job = rows.job_from(row)
        checks.check_usage(job.id, job.client_id, usage)
        docs = json.dumps([rows.usage_doc(u) for u in usage])
        try:
            await conn.execute(
                "INSERT INTO llm_usage (id, job_id, client_id, provider, model, input_tokens, "
                "output_tokens, cost_nanos, latency_ms, created_at) "
                "SELECT id, job_id, client_id, provider, model, input_tokens, output_tokens, "
                "cost_nanos, latency_ms, created_at "
                "FROM jsonb_populate_recordset(NULL::llm_usage, $1::jsonb)",
                docs,
            )
        except Exception as exc:
            if is_integrity(exc) and constraint(exc)[0] == "unique":
                raise checks.duplicate("usage row", usage[0].id if usage else "") from exc
            raise
    return job


async def requeue_stale(conn: Conn) -> int:
    status: str = await conn.execute(
        "UPDATE jobs SET status = 'pending', updated_at = clock_timestamp() "
        "WHERE status = 'in_progress'"
    )
    return int(status.rsplit(" ", 1)[1])
