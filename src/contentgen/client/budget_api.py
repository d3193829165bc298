"""Budgets and the usage report on the local client (a mixin of ``LocalClient``).

Budgets are monthly, in USD, per client, inherited like the strategy (``contentgen.budgets``);
the usage report adds up the usage rows and finished jobs per client, model or day.
"""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import TYPE_CHECKING, Any

from contentgen.budgets import BudgetStatus, budget_status, parse_usd
from contentgen.errors import InvalidInput
from contentgen.instructions.setup import client_chain
from contentgen.models import Client as ClientRecord
from contentgen.models import UsageGroup, UsageLine, UsageReport

if TYPE_CHECKING:
    from contentgen.storage.base import Storage

#: Largest budget accepted (USD a month): beyond it a typo is likelier than a plan.
MAX_BUDGET = 10_000_000


class BudgetApi:
    """Mixin: needs ``self.storage``, ``resolve_client``, ``list_clients`` and ``scope``."""

    storage: Storage
    scope: frozenset[uuid.UUID] | None

    async def resolve_client(self, ref: str | uuid.UUID | None) -> ClientRecord:
        raise NotImplementedError

    async def list_clients(self) -> list[ClientRecord]:
        raise NotImplementedError

    async def set_budget(
        self, ref: str | uuid.UUID | None, amount: float | str | None
    ) -> BudgetStatus:
        """Set the client's monthly budget in USD (None removes it: the client then uses its
        nearest ancestor's, if any); returns where it stands now."""
        client = await self.resolve_client(ref)
        nanos = None if amount is None else _amount(amount)
        await self.storage.set_budget(client.id, nanos)
        return await self.budget(client.id)

    async def budget(self, ref: str | uuid.UUID | None) -> BudgetStatus:
        """The budget that applies to the client (own or inherited) and this month's
        spending against it."""
        client = await self.resolve_client(ref)
        return await budget_status(self.storage, client.id)

    async def budgets(self, *, now: datetime | None = None) -> list[BudgetStatus]:
        """Every client's budget status, by client name."""
        budgets = await self.storage.list_budgets()
        found = []
        for client in sorted(await self.list_clients(), key=lambda c: c.name.casefold()):
            chain = await client_chain(self.storage, client.id)
            found.append(await budget_status(self.storage, client.id, now=now, budgets=budgets,
                                             chain=chain))  # fmt: skip
        return found

    async def usage(
        self, *, by: UsageGroup = "client", client: str | uuid.UUID | None = None,
        since: datetime | None = None, until: datetime | None = None,
    ) -> UsageReport:  # fmt: skip
        """Usage added up per client, model or day (``UsageReport``), for one client (or
        every client this view may see), ``since`` <= time < ``until``."""
        if by not in ("client", "model", "day"):
            raise InvalidInput(f"by: {by!r} is not one of client, model, day", field="by")
        if since is not None and until is not None and since >= until:
            raise InvalidInput("since: must be before until", field="since")
        ids: list[uuid.UUID] | None = None
        if client is not None:
            ids = [(await self.resolve_client(client)).id]
        elif self.scope is not None:
            ids = sorted(self.scope)
        return await self.storage.usage_report(by=by, client_ids=ids, since=since, until=until)


def _amount(amount: float | str) -> int:
    try:
        nanos = parse_usd(str(amount))
    except ValueError:
        raise InvalidInput(f"amount: {amount!r} is not an amount of USD >= 0 (e.g. 50 or 12.5)",
                           field="amount") from None  # fmt: skip
    if nanos > MAX_BUDGET * 1_000_000_000:
        raise InvalidInput(f"amount: at most {MAX_BUDGET:,} USD a month", field="amount")
    return nanos


def report_json(report: UsageReport, names: dict[str, str]) -> dict[str, Any]:
    """The JSON form of a usage report (CLI ``--json``, the server's ``GET /usage``): lines
    keyed by ``client`` (its name, plus ``client_id``), ``model`` or ``day``; money in USD."""

    def values(line: UsageLine) -> dict[str, Any]:
        data = line.model_dump(exclude={"key", "cost_nanos"})
        data["cost"] = line.cost
        return data

    lines = []
    for line in report.lines:
        extra = {"client_id": line.key} if report.by == "client" else {}
        lines.append({report.by: names.get(line.key, line.key), **extra, **values(line)})
    if report.by == "client":
        lines.sort(key=lambda item: str(item["client"]).casefold())
    since = report.since.isoformat() if report.since else None
    until = report.until.isoformat() if report.until else None
    return {"by": report.by, "since": since, "until": until, "lines": lines,
            "total": values(report.total)}  # fmt: skip
