"""`contentgen budgets ...`: monthly budgets per client (set, show, list, remove)."""

from __future__ import annotations

from typing import TYPE_CHECKING, Annotated, Any

import typer

from contentgen.cli.common import run, sub_app
from contentgen.cli.options import AsJson, ClientArg
from contentgen.cli.output import out, print_json, say

if TYPE_CHECKING:
    from contentgen.budgets import BudgetStatus
    from contentgen.client.local import Client

app = sub_app(
    "Monthly budgets per client (USD): calls that would pass one are refused before they are "
    "made."
)


def _money(nanos: int | None) -> str:
    from contentgen.budgets import usd

    return "-" if nanos is None else usd(nanos)


def _line(status: BudgetStatus) -> None:
    budget, state = status.budget, status.state
    if budget.limit_nanos is None:
        say((budget.client.name, "bold"), f": no budget (spent {_money(state.spent_nanos)} in "
            f"{status.period})")  # fmt: skip
        return
    where = "own" if not budget.inherited else f"inherited from {budget.source.name}"  # type: ignore[union-attr]
    say((budget.client.name, "bold"), f": {_money(budget.limit_nanos)} a month ({where})")
    say(f"  {status.period}: spent {_money(state.spent_nanos)}, reserved by running jobs "
        f"{_money(state.reserved_nanos)}, headroom {_money(status.headroom_nanos)}")  # fmt: skip
    if state.unpriced_calls:
        say(("  ", "yellow"), (f"{state.unpriced_calls} call(s) at an unknown price are not in "
                               "'spent'", "yellow"))  # fmt: skip


@app.command("set")
def set_(
    client: ClientArg,
    amount: Annotated[
        str, typer.Argument(metavar="USD", help="Monthly budget in US dollars, e.g. 50 or 12.5.")
    ],
    as_json: AsJson = False,
) -> None:
    """Set a client's monthly budget (its clients without a budget of their own inherit it,
    each for its own spending)."""

    async def work(cg: Client) -> Any:
        return await cg.set_budget(client, amount)

    status = run(work)
    if as_json:
        print_json(status.as_dict())
        return
    _line(status)


@app.command("remove")
def remove(client: ClientArg, as_json: AsJson = False) -> None:
    """Remove a client's own budget (it then inherits its nearest ancestor's, if any)."""

    async def work(cg: Client) -> Any:
        return await cg.set_budget(client, None)

    status = run(work)
    if as_json:
        print_json(status.as_dict())
        return
    _line(status)


@app.command("show")
def show(client: ClientArg, as_json: AsJson = False) -> None:
    """Show the budget that applies to a client, where it comes from, and this month's
    spending against it."""

    async def work(cg: Client) -> Any:
        return await cg.budget(client)

    status = run(work)
    if as_json:
        print_json(status.as_dict())
        return
    _line(status)


@app.command("list")
def list_(as_json: AsJson = False) -> None:
    """List every client's budget (own or inherited) and this month's spending."""
    from rich.table import Table

    async def work(cg: Client) -> Any:
        return await cg.budgets()

    statuses = run(work)
    if as_json:
        print_json([s.as_dict() for s in statuses])
        return
    if not statuses:
        say("no clients yet — add one with `contentgen clients add NAME`")
        return
    table = Table("client", "budget", "from", "period", "spent", "reserved", "headroom")
    for s in statuses:
        b = s.budget
        origin = "-" if b.source is None else ("own" if not b.inherited else b.source.name)
        table.add_row(b.client.name, _money(b.limit_nanos), origin, s.period,
                      _money(s.state.spent_nanos), _money(s.state.reserved_nanos),
                      _money(s.headroom_nanos))  # fmt: skip
    out.print(table)
