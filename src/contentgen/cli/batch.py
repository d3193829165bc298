"""`contentgen batch FILE.csv`: validate, estimate or run a CSV of requests."""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any, Literal

import typer

from contentgen.cli.common import configure_logging, fail, run
from contentgen.cli.output import err, jsonl, out, say

if TYPE_CHECKING:
    from contentgen.batch.csv_input import Rejection
    from contentgen.batch.estimate import DryRun
    from contentgen.batch.output import Summary
    from contentgen.client.local import Client
    from contentgen.production.batch import BatchOutcome


def batch(
    file: Annotated[
        Path,
        typer.Argument(metavar="FILE", help="CSV (UTF-8) with a header row naming the fields."),
    ],
    out_dir: Annotated[
        Path,
        typer.Option("--out", "-o", metavar="DIR", help="Output directory (created if missing)."),
    ] = Path("contentgen-out"),
    concurrency: Annotated[
        int | None,
        typer.Option(
            "--concurrency", "-j", min=1, max=512, metavar="N",
            help="Model calls in flight (default: CONTENTGEN_CONCURRENCY).",
        ),
    ] = None,
    resume: Annotated[
        bool, typer.Option("--resume", help="Run only rows missing or failed before.")
    ] = False,
    dry_run: Annotated[
        bool, typer.Option("--dry-run", help="Validate and estimate cost; no model call.")
    ] = False,
    fmt: Annotated[
        Literal["md", "json"],
        typer.Option("--format", metavar="[md|json]", help="One file per piece: md or json.",
                     case_sensitive=False),
    ] = "md",
    quiet: Annotated[bool, typer.Option("--quiet", "-q", help="Only errors and totals.")] = False,
    as_json: Annotated[bool, typer.Option("--json", help="JSON lines on stdout.")] = False,
) -> None:
    """Generate one piece per CSV row (columns: topic, content_type, client, keywords, length,
    priority, model, provider)."""
    if not file.is_file():
        problem = "is a directory" if file.is_dir() else "does not exist"
        fail(f"file: {file} {problem}", code=2, field="file")
    if not dry_run and out_dir.exists() and not out_dir.is_dir():
        fail(f"--out: {out_dir} is a file; give a directory (created if missing)", code=2,
             field="out")  # fmt: skip

    def reject(rej: Rejection) -> None:
        if as_json:
            jsonl({"event": "rejected", "row": rej.number, "column": rej.column,
                    "reason": rej.reason})  # fmt: skip
        else:
            say((rej.line(), "yellow"), to_err=True)

    if dry_run:
        from contentgen.batch.estimate import estimate_file

        async def estimate(cg: Client) -> Any:
            return await estimate_file(cg, file, reject)

        _print_estimate(run(estimate), as_json)
        return

    async def work(cg: Client) -> Any:
        from contentgen.batch.lock import out_dir_lock
        from contentgen.batch.runner import prepare_out_dir, run_file, validate_file
        from contentgen.production.signals import stop_on_signals

        if quiet or as_json:
            configure_logging("error")  # -q: only errors and totals, not a warning per row
        halted: list[str] = []
        stop = asyncio.Event()

        def on_signal(_sig: object) -> None:
            say(("stopping: no new rows; running calls finish (Ctrl-C again to stop them)",
                 "yellow"), to_err=True)  # fmt: skip

        with out_dir_lock(out_dir):  # before anything is written there
            prepare_out_dir(out_dir, resume=resume)
            plan = await validate_file(cg, file, out_dir, reject)
            if plan.good == 0:
                return None, plan, False, halted
            with stop_on_signals(stop, on_signal=on_signal), \
                    _Progress(plan.good, quiet or as_json) as progress:  # fmt: skip
                summary = await run_file(
                    cg, file, out_dir, fmt=fmt, resume=resume, concurrency=concurrency,
                    stop=stop, on_outcome=_jsonl_outcome if as_json else progress.update,
                    on_halt=halted.append, locked=True,
                )  # fmt: skip
        return summary, plan, stop.is_set() and not halted, halted

    try:
        summary, plan, stopped, halted = run(work)
    except asyncio.CancelledError:  # a second Ctrl-C stopped the running calls
        fail("interrupted: running calls were stopped and their jobs handed back; re-run with "
             "--resume to finish the rest", code=130)  # fmt: skip
    if summary is None:
        fail(f"no valid rows to run ({plan.rejected} rejected; see {out_dir}/rejected.csv)")
    _print_summary(summary, plan.rejected, out_dir, as_json)
    if stopped:
        say(("interrupted: re-run with --resume to finish the rest", "yellow"), to_err=True)
        raise typer.Exit(130)
    if halted:
        fail(f"stopped: {halted[0]}; no new rows were started. Once that is fixed, "
             f"finish the rest with: contentgen batch {file} --out {out_dir} --resume")
    if summary.failed or plan.rejected:
        raise typer.Exit(1)


def _jsonl_outcome(outcome: BatchOutcome, summary: Summary) -> None:
    job = outcome.job
    meta = job.result.metadata if job.result else None
    jsonl({"event": "row", "row": outcome.index, "job_id": str(job.id),
            "status": job.status.value, "reused": outcome.reused, "error": job.error,
            "words": meta.word_count if meta else None,
            "cost": meta.generation_cost if meta else None})  # fmt: skip


class _Progress:
    """A rich progress bar: done/total, failed, cost so far, elapsed, ETA."""

    def __init__(self, total: int, hidden: bool) -> None:
        from rich.progress import (
            BarColumn,
            MofNCompleteColumn,
            Progress,
            TextColumn,
            TimeElapsedColumn,
            TimeRemainingColumn,
        )  # fmt: skip

        self.progress = Progress(
            TextColumn("[bold]batch"), BarColumn(), MofNCompleteColumn(),
            TextColumn("failed {task.fields[failed]}"), TextColumn("${task.fields[cost]:.4f}"),
            TimeElapsedColumn(), TextColumn("eta"), TimeRemainingColumn(),
            console=err.real, disable=hidden,
        )  # fmt: skip
        self.task = self.progress.add_task("batch", total=total, failed=0, cost=0.0)

    def __enter__(self) -> _Progress:
        self.progress.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.progress.stop()

    def update(self, outcome: BatchOutcome, summary: Summary) -> None:
        self.progress.update(self.task, advance=1, failed=summary.failed, cost=summary.cost)


def _print_summary(summary: Summary, rejected: int, out_dir: Path, as_json: bool) -> None:
    if as_json:
        jsonl({"event": "summary", "done": summary.done, "failed": summary.failed,
                "reused": summary.skipped, "rejected": rejected, "cost": summary.cost,
                "clients": {k: vars(v) for k, v in summary.clients.items()}})  # fmt: skip
        return
    from rich.table import Table

    table = Table("client", "pieces", "words", "cost", "failures", title="batch summary")
    for name, t in sorted(summary.clients.items()):
        table.add_row(name, str(t.pieces), str(t.words), f"${t.cost:.4f}", str(t.failures))
    err.print(table)
    say(f"{summary.done} done ({summary.skipped} from earlier runs), {summary.failed} failed, "
        f"{rejected} rejected, ${summary.cost:.4f} → ", str(out_dir / "results.csv"),
        to_err=True)  # fmt: skip


def _print_estimate(dry: DryRun, as_json: bool) -> None:
    total = dry.total
    if as_json:
        rows = [{"client": c, "model": m, **vars(e)} for (c, m), e in dry.by_client_model.items()]
        budgets = [{**status.as_dict(), "estimate": dry.client_estimate(name).cost,
                    "fits": _fits(dry, name)} for name, status in sorted(dry.budgets.items())]
        jsonl({"event": "estimate", "rows": rows, "total": vars(total),
                "rejected": dry.rejected, "budgets": budgets})  # fmt: skip
        return
    from rich.table import Table

    table = Table("client", "model", "rows", "input tokens", "output tokens", "est. cost",
                  title="dry run: estimate (no model called)")  # fmt: skip
    for (client, model), e in sorted(dry.by_client_model.items()):
        cost = f"${e.cost:.6f}" if e.priced else "unknown price"
        tokens = (str(e.input_tokens), str(e.output_tokens))
        table.add_row(client, model, str(e.rows), *tokens, cost)
    table.add_row("total", "", str(total.rows), str(total.input_tokens),
                  str(total.output_tokens), f"${total.cost:.6f}")  # fmt: skip
    out.print(table)
    _print_headroom(dry)
    if dry.rejected:
        say(f"{dry.rejected} row(s) rejected", to_err=True)


def _fits(dry: DryRun, client: str) -> bool | None:
    """Whether the client's estimated rows fit its headroom (None: no budget applies)."""
    headroom = dry.budgets[client].headroom_nanos
    if headroom is None:
        return None
    estimate = dry.client_estimate(client)
    return estimate.priced and round(estimate.cost * 1e9) <= headroom


def _print_headroom(dry: DryRun) -> None:
    """Each client's monthly budget, what is left of it, and whether its rows fit."""
    from rich.table import Table

    from contentgen.budgets import usd

    if not any(s.budget.limit_nanos is not None for s in dry.budgets.values()):
        return
    table = Table("client", "budget", "from", "spent", "reserved", "headroom", "est. cost",
                  "fits", title=f"budgets ({next(iter(dry.budgets.values())).period})")  # fmt: skip
    for name, s in sorted(dry.budgets.items()):
        b, estimate = s.budget, dry.client_estimate(name)
        if b.limit_nanos is None:
            table.add_row(name, "none", "-", usd(s.state.spent_nanos), "-", "-",
                          f"${estimate.cost:.6f}", "-")  # fmt: skip
            continue
        fits = _fits(dry, name)
        verdict = "yes" if fits else ("no: unknown price" if not estimate.priced else "no")
        table.add_row(name, usd(b.limit_nanos), "own" if not b.inherited else b.origin()[5:],
                      usd(s.state.spent_nanos), usd(s.state.reserved_nanos),
                      usd(s.headroom_nanos or 0), f"${estimate.cost:.6f}", verdict)  # fmt: skip
    out.print(table)
