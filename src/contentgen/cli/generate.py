"""`contentgen generate` and `contentgen prompt`."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer

from contentgen.cli.common import err, out, print_json, run

if TYPE_CHECKING:
    from contentgen.client.local import Client

Topic = Annotated[str, typer.Option("--topic", help="What to write about (5-1000 chars).")]
CType = Annotated[str, typer.Option("--type", "-t", help="blog | social | local")]
ClientOpt = Annotated[
    str | None, typer.Option("--client", "-c", help="Client name or UUID (default: 'default').")
]
Keywords = Annotated[
    list[str] | None,
    typer.Option("--keyword", "-k", help="Keyword (repeat, or comma-separated); max 10."),
]
LengthOpt = Annotated[str, typer.Option("--length", "-l", help="short | medium | long")]
PriorityOpt = Annotated[str, typer.Option("--priority", help="cost | quality | speed | balanced")]
Provider = Annotated[str | None, typer.Option("--provider", help="LLM provider, e.g. openai.")]
Model = Annotated[
    str | None, typer.Option("--model", "-m", help="Model, e.g. openai/gpt-4o-mini.")
]


def _fields(topic: str, ctype: str, keywords: list[str] | None, length: str) -> dict[str, Any]:
    split = [k.strip() for item in keywords or [] for k in item.split(",") if k.strip()]
    return {"topic": topic, "content_type": ctype, "keywords": split, "length": length}


def generate(
    topic: Topic,
    content_type: CType = "blog",
    client: ClientOpt = None,
    keyword: Keywords = None,
    length: LengthOpt = "medium",
    priority: PriorityOpt = "balanced",
    provider: Provider = None,
    model: Model = None,
    out_file: Annotated[
        Path | None, typer.Option("--out", "-o", help="Write the Markdown here.")
    ] = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print the job as JSON.")] = False,
) -> None:
    """Generate one piece and print it as Markdown."""
    fields = _fields(topic, content_type, keyword, length)
    fields.update(priority=priority, llm_provider=provider, model=model)

    async def work(cg: Client) -> Any:
        from contentgen.errors import JobFailed

        request = await cg.make_request(client, **fields)
        chosen = await cg.preflight(request)
        with err.status(f"Writing with {chosen}…" if chosen else "Writing…", spinner="dots"):
            job_id = await cg.submit(request)
            job = await cg.wait(job_id)
        if job.error is not None:
            raise JobFailed(str(job.id), job.error)
        return job

    job = run(work)
    assert job.result is not None
    meta = job.result.metadata
    if as_json:
        print_json(job.status_view())
    elif out_file is not None:
        out_file.write_text(job.result.content, encoding="utf-8")
    else:
        out.print(job.result.content, markup=False)
    if out_file is not None and as_json:
        out_file.write_text(job.result.content, encoding="utf-8")
    err.print(
        f"[green]done[/green] job {job.id}: {meta.word_count} words, {meta.model}, "
        f"${meta.generation_cost:.6f}, {meta.generation_time_ms / 1000:.1f}s"
        + (f" → {out_file}" if out_file else "")
    )


def prompt(
    topic: Topic,
    content_type: CType = "blog",
    client: ClientOpt = None,
    keyword: Keywords = None,
    length: LengthOpt = "medium",
    as_json: Annotated[bool, typer.Option("--json", help="Prompt and metadata as JSON.")] = False,
) -> None:
    """Show the prompt the Instructions Module builds for a request (no model call)."""
    fields = _fields(topic, content_type, keyword, length)

    async def work(cg: Client) -> Any:
        return await cg.prompt(client, **fields)

    built = run(work)
    if as_json:
        print_json({"prompt": built.prompt, "metadata": built.metadata.model_dump(mode="json")})
    else:
        out.print(built.prompt, markup=False)
        md = built.metadata
        err.print(
            f"strategy v{md.strategy_version}, template {md.template_version}, "
            f"keywords: {', '.join(md.keywords) or '-'}"
        )
