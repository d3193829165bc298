"""The synchronous SQL for budgets, reservations and the usage report (``SqliteStorage``'s
thread). Money is integer nano-dollars.

A reservation counts while its job is pending or in progress; ``finish_job`` deletes the
job's reservations in the transaction that inserts its usage rows, so the money is counted
once, always. ``reserve`` reads and writes inside ``BEGIN IMMEDIATE``: every writer, in any
process, is serialized against it, so parallel calls can never hold more than the limit.
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from datetime import datetime
from typing import Any

from contentgen.models import NO_CALL, UsageGroup, UsageLine, UsageReport, utcnow
from contentgen.storage import _rows as rows
from contentgen.storage._sqlite_base import Conn, one, require_client, tx
from contentgen.storage.base import BudgetState, Reservation, Reserved

_ACTIVE = "('pending', 'in_progress')"
_SPENT = (
    "SELECT COALESCE(SUM(cost_nanos), 0), COUNT(*) - COUNT(cost_nanos) FROM llm_usage "
    "WHERE client_id = ? AND created_at >= ? AND created_at < ?"
)
_HELD = (
    "SELECT COALESCE(SUM(r.amount_nanos), 0) FROM budget_reservations r "
    f"JOIN jobs j ON j.id = r.job_id WHERE r.client_id = ? AND j.status IN {_ACTIVE}"
)
_STALE = (
    "DELETE FROM budget_reservations WHERE client_id = ? AND job_id IN "
    f"(SELECT id FROM jobs WHERE client_id = ? AND status NOT IN {_ACTIVE})"
)


def set_budget(conn: Conn, client_id: uuid.UUID, limit_nanos: int | None) -> None:
    with tx(conn):
        require_client(conn, client_id)
        if limit_nanos is None:
            conn.execute("DELETE FROM budgets WHERE client_id = ?", (str(client_id),))
            return
        conn.execute(
            "INSERT INTO budgets (client_id, limit_nanos, updated_at) VALUES (?, ?, ?) "
            "ON CONFLICT (client_id) DO UPDATE SET limit_nanos = excluded.limit_nanos, "
            "updated_at = excluded.updated_at",
            (str(client_id), limit_nanos, rows.ts(utcnow())),
        )


def list_budgets(conn: Conn) -> dict[uuid.UUID, int]:
    found = conn.execute("SELECT client_id, limit_nanos FROM budgets")
    return {uuid.UUID(c): int(n) for c, n in found}


def _state(conn: Conn, client_id: uuid.UUID, since: datetime, until: datetime) -> BudgetState:
    cid = str(client_id)
    spent, unpriced = one(conn, _SPENT, (cid, rows.ts(since), rows.ts(until)))
    (held,) = one(conn, _HELD, (cid,))
    return BudgetState(int(spent), int(held), int(unpriced))


def budget_state(conn: Conn, client_id: uuid.UUID, since: datetime, until: datetime) -> BudgetState:
    return _state(conn, client_id, since, until)


def reserve_budget(
    conn: Conn, client_id: uuid.UUID, job_id: uuid.UUID, amount_nanos: int, limit_nanos: int,
    since: datetime, until: datetime,
) -> Reserved:  # fmt: skip
    with tx(conn):
        conn.execute(_STALE, (str(client_id), str(client_id)))
        state = _state(conn, client_id, since, until)
        if state.spent_nanos + state.reserved_nanos + amount_nanos > limit_nanos:
            return Reserved(None, state)
        held = Reservation(uuid.uuid4(), client_id, job_id, amount_nanos)
        conn.execute(
            "INSERT INTO budget_reservations (id, client_id, job_id, amount_nanos, created_at) "
            "VALUES (?, ?, ?, ?, ?)",
            (str(held.id), str(client_id), str(job_id), amount_nanos, rows.ts(utcnow())),
        )
    return Reserved(held, state)


def settle_reservation(conn: Conn, reservation_id: uuid.UUID, amount_nanos: int) -> bool:
    rid = (str(reservation_id),)
    if amount_nanos <= 0:
        return conn.execute("DELETE FROM budget_reservations WHERE id = ?", rid).rowcount > 0
    sql = "UPDATE budget_reservations SET amount_nanos = ? WHERE id = ?"
    return conn.execute(sql, (amount_nanos, *rid)).rowcount > 0


def drop_job_reservations(conn: Conn, job_id: str) -> None:
    """Inside ``finish_job``'s transaction."""
    conn.execute("DELETE FROM budget_reservations WHERE job_id = ?", (job_id,))


# -- the usage report -----------------------------------------------------------------------

_USAGE_KEY = {"client": "client_id", "model": "model", "day": "substr(created_at, 1, 10)"}
_JOB_KEY = {"client": "client_id", "model": "model", "day": "substr(updated_at, 1, 10)"}
_LAST_MODEL = (
    f"COALESCE((SELECT u.model FROM llm_usage u WHERE u.job_id = j.id ORDER BY u.seq DESC "
    f"LIMIT 1), '{NO_CALL}')"
)


def _window(column: str, since: datetime | None, until: datetime | None) -> tuple[str, list[Any]]:
    clauses, params = [], []
    if since is not None:
        clauses.append(f"{column} >= ?")
        params.append(rows.ts(since))
    if until is not None:
        clauses.append(f"{column} < ?")
        params.append(rows.ts(until))
    return " AND ".join(clauses), params


def _clients(column: str, client_ids: Sequence[uuid.UUID] | None) -> tuple[str, list[Any]]:
    if client_ids is None:
        return "", []
    marks = ", ".join("?" * len(client_ids)) or "NULL"
    return f"{column} IN ({marks})", [str(c) for c in client_ids]


def _where(*parts: tuple[str, list[Any]]) -> tuple[str, list[Any]]:
    clauses = [c for c, _p in parts if c]
    params = [p for _c, ps in parts for p in ps]
    return (f" WHERE {' AND '.join(clauses)}" if clauses else ""), params


def _usage_lines(
    conn: Conn, key: str, client_ids: Sequence[uuid.UUID] | None, since: datetime | None,
    until: datetime | None,
) -> dict[str, UsageLine]:  # fmt: skip
    inner, inner_params = _where(_clients("client_id", client_ids))
    outer, outer_params = _where(_window("created_at", since, until))
    sql = (
        f"SELECT {key}, COUNT(*), COUNT(error), COUNT(prev_error), SUM(input_tokens), "
        "SUM(output_tokens), SUM(cached_tokens), SUM(reasoning_tokens), SUM(cost_nanos), "
        "COUNT(*) - COUNT(cost_nanos) FROM (SELECT *, LAG(error) OVER (PARTITION BY job_id, "
        f"attempt ORDER BY seq) AS prev_error FROM llm_usage{inner}) AS r{outer} GROUP BY 1"
    )
    found: dict[str, UsageLine] = {}
    for r in conn.execute(sql, [*inner_params, *outer_params]):
        found[str(r[0])] = UsageLine(
            key=str(r[0]), calls=r[1], failed_calls=r[2], retries=r[3], input_tokens=r[4],
            output_tokens=r[5], cached_tokens=r[6], reasoning_tokens=r[7],
            cost_nanos=None if r[8] is None else int(r[8]), unpriced_calls=r[9],
        )  # fmt: skip
    return found


def _job_counts(
    conn: Conn, key: str, by_model: bool, client_ids: Sequence[uuid.UUID] | None,
    since: datetime | None, until: datetime | None,
) -> dict[str, tuple[int, int]]:  # fmt: skip
    where, params = _where(
        ("j.status IN ('completed', 'failed')", []),
        _clients("j.client_id", client_ids),
        _window("j.updated_at", since, until),
    )
    model = f", {_LAST_MODEL} AS model" if by_model else ""
    sql = (
        f"SELECT {key}, SUM(status = 'completed'), SUM(status = 'failed') FROM (SELECT "
        f"j.client_id, j.status, j.updated_at{model} FROM jobs j{where}) AS f GROUP BY 1"
    )
    return {str(r[0]): (int(r[1]), int(r[2])) for r in conn.execute(sql, params)}


def _lines(conn: Conn, by: UsageGroup | None, client_ids: Sequence[uuid.UUID] | None,
           since: datetime | None, until: datetime | None) -> list[UsageLine]:  # fmt: skip
    usage_key = _USAGE_KEY[by] if by else "'total'"
    job_key = _JOB_KEY[by] if by else "'total'"
    lines = _usage_lines(conn, usage_key, client_ids, since, until)
    for key, (pieces, failures) in _job_counts(
        conn, job_key, by == "model", client_ids, since, until
    ).items():
        line = lines.get(key) or UsageLine(key=key)
        lines[key] = line.model_copy(update={"pieces": pieces, "failures": failures})
    return [lines[k] for k in sorted(lines)]


def usage_report(conn: Conn, by: UsageGroup, client_ids: Sequence[uuid.UUID] | None,
                 since: datetime | None, until: datetime | None) -> UsageReport:  # fmt: skip
    conn.execute("BEGIN")  # one snapshot for the lines and the total
    try:
        lines = _lines(conn, by, client_ids, since, until)
        total = _lines(conn, None, client_ids, since, until)
    finally:
        conn.execute("COMMIT")
    return UsageReport(by=by, since=since, until=until, lines=lines,
                       total=total[0] if total else UsageLine(key="total"))  # fmt: skip
