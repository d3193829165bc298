"""The synchronous SQL for jobs (create, read, list) and prompt jobs; runs on
``SqliteStorage``'s worker thread. Leases are in ``_sqlite_leases``, usage in ``_sqlite_usage``.

``jobs.seq`` is the explicit creation order: each insert takes MAX(seq) + 1 in the same
statement, which SQLite's single writer makes unique across processes (the unique index
would refuse a duplicate anyway).
"""

from __future__ import annotations

import sqlite3
import uuid
from typing import Any

from contentgen.errors import ClientNotFound
from contentgen.models import Job, JobFilter, JobPage, JobStatus, PromptJob
from contentgen.storage import _checks as checks
from contentgen.storage import _rows as rows
from contentgen.storage._sqlite_base import Conn, constraint_kind, next_seq, one, storage_error

_INSERT_JOB = (
    f"INSERT INTO jobs ({rows.JOB_COLS}, seq) "
    f"VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, {next_seq('jobs')})"
)


def create_job(conn: Conn, job: Job) -> Job:
    if job.status is not JobStatus.PENDING:
        raise checks.not_pending(job)
    try:
        conn.execute(_INSERT_JOB, rows.job_params(job))
    except sqlite3.IntegrityError as exc:
        kind = constraint_kind(exc)
        if kind == "foreign_key":
            raise ClientNotFound(str(job.client_id)) from exc
        if kind == "unique" and "jobs.id" in str(exc):
            raise checks.duplicate("job", job.id) from exc
        raise storage_error(exc) from exc
    return job


def get_job(conn: Conn, job_id: uuid.UUID) -> Job | None:
    row = one(conn, f"SELECT {rows.JOB_COLS} FROM jobs WHERE id = ?", (str(job_id),))
    return None if row is None else rows.job_from(row)


def find_jobs_by_prefix(conn: Conn, prefix: str, limit: int) -> list[Job]:
    escaped = prefix.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
    cur = conn.execute(
        f"SELECT {rows.JOB_COLS} FROM jobs WHERE id LIKE ? ESCAPE '\\' ORDER BY seq LIMIT ?",
        (escaped + "%", limit),
    )
    return [rows.job_from(r) for r in cur.fetchall()]


def find_job_by_key(conn: Conn, key: str) -> Job | None:
    row = one(
        conn,
        f"SELECT {rows.JOB_COLS} FROM jobs WHERE request_key = ? ORDER BY seq DESC LIMIT 1",
        (key,),
    )
    return None if row is None else rows.job_from(row)


def list_jobs(conn: Conn, filt: JobFilter) -> JobPage:
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
    if filt.cursor is not None:
        clauses.append("seq < ?")
        params.append(checks.parse_cursor(filt.cursor))
    limit = max(filt.limit, 0)
    where = f" WHERE {' AND '.join(clauses)}" if clauses else ""
    sql = f"SELECT {rows.JOB_COLS}, seq FROM jobs{where} ORDER BY seq DESC LIMIT ?"
    params.append(limit + 1)  # one more tells whether there is a next page
    found = conn.execute(sql, params).fetchall()
    page = found[:limit]
    more = len(found) > limit and bool(page)
    return JobPage(
        jobs=[rows.job_from(r) for r in page],
        next_cursor=checks.make_cursor(page[-1][-1]) if more else None,
    )


def count_jobs(conn: Conn, client_id: uuid.UUID) -> int:
    (count,) = one(conn, "SELECT COUNT(*) FROM jobs WHERE client_id = ?", (str(client_id),))
    return int(count)


# prompt jobs ----------------------------------------------------------------------------------
def save_prompt_job(conn: Conn, job: PromptJob) -> PromptJob:
    conn.execute(
        f"INSERT INTO prompt_jobs ({rows.PROMPT_JOB_COLS}) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?) "
        "ON CONFLICT (id) DO UPDATE SET client_id = excluded.client_id, "
        "status = excluded.status, params = excluded.params, prompt = excluded.prompt, "
        "metadata = excluded.metadata, error = excluded.error, "
        "created_at = excluded.created_at, updated_at = excluded.updated_at",
        rows.prompt_job_params(job),
    )
    return job


def get_prompt_job(conn: Conn, job_id: uuid.UUID) -> PromptJob | None:
    sql = f"SELECT {rows.PROMPT_JOB_COLS} FROM prompt_jobs WHERE id = ?"
    row = one(conn, sql, (str(job_id),))
    return None if row is None else rows.prompt_job_from(row)
