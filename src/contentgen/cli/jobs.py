"""`contentgen status` and `contentgen jobs`."""

from __future__ import annotations

from typing import TYPE_CHECKING, Annotated, Any

import typer
from rich.table import Table

from contentgen.cli.common import out, print_json, run

if TYPE_CHECKING:
    from contentgen.client.local import Client

STATUS_STYLE = {
    "pending": "yellow", "in_progress": "cyan", "completed": "green",
    "failed": "red", "cancelled": "dim",
}  # fmt: skip


def status(
    job_id: Annotated[str, typer.Argument(help="A job id, or a unique prefix of one.")],
    as_json: Annotated[bool, typer.Option("--json", help="The reference's status JSON.")] = False,
) -> None:
    """Show one job: its status, result metadata or error."""

    async def work(cg: Client) -> Any:
        return await cg.status(job_id)

    job = run(work)
    if as_json:
        print_json(job.status_view())
        return
    style = STATUS_STYLE.get(job.status.value, "")
    out.print(f"job {job.id}  [{style}]{job.status.value}[/{style}]")
    out.print(f"topic: {job.params.topic}  ({job.params.content_type.value})")
    if job.result is not None:
        meta = job.result.metadata
        out.print(f"title: {job.result.title}")
        out.print(
            f"{meta.word_count} words · {meta.llm_provider}/{meta.model} · "
            f"${meta.generation_cost:.6f} · {meta.generation_time_ms} ms · "
            f"tokens {meta.token_usage.input} in / {meta.token_usage.output} out"
        )
        out.print(f"keywords used: {', '.join(meta.keywords_used) or '-'}")
        if meta.seo_notes:
            out.print(f"notes: {meta.seo_notes}", markup=False)
        if meta.compliance is not None:  # the strategy checks, one line per failed one
            report = meta.compliance
            out.print(f"compliance: {report.score:.2f}, {'passed' if report.passed else 'FAILED'}"
                      f" ({report.mode or '-'} mode, {report.repair_rounds} repair rounds)",
                      markup=False)  # fmt: skip
            for check in report.failed:
                out.print(f"  FAIL {check.name}: {check.message}", markup=False)
    if job.error:
        out.print(f"[red]error:[/red] {job.error}")


def jobs(
    client: Annotated[str | None, typer.Option("--client", "-c", help="Name or UUID.")] = None,
    status_: Annotated[str | None, typer.Option("--status", "-s", help="Job status.")] = None,
    strategy_version: Annotated[
        int | None, typer.Option("--strategy-version", help="Only jobs written under it.")
    ] = None,
    template_version: Annotated[
        str | None, typer.Option("--template-version", help="e.g. v2 or builtin-1.")
    ] = None,
    limit: Annotated[int, typer.Option("--limit", "-n", min=1, max=10000)] = 20,
    as_json: Annotated[bool, typer.Option("--json")] = False,
) -> None:
    """List recent jobs, newest first."""

    async def work(cg: Client) -> Any:
        from contentgen.models import JobFilter, JobStatus

        client_id = (await cg.resolve_client(client)).id if client else None
        try:
            st = JobStatus(status_) if status_ else None
        except ValueError:
            from contentgen.errors import InvalidInput

            allowed = ", ".join(s.value for s in JobStatus)
            raise InvalidInput(f"status: must be one of {allowed}", field="status") from None
        filt = JobFilter(client_id=client_id, status=st, strategy_version=strategy_version,
                         template_version=template_version, limit=limit)  # fmt: skip
        found = await cg.jobs(filt)
        names = {c.id: c.name for c in await cg.list_clients()}
        return found, names

    found, names = run(work)
    if as_json:
        print_json([j.status_view() | {"client": names.get(j.client_id)} for j in found])
        return
    from rich.table import Column

    table = Table(
        Column("job", no_wrap=True), Column("status", no_wrap=True), "client", "type",
        Column("topic", overflow="ellipsis", no_wrap=True, max_width=40), "words", "cost",
        Column("created", no_wrap=True), caption="job ids are prefixes: `contentgen status ID`",
    )  # fmt: skip
    for j in found:
        style = STATUS_STYLE.get(j.status.value, "")
        meta = j.result.metadata if j.result else None
        table.add_row(
            str(j.id)[:8], f"[{style}]{j.status.value}[/{style}]", names.get(j.client_id, "?"),
            j.params.content_type.value, j.params.topic,
            str(meta.word_count) if meta else "", f"${meta.generation_cost:.4f}" if meta else "",
            j.created_at.strftime("%m-%d %H:%M"),
        )  # fmt: skip
    out.print(table if found else "no jobs yet — try `contentgen generate --topic ...`")
