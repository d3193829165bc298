"""Budgets, reservations and the usage report on PostgreSQL (``PostgresStorage``), and the
decoding of their rows shared with ``SupabaseStorage``. Money is integer nano-dollars.

Every operation is one SQL function of ``postgres_migrations/0005_budgets.sql``, so both backends
run the very same transactions: ``contentgen_reserve_budget`` takes a per-client advisory
transaction lock before it reads, so reservations from any number of connections and machines
never hold more than the limit; ``contentgen_finish_job`` deletes the job's reservations in the
transaction that stores its usage rows; a hold counts while its job is pending or in progress.
"""

from __future__ import annotations

import uuid
from collections.abc import Awaitable, Callable, Iterable, Sequence
from datetime import datetime
from typing import Any, TypeVar

from contentgen.errors import ClientNotFound, ContentgenError, InvalidInput, JobNotFound
from contentgen.models import UsageGroup, UsageLine, UsageReport
from contentgen.storage._pg_rows import Row, aware
from contentgen.storage._pg_setup import constraint
from contentgen.storage.base import BudgetState, Reservation, Reserved

T = TypeVar("T")
Op = Callable[[Any], Awaitable[T]]
Conn = Any  # asyncpg.Connection

GROUPS: tuple[UsageGroup, ...] = ("client", "model", "day")
_LINE_FIELDS = (
    "calls", "failed_calls", "retries", "input_tokens", "output_tokens", "cached_tokens",
    "reasoning_tokens", "unpriced_calls", "pieces", "failures",
)  # fmt: skip


def check_group(by: str) -> None:
    if by not in GROUPS:
        raise InvalidInput(f"usage report by {by!r}: use one of {', '.join(GROUPS)}", field="by")


def state_from(r: Row) -> BudgetState:
    return BudgetState(int(r["spent_nanos"]), int(r["reserved_nanos"]), int(r["unpriced_calls"]))


def reserved_from(
    r: Row, client_id: uuid.UUID, job_id: uuid.UUID, amount_nanos: int
) -> Reserved:
    held = None
    if r["reservation_id"] is not None:
        rid = r["reservation_id"]
        rid = rid if isinstance(rid, uuid.UUID) else uuid.UUID(str(rid))
        held = Reservation(rid, client_id, job_id, amount_nanos)
    return Reserved(held, state_from(r))


def missing(code: str, message: str, client_id: uuid.UUID, job_id: uuid.UUID) -> ContentgenError:
    """The error for a refused reservation (SQLSTATE 23503): an unknown job or client."""
    if code == "23503" and "client_id" in message:
        return ClientNotFound(str(client_id))
    return JobNotFound(str(job_id))


def report_from(
    found: Iterable[Row], by: UsageGroup, since: datetime | None, until: datetime | None
) -> UsageReport:
    """``contentgen_usage_report``'s rows: the lines (sorted by key) and the total."""
    lines: dict[str, UsageLine] = {}
    total = UsageLine(key="total")
    for r in found:
        nanos = r["cost_nanos"]
        line = UsageLine(
            key="total" if r["is_total"] else str(r["key"]),
            cost_nanos=None if nanos is None else int(nanos),
            **{name: int(r[name]) for name in _LINE_FIELDS},
        )
        if r["is_total"]:
            total = line
        else:
            lines[line.key] = line
    return UsageReport(by=by, since=since, until=until,
                       lines=[lines[k] for k in sorted(lines)], total=total)  # fmt: skip


def _when(value: datetime | None) -> datetime | None:
    return None if value is None else aware(value)


class PostgresBudgets:
    """The budget half of ``PostgresStorage``'s ``UsageStore``."""

    async def _run(self, op: Op[T]) -> T:
        raise NotImplementedError

    async def usage_report(
        self,
        *,
        by: UsageGroup,
        client_ids: Sequence[uuid.UUID] | None = None,
        since: datetime | None = None,
        until: datetime | None = None,
    ) -> UsageReport:
        check_group(by)
        ids = None if client_ids is None else list(client_ids)

        async def op(conn: Conn) -> UsageReport:
            found = await conn.fetch(
                "SELECT * FROM contentgen_usage_report($1, $2::uuid[], $3, $4)",
                by, ids, _when(since), _when(until),
            )  # fmt: skip
            return report_from(found, by, since, until)

        return await self._run(op)

    async def set_budget(self, client_id: uuid.UUID, limit_nanos: int | None) -> None:
        async def op(conn: Conn) -> None:
            try:
                await conn.execute("SELECT contentgen_set_budget($1, $2)", client_id, limit_nanos)
            except Exception as exc:
                if constraint(exc)[0] == "foreign_key":
                    raise ClientNotFound(str(client_id)) from exc
                raise

        await self._run(op)

    async def list_budgets(self) -> dict[uuid.UUID, int]:
        async def op(conn: Conn) -> dict[uuid.UUID, int]:
            found = await conn.fetch("SELECT client_id, limit_nanos FROM budgets")
            return {r["client_id"]: int(r["limit_nanos"]) for r in found}

        return await self._run(op)

    async def budget_state(
        self, client_id: uuid.UUID, *, since: datetime, until: datetime
    ) -> BudgetState:
        async def op(conn: Conn) -> BudgetState:
            row = await conn.fetchrow(
                "SELECT * FROM contentgen_budget_state($1, $2, $3)",
                client_id, aware(since), aware(until),
            )  # fmt: skip
            return state_from(row)

        return await self._run(op)

    async def reserve_budget(
        self,
        client_id: uuid.UUID,
        job_id: uuid.UUID,
        amount_nanos: int,
        *,
        limit_nanos: int,
        since: datetime,
        until: datetime,
    ) -> Reserved:
        rid = uuid.uuid4()

        async def op(conn: Conn) -> Reserved:
            try:
                row = await conn.fetchrow(
                    "SELECT * FROM contentgen_reserve_budget($1, $2, $3, $4, $5, $6, $7)",
                    rid, client_id, job_id, amount_nanos, limit_nanos, aware(since),
                    aware(until),
                )  # fmt: skip
            except Exception as exc:
                kind, name = constraint(exc)
                if kind == "foreign_key":
                    raise missing("23503", name or str(exc), client_id, job_id) from exc
                raise
            return reserved_from(row, client_id, job_id, amount_nanos)

        return await self._run(op)

    async def settle_reservation(self, reservation_id: uuid.UUID, amount_nanos: int) -> bool:
        async def op(conn: Conn) -> bool:
            return bool(
                await conn.fetchval(
                    "SELECT contentgen_settle_reservation($1, $2)", reservation_id, amount_nanos
                )
            )

        return await self._run(op)
