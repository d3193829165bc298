"""Budgets, reservations and the usage report of ``MemoryStorage``: the same rules as
``_sqlite_budgets``, on dicts, each operation under the storage's lock without awaiting inside
(as atomic as the SQL transaction it mirrors)."""

from __future__ import annotations

import uuid
from collections.abc import Iterable, Sequence
from datetime import datetime

from contentgen.models import (
    NO_CALL,
    JobStatus,
    LlmUsage,
    UsageGroup,
    UsageLine,
    UsageReport,
)
from contentgen.storage._memory_leases import MemoryLeases
from contentgen.storage._rows import ts
from contentgen.storage.base import BudgetState, Reservation, Reserved

_ACTIVE = (JobStatus.PENDING, JobStatus.IN_PROGRESS)
_FINISHED = (JobStatus.COMPLETED, JobStatus.FAILED)


def _within(at: datetime, since: datetime | None, until: datetime | None) -> bool:
    return (since is None or at >= since) and (until is None or at < until)


def _usage_key(by: UsageGroup | None, u: LlmUsage) -> str:
    if by == "client":
        return str(u.client_id)
    if by == "model":
        return u.model
    if by == "day":
        return ts(u.created_at)[:10]
    return "total"


class MemoryBudgets(MemoryLeases):
    # budgets ----------------------------------------------------------------------------------
    async def set_budget(self, client_id: uuid.UUID, limit_nanos: int | None) -> None:
        self._check()
        async with self._lock:
            self._require_client(client_id)
            if limit_nanos is None:
                self._budgets.pop(client_id, None)
            else:
                self._budgets[client_id] = int(limit_nanos)

    async def list_budgets(self) -> dict[uuid.UUID, int]:
        self._check()
        return dict(self._budgets)

    def _state(self, client_id: uuid.UUID, since: datetime, until: datetime) -> BudgetState:
        spent = unpriced = 0
        for u in self._usage.values():
            if u.client_id == client_id and _within(u.created_at, since, until):
                if u.cost_nanos is None:
                    unpriced += 1
                else:
                    spent += u.cost_nanos
        held = sum(
            r.amount_nanos for r in self._reservations.values()
            if r.client_id == client_id and self._jobs[r.job_id].status in _ACTIVE
        )  # fmt: skip
        return BudgetState(spent, held, unpriced)

    async def budget_state(
        self, client_id: uuid.UUID, *, since: datetime, until: datetime
    ) -> BudgetState:
        self._check()
        return self._state(client_id, since, until)

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
        self._check()
        async with self._lock:
            self._job(job_id)  # JobNotFound, like the foreign key
            for rid, r in list(self._reservations.items()):
                if r.client_id == client_id and self._jobs[r.job_id].status not in _ACTIVE:
                    del self._reservations[rid]
            state = self._state(client_id, since, until)
            if state.spent_nanos + state.reserved_nanos + amount_nanos > limit_nanos:
                return Reserved(None, state)
            held = Reservation(uuid.uuid4(), client_id, job_id, amount_nanos)
            self._reservations[held.id] = held
        return Reserved(held, state)

    async def settle_reservation(self, reservation_id: uuid.UUID, amount_nanos: int) -> bool:
        self._check()
        async with self._lock:
            held = self._reservations.get(reservation_id)
            if held is None:
                return False
            if amount_nanos <= 0:
                del self._reservations[reservation_id]
            else:
                self._reservations[reservation_id] = Reservation(
                    held.id, held.client_id, held.job_id, amount_nanos
                )
            return True

    # the usage report -----------------------------------------------------------------------
    async def usage_report(
        self,
        *,
        by: UsageGroup,
        client_ids: Sequence[uuid.UUID] | None = None,
        since: datetime | None = None,
        until: datetime | None = None,
    ) -> UsageReport:
        self._check()
        wanted = None if client_ids is None else set(client_ids)
        lines = self._lines(by, wanted, since, until)
        total = self._lines(None, wanted, since, until)
        return UsageReport(by=by, since=since, until=until, lines=lines,
                           total=total[0] if total else UsageLine(key="total"))  # fmt: skip

    def _lines(self, by: UsageGroup | None, wanted: set[uuid.UUID] | None,
               since: datetime | None, until: datetime | None) -> list[UsageLine]:  # fmt: skip
        found: dict[str, dict[str, int | None]] = {}
        for u, retry in self._rows_with_retries(wanted):
            if not _within(u.created_at, since, until):
                continue
            line = found.setdefault(_usage_key(by, u), {"cost_nanos": None})
            for name, value in (
                ("calls", 1), ("failed_calls", u.error is not None), ("retries", retry),
                ("input_tokens", u.input_tokens), ("output_tokens", u.output_tokens),
                ("cached_tokens", u.cached_tokens), ("reasoning_tokens", u.reasoning_tokens),
                ("unpriced_calls", u.cost_nanos is None),
            ):  # fmt: skip
                line[name] = (line.get(name) or 0) + int(value)
            if u.cost_nanos is not None:
                line["cost_nanos"] = (line["cost_nanos"] or 0) + u.cost_nanos
        last_model: dict[uuid.UUID, str] = {}
        for u in self._usage.values():
            last_model[u.job_id] = u.model
        for job in self._jobs.values():
            if job.status not in _FINISHED or not _within(job.updated_at, since, until):
                continue
            if wanted is not None and job.client_id not in wanted:
                continue
            if by == "client":
                key = str(job.client_id)
            elif by == "model":
                key = last_model.get(job.id, NO_CALL)
            elif by == "day":
                key = ts(job.updated_at)[:10]
            else:
                key = "total"
            line = found.setdefault(key, {"cost_nanos": None})
            name = "pieces" if job.status is JobStatus.COMPLETED else "failures"
            line[name] = (line.get(name) or 0) + 1
        return [UsageLine(key=k, **v) for k, v in sorted(found.items())]

    def _rows_with_retries(self, wanted: set[uuid.UUID] | None) -> Iterable[tuple[LlmUsage, bool]]:
        """Usage rows in stored order, each with whether it follows a failed attempt of the
        same job run (a retry or a fallback)."""
        failed_before: dict[tuple[uuid.UUID, int], bool] = {}
        for u in self._usage.values():
            if wanted is not None and u.client_id not in wanted:
                continue
            run = (u.job_id, u.attempt)
            yield u, failed_before.get(run, False)
            failed_before[run] = u.error is not None
