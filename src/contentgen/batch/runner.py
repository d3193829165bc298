"""Run a batch CSV: validate the whole file first, then stream the good rows through the
batch engine, writing each piece, results.csv and the summary as rows finish."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Callable
from contextlib import aclosing
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

from contentgen.batch.csv_input import Rejection, csv_columns
from contentgen.batch.lock import out_dir_lock
from contentgen.batch.output import (
    RejectedWriter,
    ResultsWriter,
    Summary,
    output_name,
    write_piece,
)
from contentgen.batch.rows import ClientResolver, validated_rows
from contentgen.errors import InvalidInput
from contentgen.models import ContentRequest, JobStatus

if TYPE_CHECKING:
    from contentgen.client.local import Client
    from contentgen.production.batch import BatchOutcome


@dataclass
class BatchPlan:
    """What validation found: rows to run and rows rejected."""

    good: int = 0
    rejected: int = 0
    columns: list[str] = field(default_factory=list)


async def validate_file(
    cg: Client, path: Path, out_dir: Path | None, on_reject: Callable[[Rejection], None]
) -> BatchPlan:
    """First pass: check every row before anything is spent; write DIR/rejected.csv."""
    plan = BatchPlan(columns=csv_columns(path) if path.is_file() else [])
    writer = RejectedWriter(out_dir / "rejected.csv", plan.columns) if out_dir else None
    resolver = ClientResolver(cg)
    try:
        async for item in validated_rows(path, resolver):
            if isinstance(item, Rejection):
                plan.rejected += 1
                on_reject(item)
                if writer is not None:
                    writer.add(item)
            else:
                plan.good += 1
    finally:
        if writer is not None:
            writer.close()
    return plan


def prepare_out_dir(out_dir: Path, *, resume: bool) -> None:
    if (out_dir / "results.csv").exists() and not resume:
        raise InvalidInput(
            f"out: {out_dir} already holds results.csv from an earlier run; pass --resume to "
            "continue it (completed rows are not paid for again), or choose another --out",
            field="out",
        )
    out_dir.mkdir(parents=True, exist_ok=True)


async def run_file(
    cg: Client,
    path: Path,
    out_dir: Path,
    *,
    fmt: str = "md",
    resume: bool = False,
    concurrency: int | None = None,
    stop: asyncio.Event | None = None,
    on_outcome: Callable[[BatchOutcome, Summary], None] | None = None,
    on_halt: Callable[[str], None] | None = None,
    locked: bool = False,
) -> Summary:
    """Second pass: run the good rows; returns the totals.

    The output directory is locked while it runs (``Conflict`` when another batch writes
    there); ``locked`` says the caller holds the lock already (``out_dir_lock``)."""
    if not locked:
        with out_dir_lock(out_dir):
            return await run_file(
                cg, path, out_dir, fmt=fmt, resume=resume, concurrency=concurrency, stop=stop,
                on_outcome=on_outcome, on_halt=on_halt, locked=True,
            )  # fmt: skip
    resolver = ClientResolver(cg)
    summary = Summary()
    results = ResultsWriter(out_dir / "results.csv")

    async def requests() -> AsyncIterator[tuple[int, ContentRequest]]:
        async for item in validated_rows(path, resolver):
            if not isinstance(item, Rejection):
                yield item[0].number, item[1]

    def record(outcome: BatchOutcome) -> None:
        job = outcome.job
        client_name = resolver.names.get(job.client_id, str(job.client_id))
        name = ""
        if job.status is JobStatus.COMPLETED:
            name = output_name(outcome.index, job.params.topic, fmt)
            write_piece(out_dir, name, job, client_name, fmt)
        results.add(outcome.index, job, name)
        summary.add(client_name, job, reused=outcome.reused)
        if on_outcome is not None:
            on_outcome(outcome, summary)

    try:
        outcomes = cg.batch(requests(), resume=resume, concurrency=concurrency, stop=stop,
                            on_halt=on_halt)  # fmt: skip
        async with aclosing(outcomes):  # on any error, in-flight jobs are settled at once
            async for outcome in outcomes:
                record(outcome)
    finally:
        results.close()
    return summary
