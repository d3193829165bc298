"""Monthly budgets per client: which one applies, where it stands, and a job's holds on it.

**Which budget applies** (inherited like the strategy): a client's own budget, else its
nearest ancestor's. It applies to that client's own spending: a parent's budget is the
amount each of its clients without a budget of their own may spend, not a pool they share.

**Where it stands**: in the current calendar month (UTC), *spent* is the client's priced usage
rows, *reserved* what calls of its running jobs hold; headroom = budget - spent - reserved.

**A job's holds** (``JobBudget``, the router's ``CallBudget``): before every paid provider
attempt the router reserves an upper bound of its cost (``llm/budget.py``) in one atomic
storage step, which refuses when spent + reserved + estimate would pass the budget; after the
attempt the hold is set to the real cost; the job's usage rows replace its holds when it ends
(``finish_job``). So parallel calls, in any number of processes, never spend past a budget.
A refused call raises ``BudgetExceeded`` with the numbers, before the provider is called; a
call at an unknown price is refused while a budget applies. Free models are never held.
"""

from __future__ import annotations

import math
import uuid
from dataclasses import dataclass
from datetime import UTC, datetime

from contentgen.errors import BudgetExceeded
from contentgen.instructions.setup import client_chain
from contentgen.logs import get_logger
from contentgen.models import NANOS_PER_DOLLAR, Client, Job, to_nanos, utcnow
from contentgen.storage.base import BudgetState, Storage

log = get_logger()


def month_window(now: datetime | None = None) -> tuple[datetime, datetime]:
    """The calendar month (UTC) around ``now``: [first day 00:00, next month's first day)."""
    now = (now or utcnow()).astimezone(UTC)
    start = now.replace(day=1, hour=0, minute=0, second=0, microsecond=0)
    end = start.replace(year=start.year + 1, month=1) if start.month == 12 else (
        start.replace(month=start.month + 1)
    )
    return start, end


def usd(nanos: int) -> str:
    """Money for people: ``$50.00``, ``$0.000123``."""
    dollars = nanos / NANOS_PER_DOLLAR
    if nanos % (NANOS_PER_DOLLAR // 100) == 0:
        return f"${dollars:,.2f}"
    text = f"{dollars:.9f}".rstrip("0")
    return f"${text}"


def parse_usd(text: str) -> int:
    """``50``, ``$12.5``, ``0.25`` -> nano-dollars; ``ValueError`` for anything else."""
    value = float(text.strip().removeprefix("$").replace(",", ""))
    if not math.isfinite(value) or value < 0:
        raise ValueError(f"{text!r} is not an amount of dollars >= 0")
    return to_nanos(value)


@dataclass(frozen=True)
class EffectiveBudget:
    """The budget that applies to ``client``: ``limit_nanos`` None = none; ``source`` is the
    client it was set on (the client itself or an ancestor)."""

    client: Client
    limit_nanos: int | None
    source: Client | None

    @property
    def inherited(self) -> bool:
        return self.source is not None and self.source.id != self.client.id

    def origin(self) -> str:
        if self.source is None:
            return "no budget"
        return f"from {self.source.name}" if self.inherited else "own"


def effective_budget(chain: list[Client], budgets: dict[uuid.UUID, int]) -> EffectiveBudget:
    """The nearest budget along ``chain`` (the client first, then its ancestors)."""
    for member in chain:
        if member.id in budgets:
            return EffectiveBudget(chain[0], budgets[member.id], member)
    return EffectiveBudget(chain[0], None, None)


@dataclass(frozen=True)
class BudgetStatus:
    budget: EffectiveBudget
    state: BudgetState
    since: datetime
    until: datetime

    @property
    def headroom_nanos(self) -> int | None:
        limit = self.budget.limit_nanos
        if limit is None:
            return None
        return limit - self.state.spent_nanos - self.state.reserved_nanos

    @property
    def period(self) -> str:
        return self.since.strftime("%Y-%m")

    def as_dict(self) -> dict[str, object]:
        """The JSON form (money in dollars, exact to the nano-dollar)."""
        budget, state = self.budget, self.state
        headroom = self.headroom_nanos

        def dollars(nanos: int | None) -> float | None:
            return None if nanos is None else nanos / NANOS_PER_DOLLAR

        return {
            "client": budget.client.name,
            "client_id": str(budget.client.id),
            "budget": dollars(budget.limit_nanos),
            "source": budget.source.name if budget.source else None,
            "inherited": budget.inherited,
            "period": self.period,
            "spent": dollars(state.spent_nanos),
            "reserved": dollars(state.reserved_nanos),
            "headroom": dollars(headroom),
            "unpriced_calls": state.unpriced_calls,
        }


async def budget_status(
    storage: Storage, client_id: uuid.UUID, *, now: datetime | None = None,
    budgets: dict[uuid.UUID, int] | None = None, chain: list[Client] | None = None,
) -> BudgetStatus:  # fmt: skip
    """Where the budget of ``client_id`` stands this month."""
    chain = chain or await client_chain(storage, client_id)
    if budgets is None:
        budgets = await storage.list_budgets()
    since, until = month_window(now)
    state = await storage.budget_state(client_id, since=since, until=until)
    return BudgetStatus(effective_budget(chain, budgets), state, since, until)


class JobBudget:
    """The holds of one job on its client's budget (the router's ``CallBudget``)."""

    def __init__(self, storage: Storage, job: Job, budget: EffectiveBudget,
                 window: tuple[datetime, datetime]) -> None:  # fmt: skip
        assert budget.limit_nanos is not None
        self.storage = storage
        self.job = job
        self.budget = budget
        self.limit_nanos: int = budget.limit_nanos
        self.since, self.until = window

    def _describe(self) -> str:
        where = "" if not self.budget.inherited else f", set on {self.budget.source.name!r}"  # type: ignore[union-attr]
        return (
            f"client {self.budget.client.name!r} has a monthly budget of "
            f"{usd(self.limit_nanos)}{where} ({self.since:%Y-%m})"
        )

    async def reserve(self, model: str, estimate: float | None) -> object | None:
        if estimate is None:
            raise BudgetExceeded(
                f"budget: refused a paid call to {model}, whose price is unknown: "
                f"{self._describe()}, so every call must have a known price; set the model's "
                "price_in/price_out in the catalogue (CONTENTGEN_CATALOGUE) or use a priced "
                "model", provider=model.split("/", 1)[0], model=model,
            )  # fmt: skip
        # rounded first: float noise must not add a nano-dollar to an exact estimate
        amount = max(1, math.ceil(round(estimate * NANOS_PER_DOLLAR, 3)))
        got = await self.storage.reserve_budget(
            self.job.client_id, self.job.id, amount, limit_nanos=self.limit_nanos,
            since=self.since, until=self.until,
        )  # fmt: skip
        if got.reservation is None:
            state = got.state
            log.warning("budget_exceeded", job_id=str(self.job.id), model=model,
                        client_id=str(self.job.client_id), budget_nanos=self.limit_nanos,
                        spent_nanos=state.spent_nanos, reserved_nanos=state.reserved_nanos,
                        estimate_nanos=amount)  # fmt: skip
            raise BudgetExceeded(
                f"budget exceeded: {self._describe()}; spent {usd(state.spent_nanos)}, "
                f"reserved by running jobs {usd(state.reserved_nanos)}, this call to {model} "
                f"needs up to {usd(amount)}; no call was made (raise it with `contentgen "
                f"budgets set`)", provider=model.split("/", 1)[0], model=model,
                budget=self.limit_nanos / NANOS_PER_DOLLAR,
                spent=state.spent_nanos / NANOS_PER_DOLLAR,
                reserved=state.reserved_nanos / NANOS_PER_DOLLAR,
                estimate=amount / NANOS_PER_DOLLAR,
            )  # fmt: skip
        return got.reservation.id

    async def settle(self, hold: object | None, cost: float | None) -> None:
        if not isinstance(hold, uuid.UUID) or cost is None:
            return
        await self.storage.settle_reservation(hold, to_nanos(cost))


async def job_budget(
    storage: Storage, job: Job, chain: list[Client] | None = None
) -> JobBudget | None:
    """The holds of ``job`` on the budget that applies to its client; None when none does.
    Read fresh for every job: a budget set from another process applies to the next job."""
    budgets = await storage.list_budgets()
    if not budgets:
        return None
    if not chain or chain[0].id != job.client_id:
        chain = await client_chain(storage, job.client_id)
    found = effective_budget(chain, budgets)
    if found.limit_nanos is None:
        return None
    return JobBudget(storage, job, found, month_window())
