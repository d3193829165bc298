"""`contentgen check FILE.md --client X`: audit a piece against a client's strategy."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer

from contentgen.cli.common import fail, out, print_json, run

if TYPE_CHECKING:
    from contentgen.client.local import Client
    from contentgen.quality.report import ComplianceReport


MEASURED_WIDTH = 16


def render(report: ComplianceReport, label: str) -> list[str]:
    """The report as plain lines (user and model text is never read as markup)."""
    verdict = "passed" if report.passed else "FAILED"
    total = len(report.checks)
    ok = total - len(report.failed)
    lines = [f"{label}: {verdict} (score {report.score:.2f}, {ok}/{total} checks passed)"]
    width = max(len(c.name) for c in report.checks) if report.checks else 0
    for check in report.checks:
        mark = "ok  " if check.passed else "FAIL"
        measured = "-" if check.measured is None else str(check.measured)
        if len(measured) > MEASURED_WIDTH:
            measured = measured[: MEASURED_WIDTH - 1] + "…"
        line = f"  {mark}  {check.name:<{width}}  {measured:<{MEASURED_WIDTH}}"
        line += f"  target {check.target or '-'}"
        if check.message:
            line += f"  ({check.message})"
        lines.append(line)
    return lines


def check(
    file: Annotated[Path, typer.Argument(help="A Markdown piece (front matter allowed).")],
    client: Annotated[
        str | None, typer.Option("--client", "-c", help="Client name or UUID (default: default).")
    ] = None,
    content_type: Annotated[
        str, typer.Option("--type", "-t", help="blog, social or local.")
    ] = "blog",
    length: Annotated[
        str, typer.Option("--length", "-l", help="short, medium or long: the word range when "
                          "the strategy sets none.")
    ] = "medium",
    keyword: Annotated[
        list[str] | None,
        typer.Option("--keyword", "-k", help="A keyword the piece must use, besides the "
                     "strategy's (repeat, or comma-separated)."),
    ] = None,
    as_json: Annotated[bool, typer.Option("--json", help="The report as JSON.")] = False,
) -> None:
    """Check a piece against a client's strategy: exit 0 when every check passes, 1 if not."""
    from contentgen.models import ContentType, Length

    try:
        ctype, size = ContentType(content_type), Length(length)
    except ValueError as exc:
        fail(f"--type/--length: {exc}", 2)
    try:
        text = file.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        fail(f"{file}: cannot read it as UTF-8 text ({exc})", 2)
    keywords = [k.strip() for item in keyword or [] for k in item.split(",") if k.strip()]

    async def work(cg: Client) -> Any:
        from contentgen.errors import InvalidInput
        from contentgen.quality.audit import audit, topic_of

        setup = await cg.effective_setup(client)
        try:
            built = await cg.prompt(client, topic=topic_of(text), content_type=ctype.value,
                                    length=size.value, keywords=keywords)  # fmt: skip
            prompt = built.prompt
        except InvalidInput:
            prompt = ""
        return setup.client.name, audit(text, setup, ctype, length=size, keywords=keywords,
                                        prompt=prompt)  # fmt: skip

    name, report = run(work)
    if as_json:
        print_json({"file": str(file), "client": name, "content_type": ctype.value}
                   | report.model_dump(mode="json"))  # fmt: skip
    else:
        label = f"{file} ({ctype.value}, client {name})"
        for line in render(report, label):
            out.print(line, markup=False, highlight=False)
    if not report.passed:
        raise typer.Exit(1)
