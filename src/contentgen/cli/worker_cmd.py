"""`contentgen worker`, and the job lifecycle commands under `contentgen jobs`: cancel, retry,
recover. (`contentgen jobs` alone still lists jobs: cli/jobs.py.)"""

from __future__ import annotations

import inspect
import uuid
from typing import TYPE_CHECKING, Annotated, Any

import typer

from contentgen.cli import jobs as jobs_list
from contentgen.cli.common import err, fail, out, print_json, run

if TYPE_CHECKING:
    from contentgen.client.local import Client
    from contentgen.models import Job

JobId = Annotated[str, typer.Argument(metavar="JOB_ID", help="A job id, or a unique prefix.")]
AsJson = Annotated[bool, typer.Option("--json", help="The job as JSON on stdout.")]


def _list_unless_subcommand(ctx: typer.Context, **options: Any) -> None:
    if ctx.invoked_subcommand is None:
        jobs_list.jobs(**options)


def _with_list_options() -> None:
    """The group callback takes `contentgen jobs`'s listing options (``jobs_list.jobs``), so
    ``contentgen jobs --client X --status Y`` keeps working beside the subcommands."""
    listing = inspect.signature(jobs_list.jobs, eval_str=True)
    ctx = inspect.Parameter("ctx", inspect.Parameter.POSITIONAL_OR_KEYWORD,
                            annotation=typer.Context)  # fmt: skip
    params = [ctx, *listing.parameters.values()]
    setattr(_list_unless_subcommand, "__signature__", listing.replace(parameters=params))  # noqa: B010
    _list_unless_subcommand.__annotations__ = {p.name: p.annotation for p in params}


_with_list_options()

jobs_app = typer.Typer(
    help="List recent jobs (newest first), or cancel, retry and recover them.",
    invoke_without_command=True,
    no_args_is_help=False,
)
jobs_app.callback()(_list_unless_subcommand)


def _show(job: Job, as_json: bool, verb: str) -> None:
    if as_json:
        print_json(job.status_view())
    else:
        out.print(f"job {job.id} {verb}: {job.status.value}", markup=False)


@jobs_app.command("cancel")
def cancel(job_id: JobId, as_json: AsJson = False) -> None:
    """Cancel a pending or running job (a runner holding it stops; nothing it writes after
    counts). A finished job is refused."""

    async def work(cg: Client) -> Any:
        return await cg.cancel(job_id)

    _show(run(work), as_json, "cancelled")


@jobs_app.command("retry")
def retry(
    job_id: JobId,
    queue: Annotated[
        bool,
        typer.Option("--queue", help="Only queue it, for a running `contentgen worker`."),
    ] = False,
    as_json: AsJson = False,
) -> None:
    """Run a failed or cancelled job again, as a new attempt (its history is kept), and wait
    for it. A completed job is refused."""

    async def work(cg: Client) -> Any:
        if queue and hasattr(cg, "run_submitted"):
            cg.run_submitted = False
        job = await cg.retry(job_id)
        if queue:
            return job, False
        return await wait_or_cancel(cg, job.id)

    job, interrupted = run(work)
    _show(job, as_json, "queued again" if queue else "retried")
    if interrupted:
        fail(f"interrupted: job {job.id} is {job.status.value}", code=130)


@jobs_app.command("recover")
def recover(
    concurrency: Annotated[
        int | None,
        typer.Option("--concurrency", "-j", min=1, max=512, metavar="N",
                     help="Jobs run at once (default: CONTENTGEN_CONCURRENCY)."),
    ] = None,
    as_json: Annotated[bool, typer.Option("--json", help="Counts as JSON on stdout.")] = False,
) -> None:
    """Run, once, every job waiting for a runner: pending ones and ones whose runner vanished
    (its lease expired); then exit. Jobs held by a live runner are left alone."""

    async def work(cg: Client) -> Any:
        return await cg.run_worker(concurrency, once=True)

    stats = run(work)
    counts = dict(stats.by_status)
    if as_json:
        print_json({"runs": stats.runs, **counts})
    elif stats.runs:
        out.print(f"{stats.runs} job(s) run: "
                  + ", ".join(f"{n} {s}" for s, n in sorted(counts.items())))  # fmt: skip
    else:
        out.print("nothing to recover: no pending or abandoned jobs")


def worker(
    concurrency: Annotated[
        int | None,
        typer.Option("--concurrency", "-j", min=1, max=512, metavar="N",
                     help="Jobs run at once (default: CONTENTGEN_CONCURRENCY)."),
    ] = None,
    grace: Annotated[
        float,
        typer.Option("--grace", min=0, metavar="SECONDS",
                     help="On SIGTERM/SIGINT, how long running jobs may finish before they are "
                     "handed back to other workers."),
    ] = 30.0,
) -> None:
    """Run queued jobs from the configured database until SIGTERM or SIGINT (then: stop
    claiming, let running jobs finish for --grace seconds, hand back the rest, exit 0). Any
    number of workers may share one database; each job runs once."""

    async def work(cg: Client) -> Any:
        import asyncio

        from contentgen.production.signals import stop_on_signals

        stop = asyncio.Event()

        def on_signal(sig: object) -> None:
            err.print("stopping: no new jobs; running jobs finish or are handed back",
                      markup=False)  # fmt: skip

        with stop_on_signals(stop, on_signal=on_signal):
            return await cg.run_worker(concurrency, stop=stop, grace=grace)

    stats = run(work)
    err.print(f"worker stopped after {stats.runs} job(s)", markup=False)


async def wait_or_cancel(cg: Client, job_id: uuid.UUID) -> tuple[Job, bool]:
    """Wait for a job; on Ctrl-C (this task cancelled) cancel it at once and return it as it
    ended (``completed`` if it was already), with True for "interrupted"."""
    import asyncio

    from contentgen.errors import Conflict

    try:
        return await cg.wait(job_id), False
    except asyncio.CancelledError:
        task = asyncio.current_task()
        if task is not None:
            task.uncancel()  # handled here: the command reports it and exits 130
    try:
        job = await cg.cancel(job_id)
    except Conflict:  # it finished first
        job = await cg.status(job_id)
    return job, True
