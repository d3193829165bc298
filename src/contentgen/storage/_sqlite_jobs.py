"""The synchronous SQL for jobs and usage rows; runs on ``SqliteStorage``'s worker thread.

State changes are single guarded UPDATEs (``... WHERE status = ?``), so a job moves at most once
however many callers race for it; ``RETURNING`` saves the read-back round trip.
"""

from __future__ import annotations

import sqlite3
import uuid
from typing import Any

from contentgen.errors import ClientNotFound, JobNotFound
from contentgen.models import ContentResult, Job, JobFilter, JobStatus, LlmUsage, utcnow
from contentgen.storage import _checks as checks
from contentgen.storage import _rows as rows
from contentgen.storage._sqlite_ops import Conn, constraint_kind, one, storage_error, tx

_INSERT_JOB = f"INSERT INTO jobs ({rows.JOB_COLS}) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)"
_INSERT_USAGE = f"INSERT INTO llm_usage ({rows.USAGE_COLS}) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)"
_START = (
    "UPDATE jobs SET status = 'in_progress', strategy_version = ?, template_version = ?, "
    "updated_at = ? WHERE id = ? AND status = 'pending'"
)
_COMPLETE = (
    "UPDATE jobs SET status = 'completed', result = ?, error = NULL, updated_at = ? "
    f"WHERE id = ? AND status = 'in_progress' RETURNING {rows.JOB_COLS}"
)
_FAIL = (
    "UPDATE jobs SET status = 'failed', error = ?, updated_at = ? "
    f"WHERE id = ? AND status IN ('pending', 'in_progress') RETURNING {rows.JOB_COLS}"
)


def create_job(conn: Conn, job: Job) -> Job:
    try:
        conn.execute(_INSERT_JOB, rows.job_params(job))
    except sqlite3.IntegrityError as exc:
        kind = constraint_kind(exc)
        if kind == "foreign_key":
            raise ClientNotFound(str(job.client_id)) from exc
        if kind == "unique":
            raise checks.duplicate("job", job.id) from exc
        raise storage_error(exc) from exc
    return job


def get_job(conn: Conn, job_id: uuid.UUID) -> Job | None:
    row = one(conn, f"SELECT {rows.JOB_COLS} FROM jobs WHERE id = ?", (str(job_id),))
    return None if row is None else rows.job_from(row)


def find_jobs_by_prefix(conn: Conn, prefix: str, limit: int) -> list[Job]:
    escaped = prefix.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
    cur = conn.execute(
        f"SELECT {rows.JOB_COLS} FROM jobs WHERE id LIKE ? ESCAPE '\\' LIMIT ?",
        (escaped + "%", limit),
    )
    return [rows.job_from(r) for r in cur.fetchall()]


def find_job_by_key(conn: Conn, key: str) -> Job | None:
    row = one(
        conn,
        f"SELECT {rows.JOB_COLS} FROM jobs WHERE request_key = ? "
        "ORDER BY created_at DESC, rowid DESC LIMIT 1",
        (key,),
    )
    return None if row is None else rows.job_from(row)


def list_jobs(conn: Conn, filt: JobFilter) -> list[Job]:
    clauses: list[str] = []
    params: list[Any] = []
    if filt.client_id is not None:
        clauses.append("client_id = ?")
        params.append(str(filt.client_id))
    if filt.status is not None:
        clauses.append("status = ?")
        params.append(filt.status.value)
    if filt.strategy_version is not None:
        clauses.append("strategy_version = ?")
        params.append(filt.strategy_version)
    if filt.template_version is not None:
        clauses.append("template_version = ?")
        params.append(filt.template_version)
    where = f" WHERE {' AND '.join(clauses)}" if clauses else ""
    sql = f"SELECT {rows.JOB_COLS} FROM jobs{where} ORDER BY created_at DESC, rowid DESC LIMIT ?"
    params.append(max(filt.limit, 0))
    return [rows.job_from(r) for r in conn.execute(sql, params)]


def count_jobs(conn: Conn, client_id: uuid.UUID) -> int:
    (count,) = one(conn, "SELECT COUNT(*) FROM jobs WHERE client_id = ?", (str(client_id),))
    return int(count)


def _status(conn: Conn, job_id: uuid.UUID) -> JobStatus:
    row = one(conn, "SELECT status FROM jobs WHERE id = ?", (str(job_id),))
    if row is None:
        raise JobNotFound(str(job_id))
    return JobStatus(row[0])


def start_job(
    conn: Conn, job_id: uuid.UUID, strategy_version: int | None, template_version: str | None
) -> bool:
    now = rows.ts(utcnow())
    cur = conn.execute(_START, (strategy_version, template_version, now, str(job_id)))
    if cur.rowcount == 1:
        return True
    _status(conn, job_id)  # raises JobNotFound for an unknown id
    return False


def complete_job(
    conn: Conn, job_id: uuid.UUID, result: ContentResult, usage: list[LlmUsage]
) -> Job:
    params = (result.model_dump_json(), rows.ts(utcnow()), str(job_id))
    return _finish(conn, job_id, _COMPLETE, params, usage, "completed")


def fail_job(conn: Conn, job_id: uuid.UUID, error: str, usage: list[LlmUsage]) -> Job:
    params = (error, rows.ts(utcnow()), str(job_id))
    return _finish(conn, job_id, _FAIL, params, usage, "failed")


def _finish(
    conn: Conn,
    job_id: uuid.UUID,
    sql: str,
    params: tuple[Any, ...],
    usage: list[LlmUsage],
    action: str,
) -> Job:
    """Move the job with ``sql`` and store its usage rows, all in one transaction."""
    with tx(conn):
        found = conn.execute(sql, params).fetchall()
        if not found:
            raise checks.wrong_state(job_id, _status(conn, job_id), action)
        job = rows.job_from(found[0])
        checks.check_usage(job.id, job.client_id, usage)
        for u in usage:
            _insert_usage(conn, u)
    return job


def _insert_usage(conn: Conn, usage: LlmUsage) -> None:
    try:
        conn.execute(_INSERT_USAGE, rows.usage_params(usage))
    except sqlite3.IntegrityError as exc:
        if constraint_kind(exc) == "unique":
            raise checks.duplicate("usage row", usage.id) from exc
        raise storage_error(exc) from exc


def requeue_stale(conn: Conn) -> int:
    cur = conn.execute(
        "UPDATE jobs SET status = 'pending', updated_at = ? WHERE status = 'in_progress'",
        (rows.ts(utcnow()),),
    )
    return cur.rowcount


def list_usage(conn: Conn, job_id: uuid.UUID) -> list[LlmUsage]:
    sql = f"SELECT {rows.USAGE_COLS} FROM llm_usage WHERE job_id = ? ORDER BY created_at, rowid"
    return [rows.usage_from(r) for r in conn.execute(sql, (str(job_id),))]
