"""`contentgen status` and `contentgen jobs`."""

from __future__ import annotations

from typing import TYPE_CHECKING, Annotated, Any

import typer

from contentgen.cli.common import run
from contentgen.cli.options import AsJson, StatusName
from contentgen.cli.output import echo, one_line, out, print_json, say

if TYPE_CHECKING:
    from contentgen.client.local import Client
    from contentgen.models import ResultMetadata

STATUS_STYLE = {
    "pending": "yellow", "in_progress": "cyan", "completed": "green",
    "failed": "red", "cancelled": "dim",
}  # fmt: skip


def model_label(meta: ResultMetadata) -> str:
    """``openai/gpt-4o-mini``: the model string, with the provider only if it lacks one."""
    if "/" in meta.model or not meta.llm_provider:
        return meta.model
    return f"{meta.llm_provider}/{meta.model}"


def status(
    job_id: Annotated[
        str,
        typer.Argument(
            metavar="JOB_ID", help="A job id, a unique prefix of one, or 'last' (the newest job)."
        ),
    ],
    content: Annotated[
        bool,
        typer.Option("--content", help="Print only the piece's Markdown (nothing else)."),
    ] = False,
    as_json: Annotated[
        bool, typer.Option("--json", help="The reference's GET /status JSON on stdout.")
    ] = False,
) -> None:
    """Show one job: its status, its result's metadata and the piece, or its error."""

    async def work(cg: Client) -> Any:
        if job_id.strip().lower() == "last":
            from contentgen.errors import JobNotFound
            from contentgen.models import JobFilter

            newest = await cg.jobs(JobFilter(limit=1))
            if not newest:
                raise JobNotFound("last")
            return newest[0]
        return await cg.status(job_id)

    job = run(work)
    if as_json:
        print_json(job.status_view())
        return
    if content:
        if job.result is None:
            from contentgen.cli.common import fail

            fail(f"job {job.id} has no content (status {job.status.value})", job_id=job.id)
        echo(job.result.content)
        return
    say(f"job {job.id}  ", (job.status.value, STATUS_STYLE.get(job.status.value, "")))
    say("topic: ", job.params.topic, f"  ({job.params.content_type.value})")
    if job.error:
        say(("error:", "red"), " ", job.error)
    if job.result is None:
        return
    meta = job.result.metadata
    say("title: ", job.result.title)
    say(f"{meta.word_count} words · ", model_label(meta), f" · ${meta.generation_cost:.6f} · "
        f"{meta.generation_time_ms} ms · tokens {meta.token_usage.input} in / "
        f"{meta.token_usage.output} out")  # fmt: skip
    say("keywords used: ", ", ".join(meta.keywords_used) or "-")
    if meta.seo_notes:
        say("notes: ", meta.seo_notes)
    if meta.compliance is not None:  # the strategy checks, one line per failed one
        report = meta.compliance
        say(f"compliance: {report.score:.2f}, {'passed' if report.passed else 'FAILED'} "
            f"({report.mode or '-'} mode, {report.repair_rounds} repair rounds)")  # fmt: skip
        for check in report.failed:
            say(f"  FAIL {check.name}: ", check.message)
    out.rule()
    echo(job.result.content)


def jobs(
    client: Annotated[
        str | None,
        typer.Option("--client", "-c", metavar="CLIENT", help="Only this client's jobs."),
    ] = None,
    status_: Annotated[
        StatusName | None,
        typer.Option("--status", "-s", metavar="STATUS", help="Only jobs with this status "
                     "(pending, in_progress, completed, failed, cancelled).",
                     case_sensitive=False),
    ] = None,
    strategy_version: Annotated[
        int | None,
        typer.Option("--strategy-version", metavar="N", help="Only jobs written under it."),
    ] = None,
    template_version: Annotated[
        str | None,
        typer.Option("--template-version", metavar="VERSION", help="e.g. v2 or builtin-1."),
    ] = None,
    limit: Annotated[
        int, typer.Option("--limit", "-n", min=1, max=10000, metavar="N", help="At most N jobs.")
    ] = 20,
    as_json: AsJson = False,
) -> None:
    """List recent jobs, newest first."""

    async def work(cg: Client) -> Any:
        from contentgen.models import JobFilter, JobStatus

        client_id = (await cg.resolve_client(client)).id if client else None
        st = JobStatus(status_) if status_ else None
        filt = JobFilter(client_id=client_id, status=st, strategy_version=strategy_version,
                         template_version=template_version, limit=limit)  # fmt: skip
        found = await cg.jobs(filt)
        names = {c.id: c.name for c in await cg.list_clients()} if found else {}
        return found, names

    found, names = run(work)
    if as_json:
        print_json([j.status_view() | {"client": names.get(j.client_id)} for j in found])
        return
    if not found:
        say("no jobs yet — try `contentgen generate --topic TOPIC`")
        return
    out.print(_jobs_table(found, names, out.width))


def _jobs_table(found: list[Any], names: dict[Any, str], width: int) -> Any:
    """One line per job that fits ``width`` (80 columns included): id prefix, status, the
    numbers and the date keep their width; client and topic are cut with an ellipsis."""
    from rich.table import Column, Table
    from rich.text import Text

    rows = []
    for j in found:
        meta = j.result.metadata if j.result else None
        rows.append([
            str(j.id)[:8], j.status.value, one_line(names.get(j.client_id, "?")),
            one_line(j.params.topic), str(meta.word_count) if meta else "",
            f"${meta.generation_cost:.4f}" if meta else "", j.created_at.strftime("%m-%d %H:%M"),
        ])  # fmt: skip
    headers = ["job", "status", "client", "topic", "words", "cost", "created"]
    widths = [max(len(h), *(len(r[i]) for r in rows)) for i, h in enumerate(headers)]
    widths[2] = min(widths[2], 14)
    fixed = sum(widths) - widths[3] + len(headers) - 1  # one space between columns
    widths[3] = max(12, min(widths[3], width - fixed))
    table = Table(
        *(Column(h, no_wrap=True, width=w, justify="right" if h in ("words", "cost") else "left")
          for h, w in zip(headers, widths, strict=True)),
        caption="job ids are prefixes: `contentgen status ID`", box=None, pad_edge=False,
        padding=(0, 1, 0, 0), collapse_padding=True,
    )  # fmt: skip
    for row in rows:
        cells = [Text(cell, overflow="ellipsis", no_wrap=True) for cell in row]
        cells[1].stylize(STATUS_STYLE.get(row[1], ""))
        table.add_row(*cells)
    return table
