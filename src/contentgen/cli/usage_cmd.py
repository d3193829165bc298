"""`contentgen usage`: what was spent — cost, tokens, pieces, failures, retries — per client,
model or day, as a table, JSON or CSV."""

from __future__ import annotations

import csv
import sys
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Annotated, Any, Literal

import typer

from contentgen.cli.common import fail, run
from contentgen.cli.options import AsJson
from contentgen.cli.output import out, print_json

if TYPE_CHECKING:
    from contentgen.client.local import Client
    from contentgen.models import UsageLine, UsageReport

GroupName = Literal["client", "model", "day"]

COLUMNS = (
    "pieces", "failures", "calls", "failed_calls", "retries", "input_tokens", "output_tokens",
    "cached_tokens", "reasoning_tokens", "cost", "unpriced_calls",
)  # fmt: skip


def parse_when(text: str, option: str, *, end: bool = False) -> datetime:
    """``YYYY-MM``, ``YYYY-MM-DD`` or an ISO date-time (UTC unless it says otherwise). As the
    end of a window (``end``), a month or a day includes all of it."""
    from datetime import UTC

    value = text.strip()
    try:
        if len(value) == 7:  # a month
            start = datetime.strptime(value, "%Y-%m").replace(tzinfo=UTC)
            if not end:
                return start
            return (start + timedelta(days=32)).replace(day=1)
        found = datetime.fromisoformat(value)
    except ValueError:
        fail(f"{option}: {text!r} is not a date (YYYY-MM-DD), a month (YYYY-MM) or an ISO "
             "date-time", 2, field=option.lstrip("-"))  # fmt: skip
    if found.tzinfo is None:
        found = found.replace(tzinfo=UTC)
    if end and len(value) == 10:  # a whole day
        found += timedelta(days=1)
    return found


def usage(
    client: Annotated[
        str | None,
        typer.Option("--client", "-c", metavar="CLIENT", help="Only this client (name or UUID)."),
    ] = None,
    since: Annotated[
        str | None,
        typer.Option(
            "--since", metavar="DATE",
            help="From this date on: YYYY-MM-DD, YYYY-MM or an ISO date-time (UTC).",
        ),
    ] = None,
    until: Annotated[
        str | None,
        typer.Option(
            "--until", metavar="DATE", help="Up to this date, included when a day or month (UTC)."
        ),
    ] = None,
    by: Annotated[
        GroupName,
        typer.Option(
            "--by", metavar="[client|model|day]", help="One line per client, model or day.",
            case_sensitive=False,
        ),
    ] = "client",
    as_csv: Annotated[bool, typer.Option("--csv", help="Print CSV on stdout.")] = False,
    as_json: AsJson = False,
) -> None:
    """Report usage: cost, tokens, pieces, failures and retries (every provider attempt is a
    row of llm_usage; retries and fallbacks count on their own). Table columns: pieces
    (completed jobs), failed (failed jobs), calls (provider attempts), retries (attempts after
    a failed one: retries and fallbacks), errors (failed attempts), tokens, cost."""
    if as_csv and as_json:
        fail("--csv: give --csv or --json, not both", 2, field="csv")
    start = parse_when(since, "--since") if since else None
    stop = parse_when(until, "--until", end=True) if until else None

    async def work(cg: Client) -> Any:
        report = await cg.usage(by=by, client=client, since=start, until=stop)
        names = {str(c.id): c.name for c in await cg.list_clients()} if by == "client" else {}
        return report, names

    report, names = run(work)
    if names:  # by client: by name, not by id
        lines = sorted(report.lines, key=lambda line: _key(line, names).casefold())
        report = report.model_copy(update={"lines": lines})
    if as_json:
        from contentgen.client.budget_api import report_json

        print_json(report_json(report, names))
    elif as_csv:
        _csv(report, names)
    else:
        _table(report, names)


def _key(line: UsageLine, names: dict[str, str]) -> str:
    return names.get(line.key, line.key)


def _values(line: UsageLine) -> dict[str, Any]:
    data = line.model_dump(exclude={"key", "cost_nanos"})
    data["cost"] = line.cost
    return data


def _csv(report: UsageReport, names: dict[str, str]) -> None:
    writer = csv.writer(sys.stdout, lineterminator="\n")
    writer.writerow([report.by, *COLUMNS])
    for line in [*report.lines, report.total]:
        values = _values(line)
        key = "total" if line is report.total else _key(line, names)
        writer.writerow([key, *("" if values[c] is None else values[c] for c in COLUMNS)])
    sys.stdout.flush()


def _cost(line: UsageLine) -> str:
    from contentgen.budgets import usd

    known = "-" if line.cost_nanos is None else usd(line.cost_nanos)
    if line.unpriced_calls:
        return f"{known} + {line.unpriced_calls} unpriced"
    return known


def _table(report: UsageReport, names: dict[str, str]) -> None:
    from rich.table import Table

    window = " ".join(
        part for part in (
            f"since {report.since:%Y-%m-%d %H:%M}" if report.since else "",
            f"until {report.until:%Y-%m-%d %H:%M}" if report.until else "",
        ) if part
    ) or "all time"  # fmt: skip
    from rich.table import Column

    heads = (report.by, "pieces", "failed", "calls", "retries", "errors", "in tok",
             "out tok", "cost")  # fmt: skip
    columns = [Column(heads[0], overflow="fold", min_width=10)]
    columns += [Column(h, no_wrap=True, justify="right") for h in heads[1:]]
    table = Table(*columns, title=f"usage ({window}, UTC)", box=None, pad_edge=False)
    for line in [*report.lines, report.total]:
        key = "total" if line is report.total else _key(line, names)
        table.add_row(key, str(line.pieces), str(line.failures), str(line.calls),
                      str(line.retries), str(line.failed_calls), f"{line.input_tokens:,}",
                      f"{line.output_tokens:,}", _cost(line),
                      style="bold" if line is report.total else None)  # fmt: skip
    out.print(table)
    if report.total.unpriced_calls:
        out.print(f"{report.total.unpriced_calls} call(s) had no known price: their cost is "
                  "unknown, not $0 (set prices in the catalogue)")  # fmt: skip
