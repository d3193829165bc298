"""The synchronous SQL of job leases: claim, heartbeat, finish, release, cancel, retry.

Every operation that reads then writes runs in ``tx`` (``BEGIN IMMEDIATE``): the write lock is
taken before the read, so two processes on one file can never both see a job as claimable.
The lease itself is one row per job in ``job_leases`` (heartbeats touch only that row); each
claim is also recorded in ``job_attempts``, which retries never clear.
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from datetime import timedelta
from typing import Any

from contentgen.errors import JobNotFound
from contentgen.models import ContentResult, Job, JobAttempt, JobStatus, LlmUsage, utcnow
from contentgen.storage import _checks as checks
from contentgen.storage import _rows as rows
from contentgen.storage._sqlite_base import Conn, one, tx
from contentgen.storage._sqlite_budgets import drop_job_reservations
from contentgen.storage._sqlite_usage import insert_new_usage, insert_usage
from contentgen.storage.base import ClaimedJob, Lease

_LEASE_COLS = "job_id, holder, token, attempt, expires_at"
_ATTEMPT_COLS = "job_id, token, attempt, holder, claimed_at, ended_at, outcome, error"

_EXHAUSTED = (
    "SELECT j.id, l.holder, l.renewed_at, l.attempt - l.attempt_base, l.token "
    "FROM jobs j JOIN job_leases l ON l.job_id = j.id "
    "WHERE j.status = 'in_progress' AND l.expires_at <= ? AND l.attempt - l.attempt_base >= ?"
)
# Oldest first among pending jobs and jobs whose lease expired (or that never had one: they
# were left in_progress by a version without leases).
_CANDIDATES = (
    "SELECT seq, id FROM (SELECT j.seq, j.id FROM jobs j WHERE j.status = 'pending'{only} "
    "ORDER BY j.seq LIMIT ?) "
    "UNION ALL "
    "SELECT seq, id FROM (SELECT j.seq, j.id FROM jobs j "
    "LEFT JOIN job_leases l ON l.job_id = j.id WHERE j.status = 'in_progress' "
    "AND (l.expires_at IS NULL OR l.expires_at <= ?){only} ORDER BY j.seq LIMIT ?) "
    "ORDER BY seq LIMIT ?"
)
_TAKE = (
    "INSERT INTO job_leases (job_id, holder, token, attempt, attempt_base, expires_at, "
    "renewed_at) VALUES (?, ?, 1, 1, 0, ?, ?) "
    "ON CONFLICT (job_id) DO UPDATE SET holder = excluded.holder, token = token + 1, "
    "attempt = attempt + 1, expires_at = excluded.expires_at, renewed_at = excluded.renewed_at "
    f"RETURNING {_LEASE_COLS}"
)
_HOLDS = (
    "SELECT 1 FROM jobs j JOIN job_leases l ON l.job_id = j.id "
    "WHERE j.id = ? AND j.status = 'in_progress' AND l.token = ?"
)
_HEARTBEAT = (
    "UPDATE job_leases SET expires_at = ?, renewed_at = ? WHERE job_id = ? AND token = ? "
    "AND EXISTS (SELECT 1 FROM jobs WHERE jobs.id = job_leases.job_id "
    f"AND jobs.status = 'in_progress') RETURNING {_LEASE_COLS}"
)
_FINISH = (
    "UPDATE jobs SET status = ?, result = ?, error = ?, "
    "strategy_version = COALESCE(?, strategy_version), "
    "template_version = COALESCE(?, template_version), updated_at = ? "
    f"WHERE id = ? RETURNING {rows.JOB_COLS}"
)
_END_ATTEMPT = (
    "UPDATE job_attempts SET outcome = ?, error = ?, ended_at = ? "
    "WHERE job_id = ? AND outcome IS NULL"
)


def _lease_from(r: Sequence[Any]) -> Lease:
    return Lease(
        job_id=uuid.UUID(r[0]),
        holder=r[1],
        token=r[2],
        attempt=r[3],
        expires_at=rows.parse_ts(r[4]),
    )


def _end_attempt(conn: Conn, job_id: str, outcome: str, error: str | None, now: str) -> None:
    """Close the job's running attempt (there is at most one)."""
    conn.execute(_END_ATTEMPT, (outcome, error, now, job_id))


def claim_jobs(
    conn: Conn,
    holder: str,
    limit: int,
    lease_seconds: float,
    max_attempts: int,
    job_id: uuid.UUID | None,
) -> list[ClaimedJob]:
    checks.check_lease_args(limit, lease_seconds, max_attempts)
    clock = utcnow()
    now, expires = rows.ts(clock), rows.ts(clock + timedelta(seconds=lease_seconds))
    only, only_args = ("", ()) if job_id is None else (" AND j.id = ?", (str(job_id),))
    with tx(conn):
        # expired leases that used up the attempts: failed instead of claimed
        for jid, last, seen, used, _token in conn.execute(
            _EXHAUSTED + only, (now, max_attempts, *only_args)
        ).fetchall():
            error = checks.worker_lost(used, last, rows.parse_ts(seen))
            conn.execute(
                "UPDATE jobs SET status = 'failed', error = ?, updated_at = ? WHERE id = ?",
                (error, now, jid),
            )
            _end_attempt(conn, jid, "lost", error, now)
        sql = _CANDIDATES.format(only=only)
        found = conn.execute(sql, (*only_args, limit, now, *only_args, limit, limit)).fetchall()
        ids = [r[1] for r in found]
        if not ids:
            return []
        leases: dict[str, Lease] = {}
        for jid in ids:
            leases[jid] = _lease_from(conn.execute(_TAKE, (jid, holder, expires, now)).fetchone())
            _end_attempt(conn, jid, "lost", None, now)  # the expired claim, if any
        conn.executemany(
            f"INSERT INTO job_attempts ({_ATTEMPT_COLS}) VALUES (?, ?, ?, ?, ?, NULL, NULL, NULL)",
            [(jid, le.token, le.attempt, holder, now) for jid, le in leases.items()],
        )
        marks = ", ".join("?" * len(ids))
        conn.execute(
            "UPDATE jobs SET status = 'in_progress', updated_at = ? "
            f"WHERE status = 'pending' AND id IN ({marks})",
            (now, *ids),
        )
        got = conn.execute(
            f"SELECT {rows.JOB_COLS} FROM jobs WHERE id IN ({marks}) ORDER BY seq", ids
        ).fetchall()
    return [ClaimedJob(job=rows.job_from(r), lease=leases[r[0]]) for r in got]


def heartbeat(conn: Conn, lease: Lease, lease_seconds: float) -> Lease | None:
    checks.check_lease_args(1, lease_seconds, 1)
    clock = utcnow()
    expires = rows.ts(clock + timedelta(seconds=lease_seconds))
    row = one(conn, _HEARTBEAT, (expires, rows.ts(clock), str(lease.job_id), lease.token))
    return None if row is None else _lease_from(row)


def finish_job(
    conn: Conn,
    lease: Lease,
    status: JobStatus,
    result: ContentResult | None,
    error: str | None,
    usage: Sequence[LlmUsage],
    strategy_version: int | None,
    template_version: str | None,
) -> Job | None:
    checks.check_finish(status, result is not None, error)
    jid, now = str(lease.job_id), rows.ts(utcnow())
    with tx(conn):
        if one(conn, _HOLDS, (jid, lease.token)) is None:
            return None
        data = None if result is None else result.model_dump_json()
        params = (status.value, data, error, strategy_version, template_version, now, jid)
        job = rows.job_from(conn.execute(_FINISH, params).fetchone())
        _store_usage(conn, job.id, job.client_id, usage, lease.attempt)
        _end_attempt(conn, jid, status.value, error, now)
    return job


def _store_usage(conn: Conn, job_id: uuid.UUID, client_id: uuid.UUID,
                 usage: Sequence[LlmUsage], attempt: int) -> None:  # fmt: skip
    """The job's usage rows, checked, replacing its budget holds (inside the caller's tx)."""
    checks.check_usage(job_id, client_id, usage)
    insert_usage(conn, checks.stamped(usage, attempt))
    drop_job_reservations(conn, str(job_id))  # the usage rows replace what they held


def release_job(conn: Conn, lease: Lease, usage: Sequence[LlmUsage] = ()) -> bool:
    jid, now = str(lease.job_id), rows.ts(utcnow())
    with tx(conn):
        if one(conn, _HOLDS, (jid, lease.token)) is None:
            return False
        if usage:
            client = one(conn, "SELECT client_id FROM jobs WHERE id = ?", (jid,))
            assert client is not None
            _store_usage(conn, lease.job_id, uuid.UUID(client[0]), usage, lease.attempt)
        conn.execute(
            "UPDATE jobs SET status = 'pending', updated_at = ? WHERE id = ?", (now, jid)
        )
        conn.execute(
            "UPDATE job_leases SET attempt = attempt - 1, expires_at = ? WHERE job_id = ?",
            (now, jid),
        )
        _end_attempt(conn, jid, "released", None, now)
    return True


def store_fenced_usage(conn: Conn, lease: Lease, usage: Sequence[LlmUsage]) -> int:
    jid = str(lease.job_id)
    with tx(conn):
        client = one(conn, "SELECT client_id FROM jobs WHERE id = ?", (jid,))
        if client is None:
            raise JobNotFound(jid)
        checks.check_usage(lease.job_id, uuid.UUID(client[0]), usage)
        return insert_new_usage(conn, checks.stamped(usage, lease.attempt))


def _status(conn: Conn, job_id: uuid.UUID) -> JobStatus:
    row = one(conn, "SELECT status FROM jobs WHERE id = ?", (str(job_id),))
    if row is None:
        raise JobNotFound(str(job_id))
    return JobStatus(row[0])


def cancel_job(conn: Conn, job_id: uuid.UUID) -> Job:
    jid, now = str(job_id), rows.ts(utcnow())
    with tx(conn):
        row = one(
            conn,
            "UPDATE jobs SET status = 'cancelled', updated_at = ? "
            f"WHERE id = ? AND status IN ('pending', 'in_progress') RETURNING {rows.JOB_COLS}",
            (now, jid),
        )
        if row is None:
            raise checks.wrong_state(job_id, _status(conn, job_id), "cancelled")
        _end_attempt(conn, jid, "cancelled", None, now)
    return rows.job_from(row)


def retry_job(conn: Conn, job_id: uuid.UUID) -> Job:
    jid, now = str(job_id), rows.ts(utcnow())
    with tx(conn):
        row = one(
            conn,
            "UPDATE jobs SET status = 'pending', result = NULL, error = NULL, updated_at = ? "
            f"WHERE id = ? AND status IN ('failed', 'cancelled') RETURNING {rows.JOB_COLS}",
            (now, jid),
        )
        if row is None:
            raise checks.wrong_state(job_id, _status(conn, job_id), "retried")
        conn.execute("UPDATE job_leases SET attempt_base = attempt WHERE job_id = ?", (jid,))
    return rows.job_from(row)


def job_attempts(conn: Conn, job_id: uuid.UUID) -> list[JobAttempt]:
    cur = conn.execute(
        f"SELECT {_ATTEMPT_COLS} FROM job_attempts WHERE job_id = ? ORDER BY token",
        (str(job_id),),
    )
    return [
        JobAttempt(
            job_id=uuid.UUID(r[0]),
            token=r[1],
            attempt=r[2],
            holder=r[3],
            claimed_at=rows.parse_ts(r[4]),
            ended_at=None if r[5] is None else rows.parse_ts(r[5]),
            outcome=r[6],
            error=r[7],
        )
        for r in cur
    ]
