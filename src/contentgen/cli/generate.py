"""`contentgen generate` and `contentgen prompt`."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer

from contentgen.cli.common import fail, run
from contentgen.cli.options import (
    AsJson,
    ClientOpt,
    ContentTypeOpt,
    Keywords,
    LengthOpt,
    ModelOpt,
    PriorityOpt,
    ProviderOpt,
    Topic,
)
from contentgen.cli.output import echo, err, plain, print_json, say
from contentgen.cli.stream_view import StreamView, stream_mode

if TYPE_CHECKING:
    from contentgen.client.local import Client


def _fields(topic: str, ctype: str, keywords: list[str] | None, length: str) -> dict[str, Any]:
    split = [k.strip() for item in keywords or [] for k in item.split(",") if k.strip()]
    return {"topic": read_topic(topic), "content_type": ctype, "keywords": split,
            "length": length}  # fmt: skip


def read_topic(topic: str) -> str:
    """The topic, read from stdin when it is '-'."""
    if topic != "-":
        return topic
    from contentgen.cli.options import read_input

    return read_input(Path("-"), "topic").strip()


def check_out_file(path: Path) -> None:
    """Refuse an --out path that cannot be written, before any model is called."""
    import os

    if path.is_dir():
        fail(f"--out: {path} is a directory; give a file name, e.g. {path / 'post.md'}", 2,
             field="out")  # fmt: skip
    parent = path.parent if str(path.parent) else Path(".")
    if not parent.is_dir():
        fail(f"--out: directory {parent} does not exist; create it first (mkdir -p {parent})",
             2, field="out")  # fmt: skip
    if not os.access(parent, os.W_OK) or (path.exists() and not os.access(path, os.W_OK)):
        fail(f"--out: {path} is not writable", 2, field="out")


def generate(
    topic: Topic,
    content_type: ContentTypeOpt = "blog",
    client: ClientOpt = None,
    keyword: Keywords = None,
    length: LengthOpt = "medium",
    priority: PriorityOpt = "balanced",
    provider: ProviderOpt = None,
    model: ModelOpt = None,
    out_file: Annotated[
        Path | None,
        typer.Option("--out", "-o", metavar="FILE", help="Write the Markdown to FILE."),
    ] = None,
    stream: Annotated[
        bool | None,
        typer.Option(
            "--stream/--no-stream",
            help="Show the text as it is written (default: on when stdout is a terminal; "
            "forced on elsewhere, it goes to stderr).",
        ),
    ] = None,
    as_json: AsJson = False,
) -> None:
    """Generate one piece and print it as Markdown."""
    if provider and not model:
        fail("--provider: give --model too (the provider is prepended to a model name "
             "without '/', e.g. --provider openai --model gpt-4o-mini)", 2,
             field="provider")  # fmt: skip
    if out_file is not None:
        check_out_file(out_file)
    fields = _fields(topic, content_type, keyword, length)
    fields.update(priority=priority, llm_provider=provider, model=model)

    streaming, live = stream_mode(stream, as_json=as_json, to_file=out_file is not None)

    async def work(cg: Client) -> Any:
        from contentgen.cli.worker_cmd import wait_or_cancel
        from contentgen.client.local import LocalClient
        from contentgen.errors import JobFailed

        request = await cg.make_request(client, **fields)
        chosen = await cg.preflight(request)
        if streaming and isinstance(cg, LocalClient):  # a server's jobs are not streamed
            with StreamView(chosen, live=live) as view:
                job_id = await cg.submit(request, on_text=view.feed)
                job, interrupted = await wait_or_cancel(cg, job_id)
        else:
            with err.status(plain("Writing with ", chosen, "…") if chosen else "Writing…",
                            spinner="dots"):  # fmt: skip
                job_id = await cg.submit(request)
                job, interrupted = await wait_or_cancel(cg, job_id)  # Ctrl-C cancels the job
        if job.error is not None and not interrupted:
            raise JobFailed(str(job.id), job.error)
        return job, interrupted

    job, interrupted = run(work)
    if interrupted and job.result is None:
        fail(f"interrupted: job {job.id} {job.status.value}", code=130)
    assert job.result is not None
    meta = job.result.metadata
    if out_file is not None:
        out_file.write_text(job.result.content, encoding="utf-8")
    if as_json:
        print_json(job.status_view())
    elif out_file is None:
        echo(job.result.content)
    cost = f"${meta.generation_cost:.6f}"
    if meta.unpriced_calls:
        cost += f" + {meta.unpriced_calls} call(s) at an unknown price"
    say(("done", "green"), f" job {job.id}: {meta.word_count} words, ", meta.model,
        f", {cost}, {meta.generation_time_ms / 1000:.1f}s",
        *((" → ", str(out_file)) if out_file else ()), to_err=True)  # fmt: skip
    if interrupted:
        fail(f"interrupted: job {job.id} had already completed (shown above)", code=130)


def prompt(
    topic: Topic,
    content_type: ContentTypeOpt = "blog",
    client: ClientOpt = None,
    keyword: Keywords = None,
    length: LengthOpt = "medium",
    as_json: AsJson = False,
) -> None:
    """Show the prompt the Instructions Module builds for a request (no model call)."""
    fields = _fields(topic, content_type, keyword, length)

    async def work(cg: Client) -> Any:
        return await cg.prompt(client, **fields)

    built = run(work)
    if as_json:
        print_json({"prompt": built.prompt, "metadata": built.metadata.model_dump(mode="json")})
        return
    echo(built.prompt)
    md = built.metadata
    say(f"strategy v{md.strategy_version}, template {md.template_version}, keywords: ",
        ", ".join(md.keywords) or "-", to_err=True)  # fmt: skip
