"""The synchronous SQL for jobs (create, read, list) and usage rows; runs on ``SqliteStorage``'s
worker thread. Leases are in ``_sqlite_leases``.

``jobs.seq`` is the explicit creation order: each insert takes MAX(seq) + 1 in the same
statement, which SQLite's single writer makes unique across processes (the unique index
would refuse a duplicate anyway).
"""

from __future__ import annotations

import sqlite3
import uuid
from collections.abc import Sequence
from typing import Any

from contentgen.errors import ClientNotFound
from contentgen.models import Job, JobFilter, JobPage, JobStatus, LlmUsage
from contentgen.storage import _checks as checks
from contentgen.storage import _rows as rows
from contentgen.storage._sqlite_ops import Conn, constraint_kind, one, storage_error

_INSERT_JOB = (
    f"INSERT INTO jobs ({rows.JOB_COLS}, seq) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, "
    "(SELECT COALESCE(MAX(seq), 0) + 1 FROM jobs))"
)
_INSERT_USAGE = f"INSERT INTO llm_usage ({rows.USAGE_COLS}) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)"


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


def insert_usage(conn: Conn, usage: Sequence[LlmUsage]) -> None:
    for u in usage:
        try:
            conn.execute(_INSERT_USAGE, rows.usage_params(u))
        except sqlite3.IntegrityError as exc:
            if constraint_kind(exc) == "unique":
                raise checks.duplicate("usage row", u.id) from exc
            raise storage_error(exc) from exc


def list_usage(conn: Conn, job_id: uuid.UUID) -> list[LlmUsage]:
    sql = f"SELECT {rows.USAGE_COLS} FROM llm_usage WHERE job_id = ? ORDER BY created_at, rowid"
    return [rows.usage_from(r) for r in conn.execute(sql, (str(job_id),))]
