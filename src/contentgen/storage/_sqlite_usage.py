"""The synchronous SQL for usage rows (``SqliteStorage``'s thread). Money is integer
nano-dollars (``cost_nanos``), so sums are exact; NULL is an unknown price."""

from __future__ import annotations

import sqlite3
import uuid
from collections.abc import Sequence
from datetime import datetime
from typing import Any

from contentgen.models import LlmUsage, UsageSummary, from_nanos
from contentgen.storage import _checks as checks
from contentgen.storage import _rows as rows
from contentgen.storage._sqlite_base import Conn, constraint_kind, next_seq, storage_error

_INSERT = (
    f"INSERT INTO llm_usage ({rows.USAGE_COLS}, seq) "
    f"VALUES ({', '.join('?' * rows.USAGE_WIDTH)}, {next_seq('llm_usage')})"
)
_SUMMARY = (
    "SELECT provider, model, COUNT(*), COUNT(error), SUM(input_tokens), SUM(output_tokens), "
    "SUM(cached_tokens), SUM(reasoning_tokens), SUM(cost_nanos), COUNT(*) - COUNT(cost_nanos) "
    "FROM llm_usage{where} GROUP BY provider, model ORDER BY provider, model"
)


def insert_usage(conn: Conn, usage: Sequence[LlmUsage]) -> None:
    """Inside the caller's transaction."""
    for u in usage:
        try:
            conn.execute(_INSERT, rows.usage_params(u))
        except sqlite3.IntegrityError as exc:
            if constraint_kind(exc) == "unique" and "llm_usage.id" in str(exc):
                raise checks.duplicate("usage row", u.id) from exc
            raise storage_error(exc) from exc


def insert_new_usage(conn: Conn, usage: Sequence[LlmUsage]) -> int:
    """The rows whose id is not stored yet (inside the caller's transaction); how many."""
    sql = f"{_INSERT} ON CONFLICT (id) DO NOTHING"
    return sum(conn.execute(sql, rows.usage_params(u)).rowcount for u in usage)


def list_usage(conn: Conn, job_id: uuid.UUID) -> list[LlmUsage]:
    sql = f"SELECT {rows.USAGE_COLS} FROM llm_usage WHERE job_id = ? ORDER BY seq"
    return [rows.usage_from(r) for r in conn.execute(sql, (str(job_id),))]


def usage_summary(
    conn: Conn, client_id: uuid.UUID | None, since: datetime | None, until: datetime | None
) -> list[UsageSummary]:
    clauses: list[str] = []
    params: list[Any] = []
    if client_id is not None:
        clauses.append("client_id = ?")
        params.append(str(client_id))
    if since is not None:
        clauses.append("created_at >= ?")
        params.append(rows.ts(since))
    if until is not None:
        clauses.append("created_at < ?")
        params.append(rows.ts(until))
    where = f" WHERE {' AND '.join(clauses)}" if clauses else ""
    return [_summary(r) for r in conn.execute(_SUMMARY.format(where=where), params)]


def _summary(r: Sequence[Any]) -> UsageSummary:
    return UsageSummary(
        provider=r[0], model=r[1], calls=r[2], failed_calls=r[3], input_tokens=r[4],
        output_tokens=r[5], cached_tokens=r[6], reasoning_tokens=r[7],
        cost=None if r[8] is None else from_nanos(r[8]), unpriced_calls=r[9],
    )  # fmt: skip
