"""``SupabaseStorage``'s budgets, reservations and usage report over PostgREST: the SQL functions
of ``postgres_migrations/0005_budgets.sql`` called as RPCs (one transaction each, the very same
that ``PostgresStorage`` runs; see ``_pg_budgets``), and the budgets table read directly."""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from datetime import datetime

from contentgen.errors import ClientNotFound, ContentgenError
from contentgen.models import UsageGroup, UsageReport
from contentgen.storage._pg_budgets import (
    check_group,
    missing,
    report_from,
    reserved_from,
    state_from,
)
from contentgen.storage._supabase_rest import Rest, api_error, iso
from contentgen.storage.base import BudgetState, Reserved


def _iso(value: datetime | None) -> str | None:
    return None if value is None else iso(value)


class SupabaseBudgets:
    """The budget half of ``SupabaseStorage``'s ``UsageStore``."""

    @property
    def rest(self) -> Rest:
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
        ids = None if client_ids is None else [str(c) for c in client_ids]
        found = await self.rest.rpc("contentgen_usage_report", {
            "p_by": by, "p_client_ids": ids, "p_since": _iso(since), "p_until": _iso(until),
        })  # fmt: skip
        return report_from(found, by, since, until)

    async def set_budget(self, client_id: uuid.UUID, limit_nanos: int | None) -> None:
        try:
            await self.rest.rpc("contentgen_set_budget", {
                "p_client_id": str(client_id), "p_limit_nanos": limit_nanos,
            })  # fmt: skip
        except ContentgenError as exc:
            if api_error(exc)[0] == "23503":
                raise ClientNotFound(str(client_id)) from exc
            raise

    async def list_budgets(self) -> dict[uuid.UUID, int]:
        found = await self.rest.select("budgets", "client_id,limit_nanos")
        return {uuid.UUID(r["client_id"]): int(r["limit_nanos"]) for r in found}

    async def budget_state(
        self, client_id: uuid.UUID, *, since: datetime, until: datetime
    ) -> BudgetState:
        found = await self.rest.rpc("contentgen_budget_state", {
            "p_client_id": str(client_id), "p_since": iso(since), "p_until": iso(until),
        })  # fmt: skip
        return state_from(found[0])

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
        try:
            found = await self.rest.rpc("contentgen_reserve_budget", {
                "p_id": str(uuid.uuid4()), "p_client_id": str(client_id),
                "p_job_id": str(job_id), "p_amount_nanos": amount_nanos,
                "p_limit_nanos": limit_nanos, "p_since": iso(since), "p_until": iso(until),
            })  # fmt: skip
        except ContentgenError as exc:
            code, message = api_error(exc)
            if code == "23503":
                raise missing(code, message, client_id, job_id) from exc
            raise
        return reserved_from(found[0], client_id, job_id, amount_nanos)

    async def settle_reservation(self, reservation_id: uuid.UUID, amount_nanos: int) -> bool:
        done = await self.rest.rpc("contentgen_settle_reservation", {
            "p_id": str(reservation_id), "p_amount_nanos": amount_nanos,
        })  # fmt: skip
        return bool(done)
